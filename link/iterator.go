package link

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
)

// Iterator walks every link of the kernel in ID order; its zero value is
// ready. Each Next opens the next link (closing the previous one unless it
// was taken):
//
//	var it link.Iterator
//	defer it.Close()
//	for it.Next() {
//		info, err := it.Link.Info()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
//
// Requires Linux 5.8 and CAP_SYS_ADMIN; two bpf(2) calls per link and one
// more for its type.
type Iterator struct {
	// ID of the current link.
	ID ID
	// Link is the current link, opened by Next; nil after Take.
	Link Link
	err  error
	done bool
}

// maxLinkSkips bounds how many vanished links Next steps over in one call,
// so that a kernel churning links can't keep it busy forever.
const maxLinkSkips = 1 << 16

// Next advances to the next link and opens it. It returns false at the end
// or on error (see Err). Links that disappear between being listed and
// opened are skipped.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	it.closeCurrent()
	for skips := 0; ; skips++ {
		if skips > maxLinkSkips {
			it.fail(fmt.Errorf("link iterator: more than %d links vanished while listing", maxLinkSkips))
			return false
		}
		attr := sys.LinkGetNextIdAttr{StartId: uint32(it.ID)}
		err := sys.LinkGetNextId(&attr)
		if errors.Is(err, unix.ENOENT) {
			it.done = true
			return false
		}
		if err != nil {
			it.fail(fmt.Errorf("link iterator: next ID after %d: %w", it.ID, err))
			return false
		}
		it.ID = ID(attr.NextId)
		l, err := NewFromID(it.ID)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			it.fail(fmt.Errorf("link iterator: %w", err))
			return false
		}
		it.Link = l
		return true
	}
}

// Take hands the current link to the caller, who must close it; Next and
// Close no longer do.
func (it *Iterator) Take() Link {
	l := it.Link
	it.Link = nil
	return l
}

// Err returns the error that ended the walk, or nil at its end.
func (it *Iterator) Err() error {
	return it.err
}

// Close closes the current link (unless taken) and ends the walk.
func (it *Iterator) Close() {
	it.closeCurrent()
	it.done = true
}

func (it *Iterator) closeCurrent() {
	if it.Link != nil {
		it.Link.Close()
		it.Link = nil
	}
}

func (it *Iterator) fail(err error) {
	it.err = err
	it.done = true
}
