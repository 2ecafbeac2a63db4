package asm

import (
	"fmt"
	"reflect"
	"slices"
)

// Metadata holds key/value annotations of an Instruction: its symbol, the
// symbol it references, its source line, the map it loads, and whatever
// other packages attach (btf adds CO-RE relocations and function info).
//
// A Metadata is a pointer to an immutable table, so copying an Instruction
// copies one word and the copy shares the table. Set never changes a table:
// it builds a new one (one allocation sized to the entries) and points the
// receiver at it, so changing the metadata of one copy never shows through
// another. Get scans a few contiguous entries and does not allocate.
//
// The zero value is empty and ready to use. Keys are compared with ==, like
// context keys: use an unexported comparable type per key.
type Metadata struct {
	t *metaTable
}

type metaEntry struct {
	key, value any
}

// metaTable is never modified after it is published in a Metadata.
type metaTable struct {
	entries []metaEntry
}

// Tables of up to four entries are allocated together with their backing
// array: a Set costs one allocation.
type (
	metaTable1 struct {
		metaTable
		a [1]metaEntry
	}
	metaTable2 struct {
		metaTable
		a [2]metaEntry
	}
	metaTable4 struct {
		metaTable
		a [4]metaEntry
	}
)

// newMetaTable returns a table with n zeroed entries for the caller to fill
// before publishing it.
func newMetaTable(n int) *metaTable {
	switch {
	case n <= 1:
		t := new(metaTable1)
		t.entries = t.a[:n]
		return &t.metaTable
	case n <= 2:
		t := new(metaTable2)
		t.entries = t.a[:n]
		return &t.metaTable
	case n <= 4:
		t := new(metaTable4)
		t.entries = t.a[:n]
		return &t.metaTable
	}
	return &metaTable{entries: make([]metaEntry, n)}
}

func (m *Metadata) index(key any) int {
	if m.t == nil {
		return -1
	}
	for i := range m.t.entries {
		if m.t.entries[i].key == key {
			return i
		}
	}
	return -1
}

// Get returns the value stored under key, or nil.
func (m *Metadata) Get(key any) any {
	if i := m.index(key); i >= 0 {
		return m.t.entries[i].value
	}
	return nil
}

// Set stores value under key, replacing an earlier value; a nil value
// removes the key. Other copies of the metadata are not affected.
func (m *Metadata) Set(key, value any) {
	i := m.index(key)
	var old []metaEntry
	if m.t != nil {
		old = m.t.entries
	}
	switch {
	case value == nil && i < 0:
		return
	case value == nil:
		if len(old) == 1 {
			m.t = nil
			return
		}
		t := newMetaTable(len(old) - 1)
		copy(t.entries, old[:i])
		copy(t.entries[i:], old[i+1:])
		m.t = t
	case i >= 0:
		t := newMetaTable(len(old))
		copy(t.entries, old)
		t.entries[i].value = value
		m.t = t
	default:
		t := newMetaTable(len(old) + 1)
		copy(t.entries, old)
		t.entries[len(old)] = metaEntry{key, value}
		m.t = t
	}
}

// Len returns the number of keys. An addition to cilium/ebpf's API.
func (m Metadata) Len() int {
	if m.t == nil {
		return 0
	}
	return len(m.t.entries)
}

// Equal reports whether m and other hold the same keys with deeply equal
// values, in any order. go-cmp uses it, so whole instruction streams can be
// compared in tests. An addition to cilium/ebpf's API.
func (m Metadata) Equal(other Metadata) bool {
	if m.t == other.t {
		return true
	}
	if m.Len() != other.Len() {
		return false
	}
	for _, e := range m.t.entries {
		i := other.index(e.key)
		if i < 0 {
			return false
		}
		v := other.t.entries[i].value
		if !reflect.DeepEqual(e.value, v) {
			return false
		}
	}
	return true
}

// MetadataBuilder sets several entries of a Metadata at once. Every
// Metadata.Set, WithSymbol or WithReference builds a new table; a builder
// collects the changes in a buffer of its own and Build publishes them as
// one table, one allocation for up to four entries. Code that annotates many
// instructions with several entries each (the ELF reader: symbol,
// reference, function, source line, CO-RE relocation) keeps one builder for
// all of them. An addition to cilium/ebpf's API.
//
// The zero value is empty and ready to use. A builder is not safe for
// concurrent use.
type MetadataBuilder struct {
	base    Metadata
	entries []metaEntry
	changed bool
}

// Reset starts b over from the entries of m, which it does not modify.
func (b *MetadataBuilder) Reset(m Metadata) {
	b.base, b.changed = m, false
	if b.entries == nil {
		// Room for every entry this module sets, so that the buffer is
		// allocated once per builder.
		b.entries = make([]metaEntry, 0, max(8, m.Len()))
	}
	b.entries = b.entries[:0]
	if m.t != nil {
		b.entries = append(b.entries, m.t.entries...)
	}
}

// Set records value under key, replacing an earlier value; a nil value
// removes the key, as with Metadata.Set.
func (b *MetadataBuilder) Set(key, value any) {
	for i := range b.entries {
		if b.entries[i].key != key {
			continue
		}
		if value == nil {
			b.entries = slices.Delete(b.entries, i, i+1)
		} else {
			b.entries[i].value = value
		}
		b.changed = true
		return
	}
	if value != nil {
		b.entries = append(b.entries, metaEntry{key, value})
		b.changed = true
	}
}

// Get returns the value recorded under key, or nil.
func (b *MetadataBuilder) Get(key any) any {
	for i := range b.entries {
		if b.entries[i].key == key {
			return b.entries[i].value
		}
	}
	return nil
}

// SetSymbol is Instruction.WithSymbol for the metadata being built.
func (b *MetadataBuilder) SetSymbol(name string) { b.Set(symbolMeta{}, optionalString(name)) }

// SetReference is Instruction.WithReference for the metadata being built.
func (b *MetadataBuilder) SetReference(name string) { b.Set(referenceMeta{}, optionalString(name)) }

// SetSource is Instruction.WithSource for the metadata being built.
func (b *MetadataBuilder) SetSource(src fmt.Stringer) {
	if src == nil {
		b.Set(sourceMeta{}, nil)
	} else {
		b.Set(sourceMeta{}, src)
	}
}

// Build returns the metadata: the Metadata given to Reset if nothing
// changed, otherwise a new table with all entries. It empties b, keeping
// its buffer for the next Reset.
func (b *MetadataBuilder) Build() Metadata {
	m := b.base
	if b.changed {
		m.t = nil
		if len(b.entries) > 0 {
			m.t = newMetaTable(len(b.entries))
			copy(m.t.entries, b.entries)
		}
	}
	clear(b.entries)
	b.Reset(Metadata{})
	return m
}
