package pin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/link"
)

// Pinner is what every pinnable BPF object is: *ebpf.Map, *ebpf.Program
// and link.Link.
type Pinner interface {
	io.Closer
	// Pin pins the object at the path, on a bpffs.
	Pin(string) error
}

// Load opens the object pinned at path and returns it as the type of its
// kind: *ebpf.Map, *ebpf.Program or, for a link, the link.Link type of the
// kernel's link type. The object remembers where it is pinned (IsPinned,
// Unpin), as those of ebpf.LoadPinnedMap, ebpf.LoadPinnedProgram and
// link.LoadPinnedLink do. opts may be nil.
//
// A path that is not a pin (a directory, a file elsewhere) gives an error.
// Cost: BPF_OBJ_GET and a readlink(2) of /proc/self/fd to learn the kind,
// then the loader of that kind (another BPF_OBJ_GET and an info query).
// Requires Linux 4.4 (4.13 for map and program properties, 5.8 for links).
func Load(path string, opts *ebpf.LoadPinOptions) (Pinner, error) {
	kind, err := pinnedKind(path, opts)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "bpf-map":
		return ebpf.LoadPinnedMap(path, opts)
	case "bpf-prog":
		return ebpf.LoadPinnedProgram(path, opts)
	case "bpf-link", "bpf_link": // older kernels say bpf_link
		return link.LoadPinnedLink(path, opts)
	}
	return nil, fmt.Errorf("load pin %s: unknown kind of BPF object %q", path, kind)
}

// pinnedKind opens the pin and returns the name the kernel gives the
// anonymous inode of its kind ("bpf-map", "bpf-prog", "bpf_link" or
// "bpf-link").
func pinnedKind(path string, opts *ebpf.LoadPinOptions) (string, error) {
	fd, err := sys.ObjGet(&sys.ObjGetAttr{
		Pathname:  sys.NewStringPointer(path),
		FileFlags: opts.Marshal(),
	})
	if err != nil {
		return "", fmt.Errorf("load pin %s: %w", path, err)
	}
	defer fd.Close()
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd.Int()))
	runtime.KeepAlive(fd)
	if err != nil {
		return "", fmt.Errorf("load pin %s: can't tell the kind of object without /proc: %w", path, err)
	}
	kind, ok := strings.CutPrefix(target, "anon_inode:")
	if !ok {
		return "", fmt.Errorf("load pin %s: not a BPF object but %s", path, target)
	}
	return kind, nil
}

// Pin is an object that WalkDir found, and where.
type Pin struct {
	// Path is where the object is pinned: the walked directory joined
	// with the path below it.
	Path string
	// Object is what Load returned for Path. WalkDir closes it once the
	// loop body is done with it, unless Take was called.
	Object io.Closer
}

// Take makes the caller the owner of Object, which WalkDir then leaves
// open: the caller must close it.
func (p *Pin) Take() {
	p.Object = nil
}

// close closes Object unless it was taken.
func (p *Pin) close() error {
	if p.Object == nil {
		return nil
	}
	err := p.Object.Close()
	p.Object = nil
	return err
}

var errNotBPFFS = errors.New("not on a BPF file system (bpffs)")
