package btf

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// LoadSpec reads the BTF of file, an ELF object or a raw BTF blob such as
// /sys/kernel/btf/vmlinux.
//
// Kernel BTF under /sys/kernel/btf is mapped read-only into memory instead
// of read where the kernel allows it (Linux 6.15 and later for vmlinux); the
// mapping is shared by every Spec of the process and is never unmapped, so
// that type names can point into it without copies. Its index is shared
// too: the first call indexes the mapping (a few milliseconds, a few
// hundred KB of heap), later calls only allocate a new Spec over it, like
// LoadKernelSpec. Each Spec still decodes its own types.
func LoadSpec(file string) (*Spec, error) {
	if km, ok := mapKernelBTF(file); ok {
		raw, err := km.index()
		if err != nil {
			return nil, fmt.Errorf("btf %s: %w", file, err)
		}
		return newSpec(raw), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spec, err := LoadSpecFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("btf %s: %w", file, err)
	}
	return spec, nil
}

// LoadSpecFromReader reads BTF from an ELF object or a raw BTF blob.
//
// Returns an error wrapping ErrNotFound if rd is an ELF object without a
// .BTF section.
func LoadSpecFromReader(rd io.ReaderAt) (*Spec, error) {
	spec, _, err := loadSpecFromReader(rd, nil, false)
	return spec, err
}

// LoadSpecAndExtInfosFromReader reads the .BTF and .BTF.ext sections of an
// ELF object. The ExtInfos are nil if the object has no .BTF.ext section.
//
// Returns an error wrapping ErrNotFound if the object has no .BTF section.
func LoadSpecAndExtInfosFromReader(rd io.ReaderAt) (*Spec, *ExtInfos, error) {
	return loadSpecFromReader(rd, nil, true)
}

// LoadSplitSpec reads split BTF, e.g. /sys/kernel/btf/<module>, whose
// types build on those of base. The returned Spec holds only the split
// types (All, TypeByName), but TypeByID also resolves base IDs.
func LoadSplitSpec(file string, base *Spec) (*Spec, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spec, err := LoadSplitSpecFromReader(f, base)
	if err != nil {
		return nil, fmt.Errorf("btf %s: %w", file, err)
	}
	return spec, nil
}

// LoadSplitSpecFromReader is LoadSplitSpec for a reader.
func LoadSplitSpecFromReader(r io.ReaderAt, base *Spec) (*Spec, error) {
	if base == nil {
		return nil, errors.New("split BTF needs a base spec")
	}
	spec, _, err := loadSpecFromReader(r, base.raw, false)
	return spec, err
}

var elfMagic = []byte(elf.ELFMAG)

func loadSpecFromReader(rd io.ReaderAt, base *rawSpec, wantExt bool) (*Spec, *ExtInfos, error) {
	var magic [4]byte
	if _, err := rd.ReadAt(magic[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, fmt.Errorf("read magic: %w", err)
	}
	if _, ok := sniffOrder(magic[:]); !ok && !bytes.Equal(magic[:], elfMagic) {
		return nil, nil, errBadMagic
	}
	if bytes.Equal(magic[:], elfMagic) {
		f, err := elf.NewFile(rd)
		if err != nil {
			return nil, nil, err
		}
		return loadSpecFromELF(f, base, wantExt)
	}
	raw, err := readRawBTF(rd)
	if err != nil {
		return nil, nil, err
	}
	rs, err := newRawSpec(raw, base)
	if err != nil {
		return nil, nil, err
	}
	return newSpec(rs), nil, nil
}

// readRawBTF reads a raw BTF blob: its header first, then exactly as many
// bytes as the header says, in bounded chunks so that a lying header on a
// short input cannot make us allocate much.
func readRawBTF(rd io.ReaderAt) ([]byte, error) {
	var hdr [btfHeaderSize]byte
	if _, err := rd.ReadAt(hdr[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read header: %w", err)
	}
	order, ok := sniffOrder(hdr[:])
	if !ok {
		return nil, errBadMagic
	}
	hdrLen := uint64(order.u32(hdr[btfHeaderHdrLenOff:]))
	typeEnd := uint64(order.u32(hdr[btfHeaderTypeOffOff:])) + uint64(order.u32(hdr[btfHeaderTypeLenOff:]))
	strEnd := uint64(order.u32(hdr[btfHeaderStrOffOff:])) + uint64(order.u32(hdr[btfHeaderStrLenOff:]))
	size := hdrLen + max(typeEnd, strEnd)
	if hdrLen >= hdrKindLayoutLenOff+4 {
		// Include the kind layout section of a longer header.
		var ext [8]byte
		if _, err := rd.ReadAt(ext[:], hdrKindLayoutOffOff); err == nil {
			size = max(size, hdrLen+uint64(order.u32(ext[0:]))+uint64(order.u32(ext[4:])))
		}
	}
	return readBounded(rd, 0, size)
}

// readBounded reads n bytes at off, growing the buffer only as data
// arrives.
func readBounded(rd io.ReaderAt, off int64, n uint64) ([]byte, error) {
	const chunk = 1 << 20
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%d bytes is too large", n)
	}
	buf := make([]byte, 0, min(n, chunk))
	for uint64(len(buf)) < n {
		next := int(min(chunk, n-uint64(len(buf))))
		start := len(buf)
		buf = append(buf, make([]byte, next)...)
		got, err := rd.ReadAt(buf[start:], off+int64(start))
		if got != next {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read %d bytes: %w", n, unexpectedEOF(err))
		}
	}
	return buf, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
