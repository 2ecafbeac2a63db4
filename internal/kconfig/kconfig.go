package kconfig

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

const (
	// maxLineLen bounds one line of a config. Real configs stay under a few
	// hundred bytes per line; CONFIG_CMDLINE is the longest kind of value.
	maxLineLen = 64 << 10
	// maxConfigSize bounds the decompressed text, so that a small gzip
	// stream cannot keep the parser busy for long. Real configs are about
	// 300 KiB.
	maxConfigSize = 64 << 20
)

// Find opens the running kernel's configuration: /boot/config-<release>
// (release as reported by uname), then /proc/config.gz (CONFIG_IKCONFIG_PROC).
// The file may be gzip-compressed; Parse decompresses it. The caller closes
// it.
//
// When neither exists the error wraps os.ErrNotExist, so that a loader whose
// externs are all weak can carry on with zero values, as libbpf does.
//
// Cost: one uname(2) and up to two open(2).
func Find() (*os.File, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, fmt.Errorf("kernel config: uname: %w", err)
	}
	release := unix.ByteSliceToString(uts.Release[:])
	return findIn("/boot/config-"+release, "/proc/config.gz")
}

func findIn(paths ...string) (*os.File, error) {
	for _, p := range paths {
		f, err := os.Open(p)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("kernel config: %w", err)
		}
	}
	return nil, fmt.Errorf("kernel config: none of %q exists: %w", paths, os.ErrNotExist)
}

// ParseKernel finds the running kernel's configuration (see Find) and
// returns the values of the names in filter (see Parse).
func ParseKernel(filter map[string]struct{}) (map[string]string, error) {
	if filter != nil && len(filter) == 0 {
		return map[string]string{}, nil
	}
	f, err := Find()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	values, err := Parse(f, filter)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return values, nil
}

var gzipMagic = []byte{0x1f, 0x8b}

// Parse reads a kernel configuration in the format of .config, plain or
// gzip-compressed (detected by its magic bytes), and returns the raw values
// of the names in filter that are set: "y", "m", "n", a number as written
// ("250", "0x1000", "-1") or a quoted string with its quotes and escapes
// ("\"a\\\"b\""). A line "# CONFIG_X is not set" gives "n". When a name
// occurs twice the first value wins, as in libbpf. Names of filter that the
// config lacks are absent from the result. A nil filter returns every name.
//
// Parse stops reading as soon as every name of filter has been found, and
// allocates only for the names it returns. It rejects lines longer than
// 64 KiB, input larger than 64 MiB once decompressed, a CONFIG_ line without
// '=' or value, and a malformed quoted string of a requested name.
func Parse(r io.Reader, filter map[string]struct{}) (map[string]string, error) {
	values := make(map[string]string, len(filter))
	if filter != nil && len(filter) == 0 {
		return values, nil
	}

	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("kernel config: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	limited := &io.LimitedReader{R: src, N: maxConfigSize + 1}
	// bufio.Scanner hands out the partial last line of a failed read before
	// it reports the failure; remember the failure so that a truncated
	// stream is reported as such, not as whatever its last line looks like.
	rec := &errRecorder{r: limited}

	sc := bufio.NewScanner(rec)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		key, value, err := splitLine(sc.Bytes())
		if rec.err != nil {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("kernel config: line %d: %w", lineNo, err)
		}
		if key == nil {
			continue
		}
		if filter != nil {
			if _, ok := filter[string(key)]; !ok {
				continue
			}
		}
		if _, ok := values[string(key)]; ok {
			continue
		}
		if len(value) > 0 && value[0] == '"' {
			if _, err := unquote(value); err != nil {
				return nil, fmt.Errorf("kernel config: line %d: %s: %w", lineNo, key, err)
			}
		}
		values[string(key)] = string(value)
		if filter != nil && len(values) == len(filter) {
			return values, nil
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("kernel config: line %d: longer than %d bytes", lineNo+1, maxLineLen)
		}
		return nil, fmt.Errorf("kernel config: line %d: %w", lineNo+1, err)
	}
	if limited.N <= 0 {
		return nil, fmt.Errorf("kernel config: larger than %d bytes", maxConfigSize)
	}
	return values, nil
}

var (
	configPrefix = []byte("CONFIG_")
	unsetPrefix  = []byte("# CONFIG_")
	unsetSuffix  = []byte(" is not set")
	valueNo      = []byte("n")
)

// splitLine returns the name and raw value of a config line, or a nil name
// for blank lines and comments. It does not allocate.
func splitLine(line []byte) (key, value []byte, err error) {
	line = bytes.TrimRight(line, " \t\r")
	switch {
	case bytes.HasPrefix(line, configPrefix):
		key, value, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			return nil, nil, fmt.Errorf("%.64q: no '=' after the name", line)
		}
		if len(value) == 0 {
			return nil, nil, fmt.Errorf("%s: no value", key)
		}
		return key, value, nil
	case bytes.HasPrefix(line, unsetPrefix) && bytes.HasSuffix(line, unsetSuffix):
		key := line[2 : len(line)-len(unsetSuffix)]
		if bytes.ContainsAny(key, " \t") {
			// A comment that merely looks like the marker.
			return nil, nil, nil
		}
		return key, valueNo, nil
	}
	return nil, nil, nil
}

// unquote decodes a Kconfig string value: it starts and ends with '"', and
// a backslash escapes the byte that follows it (Kconfig escapes '"' and
// '\' this way).
func unquote(value []byte) ([]byte, error) {
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return nil, fmt.Errorf("string %.64q: not enclosed in double quotes", value)
	}
	body := value[1 : len(value)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		if bytes.IndexByte(body, '"') >= 0 {
			return nil, fmt.Errorf("string %.64q: unescaped '\"' inside", value)
		}
		return body, nil
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '\\':
			i++
			if i == len(body) {
				return nil, fmt.Errorf("string %.64q: ends inside an escape", value)
			}
			out = append(out, body[i])
		case '"':
			return nil, fmt.Errorf("string %.64q: unescaped '\"' inside", value)
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

type errRecorder struct {
	r   io.Reader
	err error
}

func (er *errRecorder) Read(p []byte) (int, error) {
	n, err := er.r.Read(p)
	if err != nil && err != io.EOF && er.err == nil {
		er.err = err
	}
	return n, err
}
