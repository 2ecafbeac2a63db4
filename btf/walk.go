package btf

// children calls fn with the address of every field of t that holds a
// child type, in declaration order, so that callers can read or replace the
// children. It stops when fn returns false and reports whether it ran to
// the end.
func children(t Type, fn func(*Type) bool) bool {
	switch v := t.(type) {
	case *Pointer:
		return fn(&v.Target)
	case *Array:
		return fn(&v.Index) && fn(&v.Type)
	case *Struct:
		for i := range v.Members {
			if !fn(&v.Members[i].Type) {
				return false
			}
		}
	case *Union:
		for i := range v.Members {
			if !fn(&v.Members[i].Type) {
				return false
			}
		}
	case *Typedef:
		return fn(&v.Type)
	case *Volatile:
		return fn(&v.Type)
	case *Const:
		return fn(&v.Type)
	case *Restrict:
		return fn(&v.Type)
	case *Func:
		return fn(&v.Type)
	case *FuncProto:
		if !fn(&v.Return) {
			return false
		}
		for i := range v.Params {
			if !fn(&v.Params[i].Type) {
				return false
			}
		}
	case *Var:
		return fn(&v.Type)
	case *Datasec:
		for i := range v.Vars {
			if !fn(&v.Vars[i].Type) {
				return false
			}
		}
	case *DeclTag:
		return fn(&v.Type)
	case *TypeTag:
		return fn(&v.Type)
	}
	return true
}

// walkTypes visits root and every type reachable from it once, in
// breadth-first order, without recursion. fn returns false to not descend
// into a type's children.
func walkTypes(root Type, fn func(Type) bool) {
	if root == nil {
		return
	}
	seen := map[Type]struct{}{root: {}}
	queue := []Type{root}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if !fn(t) {
			continue
		}
		children(t, func(c *Type) bool {
			if *c == nil {
				return true
			}
			if _, ok := seen[*c]; !ok {
				seen[*c] = struct{}{}
				queue = append(queue, *c)
			}
			return true
		})
	}
}

// Copy returns a deep copy of typ: every type reachable from typ is
// duplicated once, so the copy has the same shape, cycles included. Copy of
// nil is nil.
func Copy(typ Type) Type {
	return newCopier(nil).copy(typ)
}

// CopyWithTransform is Copy with a hook: transform is called with each
// original type and returns its replacement, a new value that may be of
// another kind, or nil for the usual shallow copy. The children of the
// replacement are then copied and transformed in turn, so a transform only
// rewrites the type's own fields. Each type is transformed once, cycles
// included. Use it to strip or rewrite parts of a graph, e.g. to drop tags
// before handing types to an older kernel.
func CopyWithTransform(typ Type, transform func(Type) Type) Type {
	if transform == nil {
		return Copy(typ)
	}
	return newCopier(func(t Type) Type {
		if r := transform(t); r != nil {
			return r
		}
		return t.copy()
	}).copy(typ)
}

// copier copies type graphs, remembering what it copied so that several
// roots copied by one copier share their common parts.
type copier struct {
	copies map[Type]Type
	// transform, if not nil, replaces the shallow copy of each type: it
	// must return a new value (of any kind) whose children are still the
	// original's, or the argument's shallow copy.
	transform func(Type) Type
	work      []*Type
}

func newCopier(transform func(Type) Type) *copier {
	return &copier{copies: make(map[Type]Type), transform: transform}
}

func (c *copier) copy(typ Type) Type {
	if typ == nil {
		return nil
	}
	root := typ
	c.work = append(c.work[:0], &root)
	for len(c.work) > 0 {
		slot := c.work[len(c.work)-1]
		c.work = c.work[:len(c.work)-1]
		orig := *slot
		if orig == nil {
			continue
		}
		if cp, ok := c.copies[orig]; ok {
			*slot = cp
			continue
		}
		var cp Type
		if c.transform != nil {
			cp = c.transform(orig)
		} else {
			cp = orig.copy()
		}
		c.copies[orig] = cp
		*slot = cp
		children(cp, func(child *Type) bool {
			c.work = append(c.work, child)
			return true
		})
	}
	return root
}
