package ebpf

import (
	"fmt"

	"github.com/bpfkit/ebpf/internal/sys"
)

// Program is a program loaded into the kernel. It owns a file descriptor;
// Close releases it (the kernel frees the program once nothing else, such
// as a link or a pin, holds it).
//
// Methods of Program are safe for concurrent use.
type Program struct {
	// VerifierLog holds the verifier's log when the program was loaded
	// with a log level that asks for one.
	VerifierLog string

	fd         *sys.FD
	name       string
	pinnedPath string
	typ        ProgramType
}

// FD returns the program's file descriptor, or -1 if it is closed. The
// descriptor stays owned by the Program.
func (p *Program) FD() int {
	if p == nil || p.fd == nil {
		return -1
	}
	return p.fd.Int()
}

// Type returns the program's type.
func (p *Program) Type() ProgramType { return p.typ }

// String describes the program.
func (p *Program) String() string {
	if p.name != "" {
		return fmt.Sprintf("%s(%s)#%v", p.typ, p.name, p.fd)
	}
	return fmt.Sprintf("%s(%v)", p.typ, p.fd)
}

// Close releases the program's file descriptor. Closing twice is harmless.
func (p *Program) Close() error {
	if p == nil || p.fd == nil {
		return nil
	}
	return p.fd.Close()
}
