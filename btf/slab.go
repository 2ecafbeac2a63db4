package btf

// slabs hands out decoded types and their element slices in blocks. A
// decode request (decode.go) knows how many types of each kind and how many
// members, parameters and enumerators it needs before it allocates: a large
// request gets one exactly sized block per kind, a small one (most requests
// after the first few, when a Spec decodes types one by one) is cut from a
// slab shared with the Spec's later requests. Element slices get their
// capacity clipped to their length, so appending to one reallocates instead
// of overwriting its neighbour.
//
// The price: a type kept alive keeps its block alive, and with it the
// other types decoded by the same request. Those are mostly what the type
// references anyway.
type slabs struct {
	// shells holds the slabs of types, one per Go type.
	shells

	members  []Member
	params   []FuncParam
	values   []EnumValue
	secinfos []VarSecinfo
}

// Slab sizes, in elements. Requests of more than a quarter of a slab get
// their own block.
const (
	slabTypes    = 32
	slabElements = 256
)

// many returns n zeroed Ts, cut from the slab s (which it refills with
// size elements when needed) or, for n > size/4, in a block of their own.
func many[T any](s *[]T, n, size int) []T {
	if n == 0 {
		return nil
	}
	if n > size/4 {
		return make([]T, n)
	}
	if len(*s) < n {
		*s = make([]T, size)
	}
	out := (*s)[:n:n]
	*s = (*s)[n:]
	return out
}

// next returns a pointer to the first element of *s and removes it.
func next[T any](s *[]T) *T {
	t := &(*s)[0]
	*s = (*s)[1:]
	return t
}

// take cuts the first n elements off *s, clipping their capacity. The
// decoder reserved them; should it have reserved too few, take allocates.
func take[T any](s *[]T, n int) []T {
	if len(*s) < n {
		return make([]T, n)
	}
	out := (*s)[:n:n]
	*s = (*s)[n:]
	return out
}
