package btf

// slabs hands out decoded types and their element slices from larger
// blocks, cutting the number of allocations when a Spec decodes thousands
// of types at once (resolving task_struct pulls in about 6,000). Element
// slices get their capacity clipped to their length, so appending to one
// reallocates instead of overwriting its neighbour.
//
// The price: a type kept alive keeps its block alive. Blocks are small.
type slabs struct {
	ints     []Int
	pointers []Pointer
	arrays   []Array
	structs  []Struct
	unions   []Union
	enums    []Enum
	typedefs []Typedef
	consts   []Const
	funcs    []Func
	protos   []FuncProto
	vars     []Var

	members []Member
	params  []FuncParam
	values  []EnumValue
}

const (
	slabTypes    = 32
	slabElements = 256
)

// one returns a zeroed T from the slab s.
func one[T any](s *[]T) *T {
	if len(*s) == 0 {
		*s = make([]T, slabTypes)
	}
	t := &(*s)[0]
	*s = (*s)[1:]
	return t
}

// many returns n zeroed Ts from the slab s; large requests get their own
// allocation.
func many[T any](s *[]T, n int) []T {
	if n > slabElements/4 {
		return make([]T, n)
	}
	if len(*s) < n {
		*s = make([]T, slabElements)
	}
	out := (*s)[:n:n]
	*s = (*s)[n:]
	return out
}
