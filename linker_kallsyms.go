package ebpf

import (
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal/kallsyms"
)

// Reading /proc/kallsyms costs some 25-30 ms a pass (the kernel formats
// ~120,000 lines), more than verifying most programs. The linker asks it
// two questions: the address of a typeless ksym (linker_ksym.go), and which
// module defines a kfunc or typed ksym that vmlinux BTF lacks
// (linker_modules.go). Asked per name and per program, a collection of a
// few programs with weak externs the kernel lacks read it a dozen times.
// A kallsymsCache answers both questions for one load (a program, or every
// program of a collection), asking kallsyms about the names of all its
// programs at once the first time each question comes up.

// Indirections for tests, which count passes over kallsyms.
var (
	kallsymsAddresses = kallsyms.AssignAddresses
	kallsymsModules   = kallsyms.AssignModules
)

// kallsymsCache remembers what one load learnt from /proc/kallsyms. It is
// not safe for concurrent use; a collection loads one program at a time.
type kallsymsCache struct {
	// programs are the instructions whose names the first lookup of each
	// kind asks about along with the name it was called for.
	programs []asm.Instructions

	// addrs holds the typeless ksyms looked up: their addresses, or 0 for
	// those kallsyms lacks, or for all when the kernel hides addresses
	// (restricted).
	addrs        map[string]uint64
	restricted   bool
	batchedAddrs bool

	// owners holds the names looked up that kallsyms has, with their
	// module ("" for the kernel image); missing those it lacks. Misses are
	// remembered for this load only: a module may be loaded later.
	owners         map[string]string
	missing        map[string]bool
	batchedModules bool
}

// newKallsymsCache returns a cache whose first lookups cover the names
// that programs use.
func newKallsymsCache(programs ...asm.Instructions) *kallsymsCache {
	return &kallsymsCache{programs: programs}
}

// kallsymsCacheFor returns a cache whose first lookups cover the names of
// all the programs (of a CollectionSpec).
func kallsymsCacheFor(programs map[string]*ProgramSpec) *kallsymsCache {
	insns := make([]asm.Instructions, 0, len(programs))
	for _, name := range sortedKeys(programs) {
		if p := programs[name]; p != nil {
			insns = append(insns, p.Instructions)
		}
	}
	return newKallsymsCache(insns...)
}

// lookupAddresses looks up the typeless ksyms that insns load and the
// cache doesn't know yet; the first time, together with those of all its
// programs, in one pass. Afterwards address answers for them.
//
// It fails only when kallsyms can't be read or a name in it is ambiguous;
// a symbol kallsyms lacks, or an address the kernel hides, reads as 0.
func (c *kallsymsCache) lookupAddresses(insns asm.Instructions) error {
	want := c.unknownAddresses(nil, insns)
	if len(want) == 0 {
		return nil
	}
	if !c.batchedAddrs {
		c.batchedAddrs = true
		batch := maps.Clone(want)
		for _, p := range c.programs {
			batch = c.unknownAddresses(batch, p)
		}
		if len(batch) > len(want) {
			if err := c.assignAddresses(batch); err == nil {
				return nil
			}
			// A name of another program may be what failed (an ambiguous
			// symbol): ask for this program's names alone, so that an
			// error is that of the program that needs the name.
			want = c.unknownAddresses(nil, insns)
		}
	}
	return c.assignAddresses(want)
}

// unknownAddresses adds to names (allocated if nil and needed) the
// typeless ksyms insns load that the cache has not looked up.
func (c *kallsymsCache) unknownAddresses(names map[string]uint64, insns asm.Instructions) map[string]uint64 {
	for i := range insns {
		meta, _ := insns[i].Metadata.Get(ksymMetaKey{}).(*ksymMeta)
		if meta == nil || !isTypeless(meta.Type) {
			continue
		}
		if _, ok := c.addrs[meta.Name]; ok {
			continue
		}
		if names == nil {
			names = make(map[string]uint64)
		}
		names[meta.Name] = 0
	}
	return names
}

func (c *kallsymsCache) assignAddresses(names map[string]uint64) error {
	err := kallsymsAddresses(names)
	var notFound *kallsyms.NotFoundError
	restricted := errors.Is(err, ErrRestrictedKernel)
	if err != nil && !restricted && !errors.As(err, &notFound) {
		return fmt.Errorf("kernel symbols: %w", err)
	}
	c.restricted = c.restricted || restricted
	if c.addrs == nil {
		c.addrs = make(map[string]uint64, len(names))
	}
	for name, addr := range names {
		if restricted {
			addr = 0
		}
		c.addrs[name] = addr
	}
	return nil
}

// address returns the address of a typeless ksym that lookupAddresses
// covered, 0 if kallsyms lacks it or hides it, and whether it was
// covered.
func (c *kallsymsCache) address(name string) (uint64, bool) {
	addr, ok := c.addrs[name]
	return addr, ok
}

// module returns the module that defines symbol, "" for the kernel image,
// or an error wrapping os.ErrNotExist when kallsyms lacks it. The first
// lookup also asks about every kfunc and typed ksym of the cache's
// programs, in the same pass.
func (c *kallsymsCache) module(symbol string) (string, error) {
	if owner, ok := c.owners[symbol]; ok {
		return owner, nil
	}
	if c.missing[symbol] {
		return "", fmt.Errorf("kallsyms: no symbol %s: %w", symbol, os.ErrNotExist)
	}

	names := map[string]string{symbol: ""}
	if !c.batchedModules {
		c.batchedModules = true
		for _, p := range c.programs {
			c.kernelNames(names, p)
		}
	}
	err := kallsymsModules(names)
	var notFound *kallsyms.NotFoundError
	if err != nil && !errors.As(err, &notFound) {
		return "", err
	}

	if c.owners == nil {
		c.owners = make(map[string]string, len(names))
		c.missing = make(map[string]bool)
	}
	if notFound != nil {
		for _, name := range notFound.Symbols {
			c.missing[name] = true
		}
	}
	for name, owner := range names {
		if !c.missing[name] {
			c.owners[name] = owner
		}
	}
	if c.missing[symbol] {
		return "", fmt.Errorf("kallsyms: no symbol %s: %w", symbol, os.ErrNotExist)
	}
	return c.owners[symbol], nil
}

// kernelNames adds to names the kfuncs and typed ksyms of insns that the
// cache has no answer for.
func (c *kallsymsCache) kernelNames(names map[string]string, insns asm.Instructions) {
	add := func(name string) {
		if _, ok := c.owners[name]; !ok && !c.missing[name] && name != "" {
			names[name] = ""
		}
	}
	for i := range insns {
		md := &insns[i].Metadata
		if meta, _ := md.Get(kfuncMetaKey{}).(*kfuncMeta); meta != nil && meta.Func != nil {
			add(meta.Func.Name)
		}
		if meta, _ := md.Get(ksymMetaKey{}).(*ksymMeta); meta != nil && !isTypeless(meta.Type) {
			add(meta.Name)
		}
	}
}
