package kallsyms

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/bpfkit/ebpf/internal"
)

// Path is the file the package reads.
const Path = "/proc/kallsyms"

// ErrRestrictedKernel means the kernel hides symbol addresses from this
// process: /proc/kallsyms shows every address as zero when
// kernel.kptr_restrict is set or the process lacks CAP_SYSLOG. The root
// package's ErrRestrictedKernel is the same value.
var ErrRestrictedKernel = internal.ErrRestrictedKernel

// ErrAmbiguous means a name occurs in /proc/kallsyms with more than one
// address (static functions of different files may share a name), so it
// cannot stand for one address. libbpf refuses such ksyms too.
var ErrAmbiguous = errors.New("symbol has more than one address")

// NotFoundError lists requested symbols that /proc/kallsyms lacks. It wraps
// os.ErrNotExist. Symbols found in the same call are assigned all the same.
type NotFoundError struct {
	// Symbols in sorted order.
	Symbols []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("kallsyms: no symbol %s", strings.Join(e.Symbols, ", "))
}

// Unwrap makes errors.Is(err, os.ErrNotExist) true.
func (e *NotFoundError) Unwrap() error { return os.ErrNotExist }

func notFound[V any](symbols map[string]V, found func(string) bool) error {
	var missing []string
	for name := range symbols {
		if !found(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return &NotFoundError{Symbols: missing}
}

func withKallsyms(fn func(io.Reader) error) error {
	f, err := os.Open(Path)
	if err != nil {
		return fmt.Errorf("kallsyms: %w", err)
	}
	defer f.Close()
	return fn(f)
}

// AssignAddresses sets the value of every name in symbols to the kernel
// address of that symbol.
//
// It reads all of /proc/kallsyms (one pass, no allocation per line; about
// 25 ms of kernel time for 120,000 symbols), since a name may appear again
// further on with another address: such a name gives an error wrapping
// ErrAmbiguous. A name suffixed by LTO (".llvm.<hash>", for static data)
// matches its plain name. Names that do not occur keep their value and the
// error is a *NotFoundError; when the kernel hides addresses, the error wraps
// ErrRestrictedKernel and found names are set to zero. A loader that allows
// weak externs to stay unresolved tests for both with errors.Is.
func AssignAddresses(symbols map[string]uint64) error {
	if len(symbols) == 0 {
		return nil
	}
	return withKallsyms(func(r io.Reader) error { return assignAddresses(r, symbols) })
}

type addrState struct {
	addr      uint64
	found     bool
	ambiguous bool
	other     uint64 // the second address of an ambiguous symbol
}

var llvmSuffix = []byte(".llvm.")

func assignAddresses(r io.Reader, symbols map[string]uint64) error {
	// The keys of state share the strings of symbols; looking up a
	// []byte converted in the index expression does not allocate.
	state := make(map[string]*addrState, len(symbols))
	for name := range symbols {
		state[name] = &addrState{}
	}

	nonZero := false
	err := scan(r, func(sym *symbol) bool {
		nonZero = nonZero || sym.addr != 0
		st, ok := state[string(sym.name)]
		if !ok && (sym.kind == 'd' || sym.kind == 'D') {
			if i := bytes.Index(sym.name, llvmSuffix); i > 0 {
				st, ok = state[string(sym.name[:i])]
			}
		}
		if !ok {
			return false
		}
		switch {
		case !st.found:
			st.addr, st.found = sym.addr, true
		case st.addr != sym.addr && !st.ambiguous:
			st.ambiguous, st.other = true, sym.addr
		}
		return false
	})
	if err != nil {
		return err
	}

	var ambiguous []string
	for name, st := range state {
		if st.ambiguous {
			ambiguous = append(ambiguous, fmt.Sprintf("%s (%#x and %#x)", name, st.addr, st.other))
		}
	}
	if len(ambiguous) > 0 {
		slices.Sort(ambiguous)
		return fmt.Errorf("kallsyms: %s: %w", strings.Join(ambiguous, ", "), ErrAmbiguous)
	}

	for name, st := range state {
		if st.found {
			symbols[name] = st.addr
		}
	}
	if !nonZero {
		for _, st := range state {
			if st.found {
				return fmt.Errorf("kallsyms: all addresses read as zero: %w", ErrRestrictedKernel)
			}
		}
	}
	return notFound(symbols, func(name string) bool { return state[name].found })
}

// moduleCache remembers the owner of every symbol found so far. Owners
// change only when a module is unloaded and another one that defines the
// same symbol is loaded; a kprobe on a stale answer fails at attach time.
var moduleCache struct {
	sync.Mutex
	owner map[string]string
}

// AssignModules sets the value of every name in symbols to the module that
// owns that symbol, or to "" when the kernel image itself defines it. When
// a name occurs more than once, the first occurrence wins: the kernel image
// is listed before modules and the kernel resolves a plain name the same
// way.
//
// Answers are cached for the life of the process, so that attaching many
// kprobes reads /proc/kallsyms once; a call whose names are all cached makes
// no syscall. Otherwise it reads until every name is found, or to the end
// when one is missing: the error is then a *NotFoundError, and the names
// that were found are assigned.
func AssignModules(symbols map[string]string) error {
	if len(symbols) == 0 {
		return nil
	}

	moduleCache.Lock()
	defer moduleCache.Unlock()

	pending := make(map[string]string, len(symbols))
	for name := range symbols {
		if owner, ok := moduleCache.owner[name]; ok {
			symbols[name] = owner
		} else {
			pending[name] = ""
		}
	}
	if len(pending) == 0 {
		return nil
	}

	found := make(map[string]bool, len(pending))
	err := withKallsyms(func(r io.Reader) error { return assignModules(r, pending, found) })
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if moduleCache.owner == nil {
		moduleCache.owner = make(map[string]string)
	}
	for name, owner := range pending {
		if found[name] {
			symbols[name] = owner
			moduleCache.owner[name] = owner
		}
	}
	return err
}

// Module returns the module that owns the symbol name, or "" for the
// kernel image. The error wraps os.ErrNotExist when no symbol has the name.
// See AssignModules for its cost.
func Module(name string) (string, error) {
	m := map[string]string{name: ""}
	if err := AssignModules(m); err != nil {
		return "", err
	}
	return m[name], nil
}

// assignModules records in found which names of symbols it saw and sets
// their owners. Module names are the only strings it allocates.
func assignModules(r io.Reader, symbols map[string]string, found map[string]bool) error {
	// Use the keys of symbols so that found shares their strings.
	keys := make(map[string]string, len(symbols))
	for name := range symbols {
		keys[name] = name
	}
	remaining := len(symbols)
	err := scan(r, func(sym *symbol) bool {
		key, ok := keys[string(sym.name)]
		if !ok || found[key] {
			return false
		}
		found[key] = true
		symbols[key] = string(sym.module)
		remaining--
		return remaining == 0
	})
	if err != nil {
		return err
	}
	return notFound(symbols, func(name string) bool { return found[name] })
}
