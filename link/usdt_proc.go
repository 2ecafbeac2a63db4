package link

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// What a USDT attachment needs to know about one process: where it mapped
// a file (to find the run-time address of a site for the IP-to-spec-ID map
// on kernels without BPF cookies), and the memory of its semaphores (to
// raise them on kernels without uprobe reference counters, before 4.20).

// procMapping is a line of /proc/PID/maps.
type procMapping struct {
	start, end, offset uint64
	exec               bool
}

type procMappings []procMapping

// containing returns the mapping holding the file offset off (an
// executable one if exec), or nil.
func (ms procMappings) containing(off uint64, exec bool) *procMapping {
	for i := range ms {
		m := &ms[i]
		if exec && !m.exec {
			continue
		}
		if off >= m.offset && off-m.offset < m.end-m.start {
			return m
		}
	}
	return nil
}

// maxMapsLine bounds a line of /proc/PID/maps (paths are at most
// PATH_MAX).
const maxMapsLine = 4096 + 128

// fileMappings lists where process pid mapped the file at path. A mapping
// is the file's if its device and inode are the file's, or, for file
// systems such as overlayfs where those differ from stat's, if it names
// the file's absolute path.
func fileMappings(pid int, path string) (procMappings, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
	}
	name := fmt.Sprintf("/proc/%d/maps", pid)
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	defer f.Close()
	var maps procMappings
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 512), maxMapsLine)
	for sc.Scan() {
		m, dev, ino, file, ok := parseMapsLine(sc.Text())
		if !ok {
			continue
		}
		if (dev == uint64(st.Dev) && ino == st.Ino) || (file != "" && file == abs) {
			maps = append(maps, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(maps) == 0 {
		return nil, fmt.Errorf("process %d has not mapped %s: %w", pid, path, os.ErrNotExist)
	}
	return maps, nil
}

// parseMapsLine reads "start-end perms offset major:minor inode [path]".
func parseMapsLine(line string) (m procMapping, dev, ino uint64, path string, ok bool) {
	fields := strings.SplitN(line, " ", 6)
	if len(fields) < 5 {
		return m, 0, 0, "", false
	}
	lo, hi, ok1 := strings.Cut(fields[0], "-")
	major, minor, ok2 := strings.Cut(fields[3], ":")
	if !ok1 || !ok2 || len(fields[1]) < 3 {
		return m, 0, 0, "", false
	}
	var err error
	num := func(s string, base int) uint64 {
		v, e := strconv.ParseUint(s, base, 64)
		err = errors.Join(err, e)
		return v
	}
	m.start, m.end, m.offset = num(lo, 16), num(hi, 16), num(fields[2], 16)
	dev = unix.Mkdev(uint32(num(major, 16)), uint32(num(minor, 16)))
	ino = num(fields[4], 10)
	m.exec = fields[1][2] == 'x'
	if err != nil || m.end < m.start {
		return m, 0, 0, "", false
	}
	if len(fields) == 6 {
		path = strings.TrimLeft(fields[5], " ")
	}
	return m, dev, ino, path, true
}

// procSemaphore is a semaphore raised in another process's memory.
type procSemaphore struct {
	pid  int
	addr uint64
}

// raiseProcSemaphore increments the 16-bit semaphore at file offset off of
// path in process pid, through /proc/PID/mem. This is the fallback for
// kernels before 4.20, which can't keep semaphores themselves; unlike
// theirs, it is not atomic with respect to other tracers doing the same.
func raiseProcSemaphore(path string, pid int, off uint64) (*procSemaphore, error) {
	maps, err := fileMappings(pid, path)
	if err != nil {
		return nil, err
	}
	m := maps.containing(off, false)
	if m == nil {
		return nil, fmt.Errorf("file offset %#x is in no mapping of %s in process %d", off, path, pid)
	}
	s := &procSemaphore{pid: pid, addr: m.start + off - m.offset}
	if err := s.add(1); err != nil {
		return nil, err
	}
	return s, nil
}

// release decrements the semaphore; a process that has exited needs
// nothing.
func (s *procSemaphore) release() error {
	err := s.add(-1)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EIO) {
		return nil
	}
	return err
}

func (s *procSemaphore) add(delta int) error {
	name := fmt.Sprintf("/proc/%d/mem", s.pid)
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("semaphore at %#x: %w", s.addr, err)
	}
	defer f.Close()
	var b [2]byte
	if _, err := f.ReadAt(b[:], int64(s.addr)); err != nil {
		return fmt.Errorf("read semaphore at %#x in %s: %w", s.addr, name, err)
	}
	v := int(internal.NativeEndian.Uint16(b[:])) + delta
	if v < 0 || v > 0xffff {
		return nil // someone else reset or saturated it: leave it alone
	}
	internal.NativeEndian.PutUint16(b[:], uint16(v))
	if _, err := f.WriteAt(b[:], int64(s.addr)); err != nil {
		return fmt.Errorf("write semaphore at %#x in %s: %w", s.addr, name, err)
	}
	return nil
}
