package link

import (
	"fmt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// loadPinnedRawLink opens the link pinned at fileName with BPF_OBJ_GET
// file flags (BPF_F_RDONLY, BPF_F_WRONLY). The result remembers the path,
// so Unpin removes it.
func loadPinnedRawLink(fileName string, fileFlags uint32) (*RawLink, error) {
	fd, err := sys.ObjGet(&sys.ObjGetAttr{Pathname: sys.NewStringPointer(fileName), FileFlags: fileFlags})
	if err != nil {
		return nil, fmt.Errorf("load pinned link %s: %w", fileName, err)
	}
	return &RawLink{fd: fd, pinnedPath: fileName}, nil
}

// LoadPinnedLink opens the link pinned at fileName, with the Go type of its
// kernel link type (see NewFromFD). Unpin on the result removes the pin.
// opts may be nil; the kernel opens links read-write only (ReadOnly and
// WriteOnly give EINVAL). Two bpf(2) calls; requires Linux 5.8.
func LoadPinnedLink(fileName string, opts *ebpf.LoadPinOptions) (Link, error) {
	var flags uint32
	if opts != nil {
		flags = opts.Marshal()
	}
	raw, err := loadPinnedRawLink(fileName, flags)
	if err != nil {
		return nil, err
	}
	l, err := wrapRawLink(raw)
	if err != nil {
		return nil, fmt.Errorf("load pinned link %s: %w", fileName, err)
	}
	return l, nil
}
