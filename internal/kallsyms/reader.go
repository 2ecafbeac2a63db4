package kallsyms

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// bufferSize is the scanner's buffer and so the longest line it accepts.
// A line is at most an address, a type, a KSYM_NAME_LEN (512) name and a
// module name; the rest of the buffer saves read(2) calls.
const bufferSize = 64 << 10

// symbol is one line of /proc/kallsyms. Its slices point into the scanner's
// buffer and are valid until the next line is read.
type symbol struct {
	addr   uint64
	kind   byte   // nm(1) type letter: T, t, D, d, ...
	name   []byte // without the module
	module []byte // nil for the kernel image
}

// readers keeps scanners' buffers between calls.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufferSize) }}

// scan calls fn for every line of r until fn returns true or the input
// ends. It allocates nothing of its own once its buffer is pooled.
func scan(r io.Reader, fn func(*symbol) (stop bool)) error {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	var sym symbol
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("kallsyms: line %d: longer than %d bytes", lineNo, bufferSize)
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("kallsyms: line %d: %w", lineNo, err)
		}
		if len(line) > 0 {
			if perr := parseLine(line, &sym); perr != nil {
				return fmt.Errorf("kallsyms: line %d: %w", lineNo, perr)
			}
			if fn(&sym) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// parseLine decodes "ffffffff81000000 T _stext" or
// "ffffffffc0025dc0 t bpf_dispatcher_xdp\t[bpf]" into sym without
// allocating.
func parseLine(line []byte, sym *symbol) error {
	line = bytes.TrimSuffix(line, []byte{'\n'})

	sp := bytes.IndexByte(line, ' ')
	if sp < 1 || sp > 16 {
		return fmt.Errorf("%.80q: no address", line)
	}
	var addr uint64
	for _, c := range line[:sp] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return fmt.Errorf("%.80q: address is not hexadecimal", line)
		}
		addr = addr<<4 | uint64(d)
	}
	rest := line[sp+1:]
	if len(rest) < 3 || rest[1] != ' ' || rest[0] == ' ' {
		return fmt.Errorf("%.80q: no type and name", line)
	}

	sym.addr = addr
	sym.kind = rest[0]
	sym.name = rest[2:]
	sym.module = nil
	if tab := bytes.IndexByte(sym.name, '\t'); tab >= 0 {
		mod := sym.name[tab+1:]
		sym.name = sym.name[:tab]
		if len(mod) < 3 || mod[0] != '[' || mod[len(mod)-1] != ']' {
			return fmt.Errorf("%.80q: module is not in brackets", line)
		}
		sym.module = mod[1 : len(mod)-1]
	}
	if len(sym.name) == 0 || bytes.IndexByte(sym.name, ' ') >= 0 {
		return fmt.Errorf("%.80q: bad symbol name", line)
	}
	return nil
}
