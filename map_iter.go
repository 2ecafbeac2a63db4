package ebpf

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// iterBatchBytes bounds the buffers of a batched iteration: enough for a
// few thousand small entries per bpf(2) call.
const iterBatchBytes = 256 * 1024

// MapIterator walks the entries of a map; see Map.Iterate.
//
// Where the kernel can (hash and array maps, Linux 5.6) it reads entries in
// batches with BPF_MAP_LOOKUP_BATCH, a few syscalls for thousands of
// entries; otherwise, or when the kernel refuses, it walks the keys with
// BPF_MAP_GET_NEXT_KEY and looks each one up, two syscalls per entry. Both
// give the same entries for a map that doesn't change.
type MapIterator struct {
	m    *Map
	err  error
	done bool

	batch batchIterState
	walk  walkIterState
}

// batchIterState is the state of a batched iteration.
type batchIterState struct {
	enabled bool
	started bool    // the kernel has been asked at least once
	last    bool    // the kernel reported the end: no more batches
	buf     *[]byte // from iterBufs: cursor, keys and values
	cursor  []byte
	keys    []byte
	values  []byte
	count   int // capacity in entries
	n, next int // entries in the buffers, the next to return
	// returned counts entries handed out, to know whether a fallback to
	// the key walk can still give the same result.
	returned int
}

// walkIterState is the state of a next-key walk.
type walkIterState struct {
	started bool   // cursor holds the current key
	cursor  []byte // the current key
	next    []byte // room for the next one
	value   []byte
	steps   uint32
}

// iterBufs recycles the buffers of batched iterations: a program that walks
// a map every second reuses one buffer instead of allocating each time.
var iterBufs sync.Pool // *[]byte

// allocate points the batch buffers at a (recycled) buffer for count
// entries.
func (b *batchIterState) allocate(cursorLen, keySize, valueSize int) {
	need := cursorLen + b.count*(keySize+valueSize)
	b.release()
	buf, _ := iterBufs.Get().(*[]byte)
	if buf == nil || cap(*buf) < need {
		fresh := make([]byte, need)
		buf = &fresh
	}
	*buf = (*buf)[:need]
	b.buf = buf
	all := *buf
	b.cursor, all = all[:cursorLen:cursorLen], all[cursorLen:]
	b.keys, all = all[:b.count*keySize:b.count*keySize], all[b.count*keySize:]
	b.values = all[:b.count*valueSize]
}

// release gives the buffers back once the iteration no longer needs them.
func (b *batchIterState) release() {
	if b.buf != nil {
		iterBufs.Put(b.buf)
	}
	b.buf, b.cursor, b.keys, b.values = nil, nil, nil, nil
}

// Iterate returns an iterator over the map's entries. Iterators are
// independent: several may walk one map at the same time.
//
// A map that changes during the walk may show an entry twice or not at
// all. A hash map whose keys are deleted while it is walked key by key
// may make the walk restart again and again: after more steps than the
// map has entries the iterator gives up with ErrIterationAborted.
func (m *Map) Iterate() *MapIterator {
	return newMapIterator(m, m.typ.hasBatchLookup())
}

func newMapIterator(m *Map, batch bool) *MapIterator {
	return &MapIterator{m: m, batch: batchIterState{enabled: batch}}
}

// Next decodes the next entry into keyOut and valueOut (see Map.Lookup for
// what they may be; nil skips decoding) and reports whether there was one.
// After it returns false, Err says whether the walk ended or failed.
func (mi *MapIterator) Next(keyOut, valueOut any) bool {
	if mi.err != nil || mi.done {
		return false
	}
	k, v := sysenc.NoEscape(keyOut), sysenc.NoEscape(valueOut)
	if mi.batch.enabled {
		ok, fallback := mi.nextBatched(k, v)
		if !fallback {
			return ok
		}
		mi.batch.enabled = false
	}
	return mi.nextWalk(k, v)
}

// Err returns the error that stopped the iteration, or nil if it ran to
// the end. It wraps ErrIterationAborted if the map changed too much to
// finish.
func (mi *MapIterator) Err() error { return mi.err }

// nextBatched returns the next entry from the batch buffers, refilling them
// as needed. fallback asks for the key walk instead: the kernel refused
// batches before anything was returned.
func (mi *MapIterator) nextBatched(keyOut, valueOut any) (ok, fallback bool) {
	b := &mi.batch
	m := mi.m
	for b.next >= b.n {
		if b.last {
			mi.done = true
			b.release()
			return false, false
		}
		if err := mi.fillBatch(); err != nil {
			b.release()
			if b.returned == 0 && !b.started && isBatchUnsupported(err) {
				return false, true
			}
			mi.err = err
			return false, false
		}
	}
	i := b.next
	b.next++
	b.returned++
	ks, vs := int(m.keySize), m.fullValueSize
	if err := mi.decode(keyOut, valueOut, b.keys[i*ks:(i+1)*ks], b.values[i*vs:(i+1)*vs]); err != nil {
		mi.err = err
		b.release()
		return false, false
	}
	return true, false
}

