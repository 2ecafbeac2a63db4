package ebpf

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// loadBTF reads the object's .BTF and .BTF.ext sections. Objects without
// BTF are fine: they get no types, and maps and programs that need BTF fail
// where they need it.
//
// The btf package decodes lazily: this indexes the types, and the phases
// that follow decode only what maps, variables and programs refer to.
func (r *elfReader) loadBTF() error {
	found := false
	for i := range r.sections {
		if r.sections[i].name == ".BTF" {
			found = true
			break
		}
	}
	if !found {
		return nil
	}

	spec, ext, err := btf.LoadSpecAndExtInfosFromReader(bytes.NewReader(r.data))
	if err != nil {
		return fmt.Errorf("load BTF: %w", err)
	}
	r.btf, r.ext = spec, ext
	return nil
}

// datasec returns the BTF datasec of the section called name, or nil if
// the object has none. btf has already given it the section's size and
// placed its variables at their symbols' offsets. index, the section's
// index or -1 for the datasecs that exist only in BTF (.kconfig, .ksyms),
// is no longer needed.
func (r *elfReader) datasec(name string, index int) (*btf.Datasec, error) {
	if r.btf == nil {
		return nil, nil
	}
	var ds *btf.Datasec
	if err := r.btf.TypeByName(name, &ds); err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("BTF of section %q: %w", name, err)
	}
	return ds, nil
}

// extCursor walks the .BTF.ext records of one section in step with its
// instructions: function info, line info and CO-RE relocations, each
// sorted by offset.
type extCursor struct {
	funcs btf.FuncOffsets
	lines btf.LineOffsets
	relos btf.CORERelocationOffsets
}

// extInfos returns a cursor over the .BTF.ext records of section.
func (r *elfReader) extInfos(section string) extCursor {
	funcs, lines, relos := r.ext.Section(section)
	return extCursor{funcs, lines, relos}
}

// assign attaches the records of the instruction at raw, counted from the
// start of the section, to ins. Instructions must come in order; records
// that point between instructions are dropped.
func (c *extCursor) assign(ins *asm.Instruction, raw asm.RawInstructionOffset) {
	for len(c.funcs) > 0 && c.funcs[0].Offset <= raw {
		if c.funcs[0].Offset == raw {
			*ins = btf.WithFuncMetadata(*ins, c.funcs[0].Func)
		}
		c.funcs = c.funcs[1:]
	}
	for len(c.lines) > 0 && c.lines[0].Offset <= raw {
		if c.lines[0].Offset == raw {
			*ins = ins.WithSource(c.lines[0].Line)
		}
		c.lines = c.lines[1:]
	}
	for len(c.relos) > 0 && c.relos[0].Offset <= raw {
		if c.relos[0].Offset == raw {
			*ins = btf.WithCORERelocationMetadata(*ins, c.relos[0].Relo)
		}
		c.relos = c.relos[1:]
	}
}
