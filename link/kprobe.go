package link

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/linux"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// KprobeOptions are the optional arguments of Kprobe and Kretprobe.
type KprobeOptions struct {
	// Cookie is returned by bpf_get_attach_cookie() in the program
	// (Linux 5.15).
	Cookie uint64
	// Offset of the probe from the start of the symbol, for probing an
	// instruction inside a function (kprobes only; must be an instruction
	// boundary).
	Offset uint64
	// RetprobeMaxActive is how many instances of a kretprobe may be
	// pending at once; 0 leaves the kernel's default. It needs the
	// tracefs interface (the PMU can't express it, Linux 4.12): prefer
	// fexit programs where they are available.
	RetprobeMaxActive int
	// TraceFSPrefix starts the tracefs group name if the probe has to be
	// created in tracefs: "<prefix>_<pid>_<random>". Empty means
	// "bpfkit".
	TraceFSPrefix string
}

// Kprobe attaches prog to the entry of the kernel function symbol (or an
// instruction at opts.Offset into it). prog must be of type Kprobe.
//
// The probe is a perf event of the kprobe PMU (Linux 4.17), or on kernels
// without one a kprobe event in tracefs that Close removes. The program is
// attached with a perf event link (5.15), else with ioctls. A symbol the
// kernel doesn't know gives an error wrapping os.ErrNotExist; a kernel
// without kprobes one wrapping ErrNotSupported. A symbol the kernel doesn't
// know is tried once more with the architecture's system call prefix, so
// "sys_execve" attaches to "__x64_sys_execve" on amd64.
//
// Costs a perf_event_open(2) and a bpf(2) call; the tracefs path writes
// the events file and reads the event's ID.
func Kprobe(symbol string, prog *ebpf.Program, opts *KprobeOptions) (Link, error) {
	return kprobe(symbol, prog, opts, false)
}

// Kretprobe attaches prog to the return of the kernel function symbol, as
// Kprobe does for its entry. opts.RetprobeMaxActive forces the tracefs
// interface.
func Kretprobe(symbol string, prog *ebpf.Program, opts *KprobeOptions) (Link, error) {
	return kprobe(symbol, prog, opts, true)
}

func kprobe(symbol string, prog *ebpf.Program, opts *KprobeOptions, ret bool) (Link, error) {
	if opts == nil {
		opts = &KprobeOptions{}
	}
	args := probeArgs{
		typ:          tracefs.Kprobe,
		symbol:       symbol,
		offset:       opts.Offset,
		ret:          ret,
		retMaxActive: opts.RetprobeMaxActive,
		pid:          -1,
		prefix:       opts.TraceFSPrefix,
	}
	if symbol == "" {
		return nil, fmt.Errorf("%s: empty symbol", args.what())
	}
	if prog == nil {
		return nil, fmt.Errorf("%s: program is nil", args.what())
	}
	if prog.Type() != ebpf.Kprobe {
		return nil, fmt.Errorf("%s: program %s has type %s, want Kprobe", args.what(), prog, prog.Type())
	}
	if opts.RetprobeMaxActive != 0 && !ret {
		return nil, fmt.Errorf("%s: RetprobeMaxActive is for kretprobes", args.what())
	}
	if opts.RetprobeMaxActive < 0 {
		return nil, fmt.Errorf("%s: negative RetprobeMaxActive %d", args.what(), opts.RetprobeMaxActive)
	}

	pe, err := openProbe(args)
	if errors.Is(err, os.ErrNotExist) {
		// A system call named without the architecture's wrapper prefix
		// ("sys_execve" for "__x64_sys_execve"), as cilium/ebpf allows.
		if prefix := linux.SyscallPrefix(); prefix != "" && !strings.HasPrefix(symbol, prefix) {
			prefixed := args
			prefixed.symbol = prefix + symbol
			if pe2, err2 := openProbe(prefixed); err2 == nil {
				pe, err = pe2, nil
			}
		}
	}
	if err != nil {
		return nil, err
	}
	l, err := attachPerfEvent(pe, prog, opts.Cookie)
	if err != nil {
		pe.Close()
		return nil, fmt.Errorf("%s: %w", args.what(), err)
	}
	return l, nil
}
