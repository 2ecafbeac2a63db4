package ebpf

import (
	"fmt"
	"slices"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// The linker's BTF: global symbols are checked against each other with
// libbpf's rules (glob_sym_btf_matches, map_defs_match), DATASECs are
// merged per output section, and the types of all inputs go through one
// deduplicating btf.Builder. Resolved externs are replaced by the Var or
// Func of the definition that won, everywhere the output refers to them.

// maxLinkBTFDepth bounds the comparison of two types: far deeper than C
// types nest without a pointer (which ends the comparison of contents).
const maxLinkBTFDepth = 64

// btfKindName names the kind of t as libbpf does in its messages.
func btfKindName(t btf.Type) string {
	switch v := t.(type) {
	case *btf.Void:
		return "void"
	case *btf.Int:
		return "int"
	case *btf.Pointer:
		return "ptr"
	case *btf.Array:
		return "array"
	case *btf.Struct:
		return "struct"
	case *btf.Union:
		return "union"
	case *btf.Enum:
		if v.Size == 8 {
			return "enum64"
		}
		return "enum"
	case *btf.Fwd:
		return "fwd"
	case *btf.Typedef:
		return "typedef"
	case *btf.Volatile:
		return "volatile"
	case *btf.Const:
		return "const"
	case *btf.Restrict:
		return "restrict"
	case *btf.Func:
		return "func"
	case *btf.FuncProto:
		return "func_proto"
	case *btf.Var:
		return "var"
	case *btf.Datasec:
		return "datasec"
	case *btf.Float:
		return "float"
	case *btf.DeclTag:
		return "decl_tag"
	case *btf.TypeTag:
		return "type_tag"
	}
	return fmt.Sprintf("%T", t)
}

// skipModsAndTypedefs removes qualifiers, type tags and typedefs.
func skipModsAndTypedefs(t btf.Type) btf.Type {
	for range maxLinkBTFDepth {
		switch v := t.(type) {
		case *btf.Typedef:
			t = v.Type
		case *btf.Volatile:
			t = v.Type
		case *btf.Const:
			t = v.Type
		case *btf.Restrict:
			t = v.Type
		case *btf.TypeTag:
			t = v.Type
		default:
			return t
		}
	}
	return t
}

// globalsMatch checks a new declaration or definition of g, of type typ,
// against what g has so far.
func (l *objectLinker) globalsMatch(g *linkGlobal, obj *linkObject, typ btf.Type) error {
	if g.typ == nil || typ == nil {
		return fmt.Errorf("global %q: BTF info is missing", g.name)
	}
	switch typ.(type) {
	case *btf.Var, *btf.Func:
	default:
		return fmt.Errorf("global %q: only extern variables and functions are supported, but got %s", g.name, btfKindName(typ))
	}
	if g.sec != 0 && l.secs[g.sec].name == ".maps" {
		return mapDefsMatch(g.name, g.typ, typ)
	}
	return newBTFMatcher(g.name).match(true, g.typ, typ, 0)
}

// btfMatcher compares two type graphs once per pair of structs or unions:
// a pair met again is assumed to match (it is being, or was, compared), so
// shared and cyclic types cost linear time.
type btfMatcher struct {
	sym  string
	seen map[[2]btf.Type]bool
}

func newBTFMatcher(sym string) *btfMatcher {
	return &btfMatcher{sym: sym, seen: make(map[[2]btf.Type]bool)}
}

func btfMatches(sym string, exact bool, a, b btf.Type, depth int) error {
	return newBTFMatcher(sym).match(exact, a, b, depth)
}

// btfMatches compares two types the way libbpf compares the types of an
// extern and its definition: qualifiers and typedefs don't count, nor do
// the encoding of integers, array lengths and parameter names; behind a
// pointer only the kind and name of a struct or union count, and a
// forward declaration matches the struct or union it declares.
func (m *btfMatcher) match(exact bool, a, b btf.Type, depth int) error {
	sym := m.sym
	for ; ; depth++ {
		if depth > maxLinkBTFDepth {
			return fmt.Errorf("global %q: types nest more than %d deep", sym, maxLinkBTFDepth)
		}
		a, b = skipModsAndTypedefs(a), skipModsAndTypedefs(b)
		fa, aFwd := a.(*btf.Fwd)
		fb, bFwd := b.(*btf.Fwd)
		if !exact && aFwd != bFwd {
			if a.TypeName() != b.TypeName() {
				return fmt.Errorf("global %q: incompatible forward declaration names %q and %q", sym, a.TypeName(), b.TypeName())
			}
			fwd, other := fa, b
			if bFwd {
				fwd, other = fb, a
			}
			_, isStruct := other.(*btf.Struct)
			_, isUnion := other.(*btf.Union)
			if (fwd.Kind == btf.FwdUnion && isUnion) || (fwd.Kind == btf.FwdStruct && isStruct) {
				return nil
			}
			return fmt.Errorf("global %q: incompatible %s forward declaration and concrete kind %s", sym, fwd.Kind, btfKindName(other))
		}
		if btfKindName(a) != btfKindName(b) {
			return fmt.Errorf("global %q: incompatible BTF kinds %s and %s", sym, btfKindName(a), btfKindName(b))
		}
		switch a.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum, *btf.Fwd, *btf.Func, *btf.Var:
			if a.TypeName() != b.TypeName() {
				return fmt.Errorf("global %q: incompatible %s names %q and %q", sym, btfKindName(a), a.TypeName(), b.TypeName())
			}
		}
		switch x := a.(type) {
		case *btf.Void, *btf.Fwd:
			return nil
		case *btf.Int, *btf.Float, *btf.Enum:
			sa, _ := btf.Sizeof(a)
			sb, _ := btf.Sizeof(b)
			if sa != sb {
				return fmt.Errorf("global %q: incompatible %s %q size %d and %d", sym, btfKindName(a), a.TypeName(), sa, sb)
			}
			return nil
		case *btf.Pointer:
			exact = false
			a, b = x.Target, b.(*btf.Pointer).Target
		case *btf.Array:
			a, b = x.Type, b.(*btf.Array).Type
		case *btf.Func:
			y := b.(*btf.Func)
			if (x.Linkage == btf.StaticFunc) != (y.Linkage == btf.StaticFunc) {
				return fmt.Errorf("global %q: incompatible func %q linkage", sym, x.Name)
			}
			a, b = x.Type, y.Type
		case *btf.Var:
			y := b.(*btf.Var)
			if (x.Linkage == btf.StaticVar) != (y.Linkage == btf.StaticVar) {
				return fmt.Errorf("global %q: incompatible var %q linkage", sym, x.Name)
			}
			a, b = x.Type, y.Type
		case *btf.Struct, *btf.Union:
			if !exact || m.seen[[2]btf.Type{a, b}] {
				return nil
			}
			m.seen[[2]btf.Type{a, b}] = true
			if y, ok := b.(*btf.Struct); ok {
				return m.members("struct", x.(*btf.Struct).Members, y.Members, depth)
			}
			return m.members("union", x.(*btf.Union).Members, b.(*btf.Union).Members, depth)
		case *btf.FuncProto:
			y := b.(*btf.FuncProto)
			if len(x.Params) != len(y.Params) {
				return fmt.Errorf("global %q: incompatible number of func_proto params %d and %d", sym, len(x.Params), len(y.Params))
			}
			for i := range x.Params {
				if err := m.match(exact, x.Params[i].Type, y.Params[i].Type, depth+1); err != nil {
					return err
				}
			}
			a, b = x.Return, y.Return
		default:
			return fmt.Errorf("global %q: unsupported BTF kind %s", sym, btfKindName(a))
		}
	}
}

