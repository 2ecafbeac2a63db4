package btf

import "math"

// slabs hands out decoded types and their element slices in blocks. A
// decode request (decode.go) knows how many types of each kind and how many
// members, parameters and enumerators it needs before it allocates: a large
// request gets one exactly sized block per kind, a small one (most requests
// after the first few, when a Spec decodes types one by one) is cut from a
// slab shared with the Spec's later requests. Element slices get their
// capacity clipped to their length, so appending to one reallocates instead
// of overwriting its neighbour.
//
// A slab never holds more than the Spec's blobs have left to decode: the
// index counts the types of each kind and their elements, and every
// request's share is subtracted. So the Spec of a small object, whose
// whole BTF is a few dozen types, gets slabs of a few dozen types, while
// vmlinux gets full ones.
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

	// left is what the blobs hold that no request has taken yet; set on
	// first use.
	left    slabBudget
	counted bool
}

// slabBudget counts types by Go type and their elements. The counts of one
// blob fit an int32: types take 12 bytes or more of a section of at most
// 4 GB, elements 8 or more.
type slabBudget struct {
	shells                            [tagTypeTag + 1]int32
	members, params, values, secinfos int32
}

// add adds o to b, saturating: a budget only limits slab sizes.
func (b *slabBudget) add(o *slabBudget) {
	sat := func(x, y int32) int32 { return int32(min(int64(x)+int64(y), math.MaxInt32)) }
	for i := range b.shells {
		b.shells[i] = sat(b.shells[i], o.shells[i])
	}
	b.members = sat(b.members, o.members)
	b.params = sat(b.params, o.params)
	b.values = sat(b.values, o.values)
	b.secinfos = sat(b.secinfos, o.secinfos)
}

// Slab sizes, in elements. Requests of more than a quarter of a slab that
// the slab cannot hold get their own block.
const (
	slabTypes    = 32
	slabElements = 256
)

// many returns n zeroed Ts, cut from the slab s if it has room, else,
// for n > size/4, in a block of their own. Otherwise the slab is refilled
// with up to size elements: no more than n plus what *left says may still
// be asked for. many subtracts n from *left.
func many[T any](s *[]T, n, size int, left *int32) []T {
	if n == 0 {
		return nil
	}
	// A request that failed and is retried takes its share twice: left
	// may go negative, and only limits the next slab.
	*left = int32(max(int64(*left)-int64(n), math.MinInt32))
	if len(*s) < n {
		if n > size/4 {
			return make([]T, n)
		}
		*s = make([]T, min(size, n+max(int(*left), 0)))
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
