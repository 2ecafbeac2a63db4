package btf

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"sync"
)

// nameIndex finds types by name without decoding them.
//
// It is an open-addressing hash table with one uint32 per slot and about
// 1.3 slots per indexed type. A slot packs the type's index within its
// blob, plus one, into the low idBits (zero marks an empty slot) and the top
// bits of the name's hash into the rest, so a lookup compares names only for
// slots whose hash bits match.
//
// Each blob has two indexes, built on first use: one for functions and one
// for all other named kinds. Of the 70k named types of vmlinux 55k are
// functions, which CO-RE and most TypeByName calls never look for; the
// index of the others costs about 60 KB and well under a millisecond.
//
// Names are hashed straight from the string section, eight bytes at a
// time, without copying them: during the scan that indexes a blob for
// everything but functions, in a separate pass on first use for functions.
type nameIndex struct {
	seed   uint64 // equal to the blob's nameSeed
	size   uint32
	idBits uint
	slots  []uint32
}

// nameClass selects one of the two indexes of a blob.
type nameClass int

const (
	classOther nameClass = iota
	classFunc
)

func classOf(k btfKind) nameClass {
	if k == kindFunc {
		return classFunc
	}
	return classOther
}

// slot maps a hash to a slot without needing a power-of-two size.
func (ni *nameIndex) slot(h uint32) uint32 { return uint32(uint64(h) * uint64(ni.size) >> 32) }

func (ni *nameIndex) next(slot uint32) uint32 {
	if slot++; slot == ni.size {
		return 0
	}
	return slot
}

const (
	hashMul1 = 0x9e3779b97f4a7c15
	hashMul2 = 0xbf58476d1ce4e5b9
)

func hashMix(h, v uint64) uint64 {
	h = (h ^ v) * hashMul1
	return h ^ h>>32
}

func hashFinish(h uint64, n int) uint32 {
	h = (h ^ uint64(n)) * hashMul2
	return uint32(h>>32) ^ uint32(h)
}

// hashName hashes name as a sequence of little-endian 8-byte chunks, the
// last one zero-padded, followed by the length. hashCString computes the
// same value for a NUL-terminated string.
func hashName[S string | []byte](seed uint64, name S) uint32 {
	h := seed
	i := 0
	for ; i+8 <= len(name); i += 8 {
		var v uint64
		for j := 7; j >= 0; j-- {
			v = v<<8 | uint64(name[i+j])
		}
		h = hashMix(h, v)
	}
	if i < len(name) {
		var v uint64
		for j := len(name) - 1; j >= i; j-- {
			v = v<<8 | uint64(name[j])
		}
		h = hashMix(h, v)
	}
	return hashFinish(h, len(name))
}

// hashCString hashes the NUL-terminated string at data[off:] like
// hashName and returns its length. ok is false if there is no NUL.
func hashCString(seed uint64, data []byte, off int) (h32 uint32, n int, ok bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	h := seed
	i := off
	for i+8 <= len(data) {
		v := binary.LittleEndian.Uint64(data[i:])
		// The lowest flagged byte is the first NUL; flags above it may be
		// false positives, which we do not care about.
		if z := (v - ones) & ^v & highs; z != 0 {
			k := bits.TrailingZeros64(z) / 8
			if k > 0 {
				h = hashMix(h, v&(1<<(8*k)-1))
			}
			n = i - off + k
			return hashFinish(h, n), n, true
		}
		h = hashMix(h, v)
		i += 8
	}
	end := bytes.IndexByte(data[i:], 0)
	if end < 0 {
		return 0, 0, false
	}
	if end > 0 {
		var v uint64
		for j := i + end - 1; j >= i; j-- {
			v = v<<8 | uint64(data[j])
		}
		h = hashMix(h, v)
	}
	n = i - off + end
	return hashFinish(h, n), n, true
}

func (ni *nameIndex) frag(h uint32) uint32 { return h >> ni.idBits }

// stringAt returns the table and offset holding the string at off.
func (st *stringTable) locate(off uint32) (*stringTable, uint32, bool) {
	for st.base != nil && off < st.start {
		st = st.base
	}
	if off < st.start || uint64(off-st.start) >= uint64(len(st.data)) {
		return nil, 0, false
	}
	return st, off - st.start, true
}

// nameHash hashes the name at nameOff of a type for the name index. ok is
// false for anonymous types and bad offsets (which fail when decoded).
func (r *rawSpec) nameHash(nameOff uint32) (uint32, bool) {
	if nameOff == 0 {
		return 0, false
	}
	st, rel, ok := r.strings.locate(nameOff)
	if !ok {
		return 0, false
	}
	h, n, ok := hashCString(r.nameSeed, st.data, int(rel))
	return h, ok && n > 0
}

// chunkedList is an append-only list of uint64 that grows without
// copying. Chunks double from the first one's capacity up to listChunk, so
// a small blob gets a small list and vmlinux does not copy megabytes.
type chunkedList struct {
	chunks [][]uint64
	n      int
	// full is the length at which the last chunk is full.
	full int
	// first is the capacity of the first chunk.
	first int
}

const listChunk = 2048

// newChunkedList returns a list whose first chunk holds hint entries,
// clamped to [16, listChunk].
func newChunkedList(hint int) chunkedList {
	return chunkedList{first: min(max(hint, 16), listChunk)}
}

func (l *chunkedList) add(v uint64) {
	if l.n == l.full {
		l.grow()
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, v)
	l.n++
}

