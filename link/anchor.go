package link

import (
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// Anchor is a position among the programs and links of a hook that keeps
// an ordered list (tcx, netkit, and BPF_PROG_ATTACH targets that use the
// kernel's multi-program lists, Linux 6.6): the head, the tail, or next to
// a given program or link. The kernel refuses the attachment if the
// reference is not attached there.
type Anchor interface {
	// anchor returns the relative fd or ID and the BPF_F_* flags that
	// select the position.
	anchor() (fdOrID, flags uint32, _ error)
}

// anchorFlags are the attach flags an Anchor sets; options' Flags must not
// contain them.
const anchorFlags = sys.BPF_F_REPLACE | sys.BPF_F_BEFORE | sys.BPF_F_AFTER | sys.BPF_F_ID | sys.BPF_F_LINK

type headAnchor struct{}

func (headAnchor) anchor() (uint32, uint32, error) { return 0, sys.BPF_F_BEFORE, nil }

// Head is the position in front of every other program or link.
func Head() Anchor { return headAnchor{} }

type tailAnchor struct{}

func (tailAnchor) anchor() (uint32, uint32, error) { return 0, sys.BPF_F_AFTER, nil }

// Tail is the position after every other program or link.
func Tail() Anchor { return tailAnchor{} }

// linkAnchor is a position relative to a link held by this process.
type linkAnchor struct {
	target Link
	flags  uint32
}

func (a linkAnchor) anchor() (uint32, uint32, error) {
	fder, ok := a.target.(interface{ FD() int })
	if !ok || a.target == nil {
		return 0, 0, fmt.Errorf("anchor: link %T has no file descriptor", a.target)
	}
	fd := fder.FD()
	if fd < 0 {
		return 0, 0, fmt.Errorf("anchor: link: %w", sys.ErrClosedFd)
	}
	return uint32(fd), a.flags | sys.BPF_F_LINK, nil
}

// BeforeLink is the position just in front of target.
func BeforeLink(target Link) Anchor { return linkAnchor{target, sys.BPF_F_BEFORE} }

// AfterLink is the position just after target.
func AfterLink(target Link) Anchor { return linkAnchor{target, sys.BPF_F_AFTER} }

// idAnchor is a position relative to a program or link given by ID.
type idAnchor struct {
	id    uint32
	flags uint32
}

func (a idAnchor) anchor() (uint32, uint32, error) { return a.id, a.flags | sys.BPF_F_ID, nil }

// BeforeLinkByID is the position just in front of the link with ID target.
func BeforeLinkByID(target ID) Anchor {
	return idAnchor{uint32(target), sys.BPF_F_BEFORE | sys.BPF_F_LINK}
}

// AfterLinkByID is the position just after the link with ID target.
func AfterLinkByID(target ID) Anchor {
	return idAnchor{uint32(target), sys.BPF_F_AFTER | sys.BPF_F_LINK}
}

// programAnchor is a position relative to a program held by this process.
type programAnchor struct {
	target *ebpf.Program
	flags  uint32
}

func (a programAnchor) anchor() (uint32, uint32, error) {
	if a.target == nil {
		return 0, 0, errors.New("anchor: program is nil")
	}
	fd := a.target.FD()
	if fd < 0 {
		return 0, 0, fmt.Errorf("anchor: program %s: %w", a.target, sys.ErrClosedFd)
	}
	return uint32(fd), a.flags, nil
}

// BeforeProgram is the position just in front of target.
func BeforeProgram(target *ebpf.Program) Anchor { return programAnchor{target, sys.BPF_F_BEFORE} }

// AfterProgram is the position just after target.
func AfterProgram(target *ebpf.Program) Anchor { return programAnchor{target, sys.BPF_F_AFTER} }

// ReplaceProgram is target's own position: the new program replaces it.
func ReplaceProgram(target *ebpf.Program) Anchor { return programAnchor{target, sys.BPF_F_REPLACE} }

// BeforeProgramByID is the position just in front of the program with ID
// target.
func BeforeProgramByID(target ebpf.ProgramID) Anchor {
	return idAnchor{uint32(target), sys.BPF_F_BEFORE}
}

// AfterProgramByID is the position just after the program with ID target.
func AfterProgramByID(target ebpf.ProgramID) Anchor {
	return idAnchor{uint32(target), sys.BPF_F_AFTER}
}

// ReplaceProgramByID is the position of the program with ID target, which
// the new program replaces.
func ReplaceProgramByID(target ebpf.ProgramID) Anchor {
	return idAnchor{uint32(target), sys.BPF_F_REPLACE}
}

// anchorArgs returns the relative fd or ID and flags for anchor a combined
// with the caller's flags. A nil anchor adds nothing.
func anchorArgs(a Anchor, flags uint32) (uint32, uint32, error) {
	if flags&anchorFlags != 0 {
		return 0, 0, fmt.Errorf("flags %#x: give the position with an Anchor, not with BPF_F_BEFORE/AFTER/ID/LINK/REPLACE", flags)
	}
	if a == nil {
		return 0, flags, nil
	}
	rel, aflags, err := a.anchor()
	if err != nil {
		return 0, 0, err
	}
	return rel, flags | aflags, nil
}
