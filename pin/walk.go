package pin

import (
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/linux"
)

// WalkDir yields a Pin for every object pinned in the directory tree at
// root, which must be on a bpffs, in lexical order, depth first. Each
// object is open only during its turn of the loop: WalkDir closes it when
// the body continues, unless the body calls Pin.Take.
//
// Errors are yielded as (nil, err): root not being on a bpffs ends the
// walk, while a pin that can't be loaded or a directory that can't be
// read is reported and the walk goes on if the loop continues. opts are
// passed to Load and may be nil.
func WalkDir(root string, opts *ebpf.LoadPinOptions) iter.Seq2[*Pin, error] {
	return func(yield func(*Pin, error) bool) {
		magic, err := linux.FSType(root)
		if err != nil {
			yield(nil, fmt.Errorf("walk pins: %w", err))
			return
		}
		if magic != unix.BPF_FS_MAGIC {
			yield(nil, fmt.Errorf("walk pins: %s is %w", root, errNotBPFFS))
			return
		}

		_ = fs.WalkDir(os.DirFS(root), ".", func(rel string, d fs.DirEntry, err error) error {
			if err != nil {
				// A directory that can't be read: report it, and let
				// the walk skip it if the caller goes on.
				if !yield(nil, fmt.Errorf("walk pins: %w", err)) {
					return fs.SkipAll
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			path := filepath.Join(root, filepath.FromSlash(rel))
			obj, err := Load(path, opts)
			if err != nil {
				if !yield(nil, err) {
					return fs.SkipAll
				}
				return nil
			}
			pin := &Pin{Path: path, Object: obj}
			more := yield(pin, nil)
			pin.close()
			if !more {
				return fs.SkipAll
			}
			return nil
		})
	}
}