// grow appends a chunk; add's loop stays small enough to inline.
func (l *chunkedList) grow() {
	size := l.first
	if len(l.chunks) > 0 {
		size = min(2*cap(l.chunks[len(l.chunks)-1]), listChunk)
	}
	l.chunks = append(l.chunks, make([]uint64, 0, size))
	l.full += size
}

// newNameIndex builds an index from entries of the form hash<<32 | index,
// where index is a type's position in its blob.
func newNameIndex(seed uint64, count uint32, entries chunkedList) *nameIndex {
	ni := &nameIndex{seed: seed, idBits: uint(bits.Len32(count + 1))}
	ni.size = max(uint32(entries.n)+uint32(entries.n)*3/10, 8)
	ni.slots = make([]uint32, ni.size)
	if ni.idBits >= 32 {
		return ni
	}
	for _, chunk := range entries.chunks {
		ni.insert(chunk)
	}
	return ni
}

func (ni *nameIndex) insert(entries []uint64) {
	for _, e := range entries {
		h, i := uint32(e>>32), uint32(e)
		slot := ni.slot(h)
		for ni.slots[slot] != 0 {
			slot = ni.next(slot)
		}
		ni.slots[slot] = ni.frag(h)<<ni.idBits | (i + 1)
	}
}

// buildFuncIndex indexes the names of the functions of r; the index of the
// other kinds is built by scan.
func (r *rawSpec) buildFuncIndex() *nameIndex {
	entries := newChunkedList(int(r.kindCounts().shells[tagFunc]))
	var off uint32
	for i := uint32(0); i < r.count; i++ {
		b := r.types[off:]
		off += r.typeLen(off)
		if infoKind(r.order.u32(b[btfTypeInfoOff:])) != kindFunc {
			continue
		}
		if h, ok := r.nameHash(r.order.u32(b[btfTypeNameOffOff:])); ok {
			entries.add(uint64(h)<<32 | uint64(i))
		}
	}
	return newNameIndex(r.nameSeed, r.count, entries)
}

// lookup calls fn with the ID of every type of r of the given class whose
// name may be name; fn must compare the names.
func (r *rawSpec) lookup(class nameClass, name string, fn func(TypeID)) {
	if class == classFunc {
		r.funcNamesOnce.Do(func() { r.names[classFunc] = r.buildFuncIndex() })
	}
	ni := r.names[class]
	if ni.idBits >= 32 {
		// More types than the packing allows: fall back to a scan.
		for i := uint32(0); i < r.count; i++ {
			fn(r.firstID + TypeID(i))
		}
		return
	}
	h := hashName(ni.seed, name)
	frag := ni.frag(h)
	idMask := uint32(1)<<ni.idBits - 1
	for slot := ni.slot(h); ni.slots[slot] != 0; slot = ni.next(slot) {
		e := ni.slots[slot]
		if e>>ni.idBits == frag {
			fn(r.firstID + TypeID(e&idMask-1))
		}
	}
}

// typesByName returns the IDs of the types of r (not of its bases) of the
// given class whose name is exactly name, in ID order.
func (r *rawSpec) typesByName(class nameClass, name string) []TypeID {
	var ids []TypeID
	r.lookup(class, name, func(id TypeID) {
		if n, err := r.nameOf(id); err == nil && string(n) == name {
			ids = append(ids, id)
		}
	})
	slices.Sort(ids)
	return ids
}

// typesByEssentialName returns the IDs of the non-function types of r
// whose essential name is essential, in ID order: those named essential exactly, and
// flavors of it (essential___suffix), which are rare and found through a
// list of all flavored names built on first use.
func (r *rawSpec) typesByEssentialName(essential string) []TypeID {
	ids := r.typesByName(classOther, essential)
	r.flavorsOnce.Do(r.findFlavors)
	for _, id := range r.flavored {
		if n, err := r.nameOf(id); err == nil && string(essentialNameBytes(n)) == essential {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// findFlavors lists the types whose name has a flavor suffix.
func (r *rawSpec) findFlavors() {
	r.walk(func(id TypeID, off uint32) bool {
		if infoKind(r.order.u32(r.types[off+btfTypeInfoOff:])) == kindFunc {
			return true
		}
		name, err := r.strings.lookupBytes(r.order.u32(r.types[off+btfTypeNameOffOff:]))
		if err == nil && len(essentialNameBytes(name)) != len(name) {
			r.flavored = append(r.flavored, id)
		}
		return true
	})
}

// flavorState is embedded in rawSpec.
type flavorState struct {
	flavorsOnce sync.Once
	flavored    []TypeID
}

// essentialName strips a CO-RE flavor from name: "task_struct___v2"
// becomes "task_struct". As in libbpf, the flavor starts at the last "___"
// that has a non-underscore on both sides.
func essentialName(name string) string {
	if !strings.Contains(name, "___") {
		return name
	}
	return name[:flavorIndex(name)]
}

// essentialNameBytes is essentialName for a name that is not a string yet.
func essentialNameBytes(name []byte) []byte {
	if bytes.Index(name, tripleUnderscore) < 0 {
		return name
	}
	return name[:flavorIndex(name)]
}

var tripleUnderscore = []byte("___")

// flavorIndex returns where the flavor suffix of name starts, or len(name).
func flavorIndex[S string | []byte](name S) int {
	for i := len(name) - 5; i >= 0; i-- {
		if name[i] != '_' && name[i+1] == '_' && name[i+2] == '_' && name[i+3] == '_' && name[i+4] != '_' {
			return i + 1
		}
	}
	return len(name)
}
