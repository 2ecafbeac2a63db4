package internal

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Version is a kernel version: major, minor, sublevel.
type Version [3]uint16

// NewVersion parses "major[.minor[.sublevel]]".
func NewVersion(s string) (Version, error) {
	var v Version
	m := versionPrefix.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("kernel version %q: not of the form major.minor[.sublevel]", s)
	}
	for i := range v {
		if m[i+1] == "" {
			break
		}
		n, err := strconv.ParseUint(m[i+1], 10, 16)
		if err != nil {
			return Version{}, fmt.Errorf("kernel version %q: %w", s, err)
		}
		v[i] = uint16(n)
	}
	return v, nil
}

var versionPrefix = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?`)

// NewVersionFromCode decodes a LINUX_VERSION_CODE (KERNEL_VERSION(a, b, c)).
func NewVersionFromCode(code uint32) Version {
	return Version{uint16(uint8(code >> 16)), uint16(uint8(code >> 8)), uint16(uint8(code))}
}

func (v Version) String() string {
	if v[2] == 0 {
		return fmt.Sprintf("v%d.%d", v[0], v[1])
	}
	return fmt.Sprintf("v%d.%d.%d", v[0], v[1], v[2])
}

// Less reports whether v is older than other.
func (v Version) Less(other Version) bool {
	for i, a := range v {
		if a != other[i] {
			return a < other[i]
		}
	}
	return false
}

// Unspecified reports whether v is the zero Version.
func (v Version) Unspecified() bool { return v == Version{} }

// Kernel encodes v as LINUX_VERSION_CODE does, clamping the sublevel to 255
// the way the kernel's KERNEL_VERSION macro does since 4.9.256/4.14.218.
func (v Version) Kernel() uint32 {
	sub := v[2]
	if sub > 255 {
		sub = 255
	}
	return uint32(uint8(v[0]))<<16 | uint32(uint8(v[1]))<<8 | uint32(sub)
}

var kernelVersion = sync.OnceValues(detectKernelVersion)

// KernelVersion returns the running kernel's version. It prefers the
// LINUX_VERSION_CODE note of the vDSO, which Debian and Ubuntu set to the
// real upstream version while their uname release string carries an ABI
// number (6.1.0-18-amd64 for 6.1.76); it falls back to uname, reading the
// Debian version from the kernel's version string and the Ubuntu one from
// /proc/version_signature. The result is cached.
func KernelVersion() (Version, error) {
	return kernelVersion()
}

func detectKernelVersion() (Version, error) {
	if code, err := vdsoVersion(); err == nil && code != 0 {
		return NewVersionFromCode(code), nil
	}

	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return Version{}, fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(uts.Release[:])
	version := unix.ByteSliceToString(uts.Version[:])
	sig, _ := os.ReadFile("/proc/version_signature")
	return versionFromUname(release, version, string(sig))
}

var (
	debianVersion = regexp.MustCompile(`Debian (\d+\.\d+\.\d+)`)
	ubuntuVersion = regexp.MustCompile(`^Ubuntu \S+ (\d+\.\d+\.\d+)`)
)

// versionFromUname works out the upstream version from uname's release and
// version fields and from Ubuntu's /proc/version_signature.
func versionFromUname(release, version, signature string) (Version, error) {
	if m := ubuntuVersion.FindStringSubmatch(signature); m != nil {
		return NewVersion(m[1])
	}
	if m := debianVersion.FindStringSubmatch(version); m != nil {
		return NewVersion(m[1])
	}
	return NewVersion(release)
}

// vdsoVersion finds the vDSO through the auxiliary vector and reads the
// LINUX_VERSION_CODE from its "Linux" ELF note.
func vdsoVersion() (uint32, error) {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, err
	}
	const atSysinfoEhdr = 33
	var base uintptr
	word := int(unsafe.Sizeof(uintptr(0)))
	for i := 0; i+2*word <= len(auxv); i += 2 * word {
		tag, val := readWord(auxv[i:], word), readWord(auxv[i+word:], word)
		if tag == atSysinfoEhdr {
			base = uintptr(val)
			break
		}
	}
	if base == 0 {
		return 0, errors.New("no vDSO in auxv")
	}
	// Read the image through /proc/self/mem instead of converting the
	// address to a pointer: the headers bound how far we read.
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return 0, err
	}
	defer mem.Close()
	hdr := make([]byte, 64)
	if _, err := mem.ReadAt(hdr, int64(base)); err != nil {
		return 0, fmt.Errorf("read vDSO header: %w", err)
	}
	size, err := vdsoSize(hdr)
	if err != nil {
		return 0, err
	}
	image := make([]byte, size)
	if _, err := mem.ReadAt(image, int64(base)); err != nil {
		return 0, fmt.Errorf("read vDSO: %w", err)
	}
	return linuxVersionNote(image)
}

func readWord(b []byte, word int) uint64 {
	if word == 8 {
		return NativeEndian.Uint64(b)
	}
	return uint64(NativeEndian.Uint32(b))
}

// vdsoSize computes the extent of the vDSO's section headers from its ELF
// header, the largest offset the note parser may touch.
func vdsoSize(hdr []byte) (int, error) {
	if !bytes.HasPrefix(hdr, []byte(elf.ELFMAG)) || hdr[elf.EI_CLASS] != byte(elf.ELFCLASS64) {
		return 0, errors.New("vDSO is not a 64-bit ELF image")
	}
	shoff := NativeEndian.Uint64(hdr[0x28:])
	shentsize := NativeEndian.Uint16(hdr[0x3a:])
	shnum := NativeEndian.Uint16(hdr[0x3c:])
	end := shoff + uint64(shentsize)*uint64(shnum)
	if end > 1<<20 {
		return 0, errors.New("vDSO section headers out of range")
	}
	return int(end), nil
}

func linuxVersionNote(image []byte) (uint32, error) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return 0, fmt.Errorf("parse vDSO: %w", err)
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOTE {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			continue
		}
		if code, ok := findVersionNote(data, f.ByteOrder); ok {
			return code, nil
		}
	}
	return 0, errors.New("no LINUX_VERSION_CODE note in vDSO")
}

// findVersionNote walks ELF notes for name "Linux", type 0, 4-byte desc.
func findVersionNote(data []byte, bo binary.ByteOrder) (uint32, bool) {
	align4 := func(n uint32) uint32 { return (n + 3) &^ 3 }
	for len(data) >= 12 {
		namesz, descsz, typ := bo.Uint32(data), bo.Uint32(data[4:]), bo.Uint32(data[8:])
		data = data[12:]
		if uint64(align4(namesz)) > uint64(len(data)) {
			return 0, false
		}
		name := data[:namesz]
		data = data[align4(namesz):]
		if uint64(align4(descsz)) > uint64(len(data)) {
			return 0, false
		}
		desc := data[:descsz]
		data = data[align4(descsz):]
		if typ == 0 && descsz == 4 && string(bytes.TrimRight(name, "\x00")) == "Linux" {
			return bo.Uint32(desc), true
		}
	}
	return 0, false
}
