package ebpf

import (
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/btf"
	"golang.org/x/sys/unix"
)

// A struct_ops map is a variable of a kernel "ops" struct type (such as
// tcp_congestion_ops) in .struct_ops or .struct_ops.link. Its function
// pointer members point at STRUCT_OPS programs through relocations; its
// other members hold data (a name, flags). Each variable becomes a
// StructOpsMap spec whose single value holds the variable's bytes and whose
// value type is the object's own definition of the struct; the loader
// translates it to the kernel's layout. Each program a member points at
// gets AttachTo "struct:member". Maps from .struct_ops.link carry
// BPF_F_LINK: they are attached through a link (Linux 6.4) instead of
// registering when their value is set. Each map's StructOpsPrograms
// records which program each member points at: AttachTo alone can't tell
// two maps of one struct type apart.

// structOpsVar remembers where a struct_ops map's bytes are, to find the
// programs its members point at once programs are read.
type structOpsVar struct {
	section int
	offset  uint32
	typ     *btf.Struct
	spec    *MapSpec
}

func (r *elfReader) loadStructOpsMaps() error {
	for i := range r.sections {
		if r.kinds[i] != structOpsSection {
			continue
		}
		sec := &r.sections[i]
		if err := r.loadStructOpsSection(i, sec); err != nil {
			return fmt.Errorf("section %q: %w", sec.name, err)
		}
	}
	return nil
}

func (r *elfReader) loadStructOpsSection(index int, sec *elfSection) error {
	if r.btf == nil {
		return errors.New("struct_ops maps need BTF, but the object has none")
	}
	ds, err := r.datasec(sec.name, index)
	if err != nil {
		return err
	}
	if ds == nil {
		return errors.New("no BTF for the section")
	}
	data, err := r.sectionData(sec)
	if err != nil {
		return err
	}
	var flags uint32
	if sec.name == structOpsLinkSectionName {
		flags = unix.BPF_F_LINK
	}
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("BTF datasec holds %s, not a variable", vsi.Type)
		}
		st, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
		if !ok {
			return fmt.Errorf("map %q: %s is not a struct", v.Name, v.Type)
		}
		if uint64(vsi.Offset)+uint64(st.Size) > uint64(len(data)) {
			return fmt.Errorf("map %q: %d bytes at offset %d are beyond the end of the section", v.Name, st.Size, vsi.Offset)
		}
		if r.maps[v.Name] != nil {
			return fmt.Errorf("map %q: defined twice", v.Name)
		}
		value := append([]byte(nil), data[vsi.Offset:vsi.Offset+st.Size]...)
		ms := &MapSpec{
			Name:              v.Name,
			Type:              StructOpsMap,
			KeySize:           4,
			ValueSize:         st.Size,
			MaxEntries:        1,
			Flags:             flags,
			Key:               &btf.Int{Size: 4},
			Value:             st,
			Contents:          []MapKV{{Key: uint32(0), Value: value}},
			StructOpsPrograms: map[string]string{},
		}
		r.maps[v.Name] = ms
		r.structOps = append(r.structOps, structOpsVar{index, vsi.Offset, st, ms})
	}
	return nil
}

// associateStructOps fills StructOpsPrograms of the struct_ops maps and
// sets AttachTo of the programs they point at. A program can implement
// only one member of one struct (the kernel loads it for that member),
// but that member in any number of maps.
func (r *elfReader) associateStructOps() error {
	for _, so := range r.structOps {
		sec := &r.sections[so.section]
		for _, m := range so.typ.Members {
			rel, ok := relocAt(r.relocs[so.section], uint64(so.offset)+uint64(m.Offset.Bytes()))
			if !ok {
				continue
			}
			sym := &r.symbols[rel.symbol]
			name := r.symbolName(sym)
			prog := r.progs[name]
			if prog == nil {
				return fmt.Errorf("section %q: %s.%s: %q is not a program", sec.name, so.typ.Name, m.Name, name)
			}
			if prog.Type != StructOps {
				return fmt.Errorf("section %q: %s.%s: program %q is a %s program, not StructOps", sec.name, so.typ.Name, m.Name, name, prog.Type)
			}
			attachTo := so.typ.Name + ":" + m.Name
			if prog.AttachTo != "" && prog.AttachTo != attachTo {
				return fmt.Errorf("section %q: %s.%s: program %q already implements %s", sec.name, so.typ.Name, m.Name, name, prog.AttachTo)
			}
			prog.AttachTo = attachTo
			so.spec.StructOpsPrograms[m.Name] = name
		}
	}
	return nil
}