// isBatchUnsupported reports whether a failed batch lookup means the
// kernel or the map type doesn't do batches.
func isBatchUnsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, sys.ENOTSUPP)
}

// fillBatch asks the kernel for the next batch.
func (mi *MapIterator) fillBatch() error {
	b := &mi.batch
	m := mi.m
	cursorLen := max(int(m.keySize), 4)
	if b.cursor == nil {
		entry := int(m.keySize) + m.fullValueSize
		b.count = int(min(uint64(m.maxEntries), uint64(max(iterBatchBytes/max(entry, 1), 1))))
		if b.count == 0 {
			b.count = 1
		}
		b.allocate(cursorLen, int(m.keySize), m.fullValueSize)
	}
	for {
		var in unsafe.Pointer
		if b.started {
			in = unsafe.Pointer(&b.cursor[0])
		}
		n, err := m.lookupBatchRaw(sys.BPF_MAP_LOOKUP_BATCH, in, unsafe.Pointer(&b.cursor[0]),
			unsafe.Pointer(unsafe.SliceData(b.keys)), unsafe.Pointer(unsafe.SliceData(b.values)), b.count, nil)
		if errors.Is(err, unix.ENOSPC) && b.count < int(m.maxEntries) {
			// A hash bucket holds more entries than fit: grow and retry
			// from the same place.
			cursor := append([]byte(nil), b.cursor...)
			b.count = min(b.count*2, int(m.maxEntries))
			b.allocate(cursorLen, int(m.keySize), m.fullValueSize)
			copy(b.cursor, cursor)
			continue
		}
		if errors.Is(err, unix.ENOENT) {
			b.last = true
		} else if err != nil {
			return fmt.Errorf("map %s: iterate: batch lookup: %w", m.errs.lookup.desc, err)
		}
		b.started = true
		b.n, b.next = n, 0
		return nil
	}
}

// nextWalk returns the next entry of a next-key walk: two bpf(2) calls
// into the iterator's own buffers, no allocation.
func (mi *MapIterator) nextWalk(keyOut, valueOut any) bool {
	w := &mi.walk
	m := mi.m
	if w.value == nil {
		ks := int(m.keySize)
		buf := make([]byte, 2*ks+m.fullValueSize+1)
		w.cursor, w.next, w.value = buf[:ks:ks], buf[ks:2*ks:2*ks], buf[2*ks:2*ks+m.fullValueSize]
	}
	// Array-like maps have every key, so their walk ends after maxEntries
	// steps; a hash map that restarts because its keys are deleted under
	// it is stopped after as many.
	for w.steps <= m.maxEntries {
		var prev unsafe.Pointer
		if w.started {
			prev = unsafe.Pointer(unsafe.SliceData(w.cursor))
		}
		err := m.nextKeyRaw(prev, unsafe.Pointer(unsafe.SliceData(w.next)))
		if errors.Is(err, ErrKeyNotExist) {
			mi.done = true
			return false
		}
		if err != nil {
			mi.err = fmt.Errorf("iterate: %w", err)
			return false
		}
		w.started = true
		w.steps++
		w.cursor, w.next = w.next, w.cursor

		err = m.lookupRaw(unsafe.Pointer(unsafe.SliceData(w.cursor)), unsafe.Pointer(unsafe.SliceData(w.value)))
		if errors.Is(err, ErrKeyNotExist) {
			// Deleted since NextKey returned it, or an empty slot of a
			// program or map array: skip it.
			continue
		}
		if err != nil {
			mi.err = fmt.Errorf("iterate: %w", err)
			return false
		}
		if err := mi.decode(keyOut, valueOut, w.cursor, w.value); err != nil {
			mi.err = err
			return false
		}
		return true
	}
	mi.err = fmt.Errorf("map %s: iterate: %w after %d steps (keys deleted during the walk?)", m.errs.lookup.desc, ErrIterationAborted, w.steps)
	return false
}

// decode copies one entry to the caller.
func (mi *MapIterator) decode(keyOut, valueOut any, key, value []byte) error {
	m := mi.m
	if keyOut != nil {
		if err := copyOut(&m.keyOutCodecs, keyOut, key); err != nil {
			return m.encodeError("iterate", "key", err)
		}
	}
	if valueOut != nil {
		c := m.valueOutCodecs.Codec(valueOut)
		if p, ok := c.Sink(valueOut, len(value)); ok {
			copy(unsafe.Slice((*byte)(p), len(value)), value)
			c.Finish(p, len(value))
			return nil
		}
		if err := m.unmarshalValue(valueOut, c, value); err != nil {
			return m.encodeError("iterate", "value", err)
		}
	}
	return nil
}

// copyOut decodes b into out, in place when out's layout allows.
func copyOut(cache *sysenc.Cache, out any, b []byte) error {
	c := cache.Codec(out)
	if p, ok := c.Sink(out, len(b)); ok {
		copy(unsafe.Slice((*byte)(p), len(b)), b)
		c.Finish(p, len(b))
		return nil
	}
	return c.Unmarshal(out, b)
}