func (m *btfMatcher) members(kind string, a, b []btf.Member, depth int) error {
	sym := m.sym
	if len(a) != len(b) {
		return fmt.Errorf("global %q: incompatible number of %s fields %d and %d", sym, kind, len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return fmt.Errorf("global %q: incompatible field #%d names %q and %q", sym, i, a[i].Name, b[i].Name)
		}
		if a[i].Offset != b[i].Offset || a[i].BitfieldSize != b[i].BitfieldSize {
			return fmt.Errorf("global %q: incompatible field #%d (%q) offsets", sym, i, a[i].Name)
		}
		if err := m.match(true, a[i].Type, b[i].Type, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// btfMapDef is a BTF map definition (a struct in .maps), as libbpf's
// parse_btf_map_def reads it in strict mode.
type btfMapDef struct {
	mapType, keySize, valueSize, maxEntries, flags, numaNode, pinning uint32
	key, value                                                        btf.Type
	inner                                                             *btfMapDef
}

// parseBTFMapDef reads the map definition that v's type describes.
func parseBTFMapDef(sym string, v btf.Type, depth int) (*btfMapDef, error) {
	if depth > 1 {
		return nil, fmt.Errorf("map %q: inner maps nest too deep", sym)
	}
	s, ok := skipModsAndTypedefs(v).(*btf.Struct)
	if !ok {
		return nil, fmt.Errorf("map %q: definition is a %s, not a struct", sym, btfKindName(skipModsAndTypedefs(v)))
	}
	def := &btfMapDef{}
	hasKeySize, hasValueSize := false, false
	for _, m := range s.Members {
		number := func() (uint32, error) {
			p, ok := skipModsAndTypedefs(m.Type).(*btf.Pointer)
			if !ok {
				return 0, fmt.Errorf("map %q: field %s is not a pointer to an array", sym, m.Name)
			}
			a, ok := skipModsAndTypedefs(p.Target).(*btf.Array)
			if !ok {
				return 0, fmt.Errorf("map %q: field %s is not a pointer to an array", sym, m.Name)
			}
			return a.Nelems, nil
		}
		var err error
		switch m.Name {
		case "type":
			def.mapType, err = number()
		case "max_entries":
			def.maxEntries, err = number()
		case "map_flags":
			def.flags, err = number()
		case "numa_node":
			def.numaNode, err = number()
		case "pinning":
			def.pinning, err = number()
		case "map_extra":
			_, err = number()
		case "key_size", "value_size":
			var n uint32
			if n, err = number(); err != nil {
				break
			}
			if m.Name == "key_size" {
				def.keySize, hasKeySize = n, true
			} else {
				def.valueSize, hasValueSize = n, true
			}
		case "key", "value":
			p, ok := skipModsAndTypedefs(m.Type).(*btf.Pointer)
			if !ok {
				return nil, fmt.Errorf("map %q: field %s is not a pointer", sym, m.Name)
			}
			size, err := btf.Sizeof(p.Target)
			if err != nil {
				return nil, fmt.Errorf("map %q: field %s: %w", sym, m.Name, err)
			}
			if m.Name == "key" {
				if hasKeySize && def.keySize != uint32(size) {
					return nil, fmt.Errorf("map %q: key_size %d conflicts with the key's size %d", sym, def.keySize, size)
				}
				def.key, def.keySize, hasKeySize = p.Target, uint32(size), true
			} else {
				if hasValueSize && def.valueSize != uint32(size) {
					return nil, fmt.Errorf("map %q: value_size %d conflicts with the value's size %d", sym, def.valueSize, size)
				}
				def.value, def.valueSize, hasValueSize = p.Target, uint32(size), true
			}
		case "values":
			a, ok := skipModsAndTypedefs(m.Type).(*btf.Array)
			if !ok {
				return nil, fmt.Errorf("map %q: field values is not an array", sym)
			}
			p, ok := skipModsAndTypedefs(a.Type).(*btf.Pointer)
			if !ok {
				return nil, fmt.Errorf("map %q: field values is not an array of pointers", sym)
			}
			if _, ok := skipModsAndTypedefs(p.Target).(*btf.FuncProto); ok {
				// A program array's initial programs.
				break
			}
			inner, err := parseBTFMapDef(sym+".inner", p.Target, depth+1)
			if err != nil {
				return nil, err
			}
			def.inner = inner
			def.valueSize, hasValueSize = 4, true
		default:
			return nil, fmt.Errorf("map %q: unknown field %q", sym, m.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	return def, nil
}

// mapDefsMatch checks that two declarations of a map in .maps agree in
// every field; libbpf demands this even of an extern map.
func mapDefsMatch(sym string, a, b btf.Type) error {
	va, ok := a.(*btf.Var)
	if !ok {
		return fmt.Errorf("global %q: invalid map definition type %s", sym, btfKindName(a))
	}
	vb, ok := b.(*btf.Var)
	if !ok {
		return fmt.Errorf("global %q: invalid map definition type %s", sym, btfKindName(b))
	}
	da, err := parseBTFMapDef(sym, va.Type, 0)
	if err != nil {
		return fmt.Errorf("global %q: invalid map definition: %w", sym, err)
	}
	db, err := parseBTFMapDef(sym, vb.Type, 0)
	if err != nil {
		return fmt.Errorf("global %q: invalid map definition: %w", sym, err)
	}
	return mapDefsEqual(sym, da, db)
}

func mapDefsEqual(sym string, a, b *btfMapDef) error {
	mismatch := func(what string) error {
		return fmt.Errorf("global %q: map %s mismatch", sym, what)
	}
	switch {
	case a.mapType != b.mapType:
		return mismatch("type")
	case a.keySize != b.keySize:
		return mismatch("key_size")
	case (a.key == nil) != (b.key == nil):
		return mismatch("key type")
	}
	if a.key != nil {
		if err := btfMatches(sym, true, a.key, b.key, 0); err != nil {
			return fmt.Errorf("%w: %w", mismatch("key type"), err)
		}
	}
	switch {
	case a.valueSize != b.valueSize:
		return mismatch("value_size")
	case (a.value == nil) != (b.value == nil):
		return mismatch("value type")
	}
	if a.value != nil {
		if err := btfMatches(sym, true, a.value, b.value, 0); err != nil {
			return fmt.Errorf("%w: %w", mismatch("value type"), err)
		}
	}
	switch {
	case a.maxEntries != b.maxEntries:
		return mismatch("max_entries")
	case a.flags != b.flags:
		return mismatch("map_flags")
	case a.numaNode != b.numaNode:
		return mismatch("numa_node")
	case a.pinning != b.pinning:
		return mismatch("pinning")
	case (a.inner == nil) != (b.inner == nil):
		return mismatch("inner map")
	}
	if a.inner != nil {
		return mapDefsEqual(sym+".inner", a.inner, b.inner)
	}
	return nil
}

// appendDatasecs adds the variables of obj's DATASECs to the output
// sections. A global is listed once, where it first appeared.
func (l *objectLinker) appendDatasecs(obj *linkObject) error {
	if obj.btf == nil {
		return nil
	}
	for t, err := range obj.btf.All() {
		if err != nil {
			return fmt.Errorf("BTF: %w", err)
		}
		ds, ok := t.(*btf.Datasec)
		if !ok || ds.Name == ".extern" {
			continue
		}
		i := obj.section(ds.Name)
		if i < 0 || obj.secs[i].skipped {
			continue
		}
		in := &obj.secs[i]
		sec := l.secs[in.dst]
		sec.hasBTF = true
		for _, v := range ds.Vars {
			var g *linkGlobal
			if nonStatic(v.Type) {
				g = l.globals[v.Type.TypeName()]
				if g == nil {
					continue
				}
				if g.sec != in.dst {
					return fmt.Errorf("global %q: section mismatch %s vs %s", g.name, l.sectionName(g.sec), sec.name)
				}
				if g.varIndex >= 0 {
					continue
				}
				g.varIndex = len(sec.vars)
			}
			off := in.dstOff + uint64(v.Offset)
			if off > 1<<32-1 {
				return fmt.Errorf("section %q: variable %s at offset %d", sec.name, v.Type.TypeName(), off)
			}
			sec.vars = append(sec.vars, linkVar{typ: v.Type, global: g, offset: uint32(off), size: v.Size})
		}
	}
	return nil
}

func (l *objectLinker) sectionName(i int) string {
	if i == 0 {
		return "(none)"
	}
	return l.secs[i].name
}

// appendExtInfos adds the .BTF.ext records of obj to the output sections,
// with their offsets rebased.
func (l *objectLinker) appendExtInfos(obj *linkObject) error {
	if obj.ext == nil {
		return nil
	}
	ext := obj.ext
	for _, name := range extSectionNames(ext.Funcs, ext.Lines, ext.CORERelos) {
		i := obj.section(name)
		if i < 0 || obj.secs[i].ephemeral {
			return fmt.Errorf("section %q referenced from .BTF.ext does not exist", name)
		}
		in := &obj.secs[i]
		if in.skipped {
			continue
		}
		shift := asm.RawInstructionOffset(in.dstOff / asm.InstructionSize)
		sec := l.secs[in.dst].ext
		for _, fo := range ext.Funcs[name] {
			fo.Offset += shift
			sec.Funcs = append(sec.Funcs, fo)
		}
		for _, lo := range ext.Lines[name] {
			lo.Offset += shift
			sec.Lines = append(sec.Lines, lo)
		}
		for _, ro := range ext.CORERelos[name] {
			ro.Offset += shift
			sec.CORERelos = append(sec.CORERelos, ro)
		}
		l.secs[in.dst].ext = sec
	}
	return nil
}

// extSectionNames returns the section names of the three record maps, sorted.
func extSectionNames(f map[string]btf.FuncOffsets, li map[string]btf.LineOffsets, c map[string]btf.CORERelocationOffsets) []string {
	seen := make(map[string]bool)
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for n := range f {
		add(n)
	}
	for n := range li {
		add(n)
	}
	for n := range c {
		add(n)
	}
	slices.Sort(names)
	return names
}

// resolved returns the type the output uses for t: the winning Var or
// Func of a global, t itself otherwise.
func (l *objectLinker) resolved(t btf.Type) btf.Type {
	if nonStatic(t) {
		if g := l.globals[t.TypeName()]; g != nil && g.typ != nil {
			return g.typ
		}
	}
	return t
}

// buildBTF merges the BTF of all inputs and encodes .BTF and .BTF.ext.
func (l *objectLinker) buildBTF() (btfData, extData []byte, _ error) {
	hasBTF := false
	for _, obj := range l.objects {
		hasBTF = hasBTF || obj.btf != nil
	}
	if !hasBTF {
		return nil, nil, nil
	}
	b, err := btf.NewBuilder(nil, &btf.BuilderOptions{Deduplicate: true})
	if err != nil {
		return nil, nil, err
	}
	fwds, err := l.resolveForwards()
	if err != nil {
		return nil, nil, err
	}
	for _, obj := range l.objects {
		if obj.btf == nil {
			continue
		}
		for t, err := range obj.btf.All() {
			if err != nil {
				return nil, nil, fmt.Errorf("%s: BTF: %w", obj.name, err)
			}
			switch t.(type) {
			case *btf.Datasec, *btf.DeclTag:
				// Merged below; decl tags travel in Tags.
				continue
			case *btf.FuncProto:
				// Added with the Func or pointer that refers to it, so
				// that the prototype of a resolved extern goes away.
				continue
			}
			if fwd, ok := t.(*btf.Fwd); ok && fwds[fwd] != nil {
				continue
			}
			if nonStatic(t) && l.globals[t.TypeName()] == nil {
				// The variable of a license or version section that
				// was kept from an earlier object.
				continue
			}
			if _, err := b.Add(l.resolved(t)); err != nil {
				return nil, nil, fmt.Errorf("%s: BTF: %s: %w", obj.name, t, err)
			}
		}
	}
	var exts []btf.ExtSection
	for _, sec := range l.secs[1:] {
		if sec.hasBTF {
			ds := &btf.Datasec{Name: sec.name, Vars: make([]btf.VarSecinfo, 0, len(sec.vars))}
			if !sec.ephemeral {
				if sec.size > 1<<32-1 {
					return nil, nil, fmt.Errorf("section %q: too large for BTF", sec.name)
				}
				ds.Size = uint32(sec.size)
			}
			for _, v := range sec.vars {
				t, size := v.typ, v.size
				if v.global != nil {
					t = v.global.typ
					// The definition that won may have another size
					// than the declaration listed first; an extern of
					// type void (a typeless ksym) keeps its size.
					if vt, ok := t.(*btf.Var); ok {
						if _, void := skipModsAndTypedefs(vt.Type).(*btf.Void); !void {
							n, err := btf.Sizeof(vt.Type)
							if err != nil {
								return nil, nil, fmt.Errorf("global %q: size of its type: %w", v.global.name, err)
							}
							size = uint32(n)
						}
					}
				}
				ds.Vars = append(ds.Vars, btf.VarSecinfo{Type: t, Offset: v.offset, Size: size})
			}
			// The kernel wants them in order; a weak variable that lost
			// moved.
			slices.SortStableFunc(ds.Vars, func(a, b btf.VarSecinfo) int { return int(a.Offset) - int(b.Offset) })
			if _, err := b.Add(ds); err != nil {
				return nil, nil, fmt.Errorf("DATASEC %s: %w", sec.name, err)
			}
		}
		if sec.ext.Funcs == nil && sec.ext.Lines == nil && sec.ext.CORERelos == nil {
			continue
		}
		ext := sec.ext
		ext.Name = sec.name
		funcs := make(btf.FuncOffsets, len(ext.Funcs))
		for i, fo := range ext.Funcs {
			fn, ok := l.resolved(fo.Func).(*btf.Func)
			if !ok {
				return nil, nil, fmt.Errorf("section %q: func info for %s resolves to %s", sec.name, fo.Func.Name, l.resolved(fo.Func))
			}
			funcs[i] = btf.FuncOffset{Offset: fo.Offset, Func: fn}
		}
		ext.Funcs = funcs
		exts = append(exts, ext)
	}
	extData, err = btf.MarshalELFExtInfos(b, l.order, exts)
	if err != nil {
		return nil, nil, fmt.Errorf(".BTF.ext: %w", err)
	}
	btfData, err = b.Marshal(nil, &btf.MarshalOptions{Order: l.order})
	if err != nil {
		return nil, nil, fmt.Errorf(".BTF: %w", err)
	}
	return btfData, extData, nil
}

// resolveForwards replaces forward declarations by the struct or union they
// declare, when the inputs define exactly one of that name and kind, as
// libbpf's BTF dedup does: an object that only points to a struct then
// shares the definition of the object that has it. The inputs' types are
// the linker's own (decoded from its copy of the bytes), so they are
// changed in place. It returns the resolved declarations.
func (l *objectLinker) resolveForwards() (map[*btf.Fwd]btf.Type, error) {
	type key struct {
		name string
		kind btf.FwdKind
	}
	defs := make(map[key][]btf.Type)
	var all []btf.Type
	for _, obj := range l.objects {
		if obj.btf == nil {
			continue
		}
		for t, err := range obj.btf.All() {
			if err != nil {
				return nil, fmt.Errorf("%s: BTF: %w", obj.name, err)
			}
			all = append(all, t)
			var k key
			switch v := t.(type) {
			case *btf.Struct:
				k = key{v.Name, btf.FwdStruct}
			case *btf.Union:
				k = key{v.Name, btf.FwdUnion}
			default:
				continue
			}
			if k.name == "" {
				continue
			}
			// Two different definitions make the name ambiguous; no
			// need to collect more.
			if len(defs[k]) < 2 && !slices.ContainsFunc(defs[k], func(d btf.Type) bool { return sameShape(d, t) }) {
				defs[k] = append(defs[k], t)
			}
		}
	}
	resolved := make(map[*btf.Fwd]btf.Type)
	fix := func(p *btf.Type) {
		fwd, ok := (*p).(*btf.Fwd)
		if !ok {
			return
		}
		if d := defs[key{fwd.Name, fwd.Kind}]; len(d) == 1 {
			resolved[fwd] = d[0]
			*p = d[0]
		}
	}
	for _, t := range all {
		switch v := t.(type) {
		case *btf.Pointer:
			fix(&v.Target)
		case *btf.Typedef:
			fix(&v.Type)
		case *btf.Const:
			fix(&v.Type)
		case *btf.Volatile:
			fix(&v.Type)
		case *btf.Restrict:
			fix(&v.Type)
		case *btf.TypeTag:
			fix(&v.Type)
		case *btf.Array:
			fix(&v.Type)
		case *btf.Var:
			fix(&v.Type)
		case *btf.Struct:
			for i := range v.Members {
				fix(&v.Members[i].Type)
			}
		case *btf.Union:
			for i := range v.Members {
				fix(&v.Members[i].Type)
			}
		case *btf.FuncProto:
			fix(&v.Return)
			for i := range v.Params {
				fix(&v.Params[i].Type)
			}
		}
	}
	return resolved, nil
}

// sameShape compares two types as the deduplicating btf.Builder does: by
// marshaling both into one Builder and seeing whether they get one ID.
func sameShape(a, b btf.Type) bool {
	bld, err := btf.NewBuilder(nil, &btf.BuilderOptions{Deduplicate: true})
	if err != nil {
		return false
	}
	x, err := bld.Add(a)
	if err != nil {
		return false
	}
	y, err := bld.Add(b)
	return err == nil && x == y
}
