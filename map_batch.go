package ebpf

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// BatchOptions are passed to the kernel with batch operations.
type BatchOptions struct {
	// ElemFlags apply to every element, like the flags of Lookup and
	// Update (e.g. BPF_F_LOCK).
	ElemFlags uint64
	// Flags of the batch operation itself (none are defined yet).
	Flags uint64
}

// MapBatchCursor is where BatchLookup and BatchLookupAndDelete continue.
// The zero value starts at the beginning of a map. A cursor belongs to the
// map it was first used with.
type MapBatchCursor struct {
	m      *Map
	opaque []byte
}

// BatchLookup reads up to len(keysOut) entries starting at cursor into
// keysOut and valuesOut, slices of keys and values (for per-CPU maps,
// PossibleCPU values per key, one key after the other), and returns how
// many it read. Reaching the end of the map returns the last entries with
// an error wrapping ErrKeyNotExist: that is the normal way to finish.
//
// Hash maps return whole buckets: a batch smaller than the largest bucket
// fails with ENOSPC. Keys and values of fixed size are written in place.
// One bpf(2) call; requires Linux 5.6 (hash and array maps).
func (m *Map) BatchLookup(cursor *MapBatchCursor, keysOut, valuesOut any, opts *BatchOptions) (int, error) {
	return m.batchLookup(sys.BPF_MAP_LOOKUP_BATCH, cursor, keysOut, valuesOut, opts)
}

// BatchLookupAndDelete is BatchLookup, deleting the entries it returns.
// Requires Linux 5.6 (hash maps).
func (m *Map) BatchLookupAndDelete(cursor *MapBatchCursor, keysOut, valuesOut any, opts *BatchOptions) (int, error) {
	return m.batchLookup(sys.BPF_MAP_LOOKUP_AND_DELETE_BATCH, cursor, keysOut, valuesOut, opts)
}

func (m *Map) batchLookup(cmd sys.Cmd, cursor *MapBatchCursor, keysOut, valuesOut any, opts *BatchOptions) (int, error) {
	op := "batch lookup"
	if cmd == sys.BPF_MAP_LOOKUP_AND_DELETE_BATCH {
		op = "batch lookup and delete"
	}
	if cursor == nil {
		return 0, fmt.Errorf("map %s: %s: nil cursor", m.errs.lookup.desc, op)
	}
	count, err := m.batchCount(keysOut, valuesOut)
	if err != nil {
		return 0, fmt.Errorf("map %s: %s: %w", m.errs.lookup.desc, op, err)
	}
	var inBatch unsafe.Pointer
	if cursor.opaque == nil {
		// The first call starts at the beginning: no in_batch. Hash maps
		// keep a 32-bit bucket index in the cursor, the others a key:
		// room for both.
		cursor.opaque = make([]byte, max(int(m.keySize), 4))
		cursor.m = m
	} else if cursor.m != m {
		// Sizes differ between maps: the kernel could write past the end.
		return 0, fmt.Errorf("map %s: %s: the cursor belongs to %s", m.errs.lookup.desc, op, cursor.m)
	} else {
		inBatch = unsafe.Pointer(&cursor.opaque[0])
	}

	keySink := newBatchSink(keysOut, count*int(m.keySize))
	valueSink := newBatchSink(valuesOut, count*m.fullValueSize)

	n, sysErr := m.lookupBatchRaw(cmd, inBatch, unsafe.Pointer(&cursor.opaque[0]), keySink.ptr, valueSink.ptr, count, opts)
	if sysErr != nil && !errors.Is(sysErr, unix.ENOENT) {
		if errors.Is(sysErr, unix.ENOSPC) {
			return 0, fmt.Errorf("map %s: %s: %w (a bucket holds more than %d entries: use a larger batch)", m.errs.lookup.desc, op, sysErr, count)
		}
		return m.batchError(op, 0, sysErr)
	}
	if err := keySink.finish(keysOut, n, int(m.keySize), 1, 0); err != nil {
		return 0, m.encodeError(op, "keys", err)
	}
	cpus := 1
	if m.perCPU {
		cpus = m.fullValueSize / perCPUStride(int(m.valueSize))
	}
	if err := valueSink.finish(valuesOut, n, m.fullValueSize, cpus, int(m.valueSize)); err != nil {
		return 0, m.encodeError(op, "values", err)
	}
	if sysErr != nil {
		return n, m.opError(op, nil, sysErr)
	}
	return n, nil
}

// lookupBatchRaw issues a batch lookup (and delete) with raw buffers and
// returns how many entries the kernel filled.
func (m *Map) lookupBatchRaw(cmd sys.Cmd, inBatch, outBatch, keys, values unsafe.Pointer, count int, opts *BatchOptions) (int, error) {
	attr := sys.MapLookupBatchAttr{
		InBatch:  sys.NewPointer(inBatch),
		OutBatch: sys.NewPointer(outBatch),
		Keys:     sys.NewPointer(keys),
		Values:   sys.NewPointer(values),
		Count:    uint32(count),
		MapFd:    m.fd.Uint(),
	}
	if opts != nil {
		attr.ElemFlags, attr.Flags = opts.ElemFlags, opts.Flags
	}
	var err error
	if cmd == sys.BPF_MAP_LOOKUP_AND_DELETE_BATCH {
		err = sys.MapLookupAndDeleteBatch((*sys.MapLookupAndDeleteBatchAttr)(unsafe.Pointer(&attr)))
	} else {
		err = sys.MapLookupBatch(&attr)
	}
	runtime.KeepAlive(m.fd)
	return int(attr.Count), err
}

// BatchUpdate writes len(keys) entries at once: keys and values are slices
// (values of per-CPU maps hold PossibleCPU elements per key). It returns
// how many entries were written, which is less than asked when an error
// stops it half way. One bpf(2) call; requires Linux 5.6.
func (m *Map) BatchUpdate(keys, values any, opts *BatchOptions) (int, error) {
	count, err := m.batchCount(keys, values)
	if err != nil {
		return 0, fmt.Errorf("map %s: batch update: %w", m.errs.lookup.desc, err)
	}
	kp, err := batchSource(keys, count*int(m.keySize), 0, 0)
	if err != nil {
		return 0, m.encodeError("batch update", "keys", err)
	}
	stride := 0
	if m.perCPU {
		stride = perCPUStride(int(m.valueSize))
	}
	vp, err := batchSource(values, count*m.fullValueSize, int(m.valueSize), stride)
	if err != nil {
		return 0, m.encodeError("batch update", "values", err)
	}
	attr := sys.MapUpdateBatchAttr{
		Keys:   sys.NewPointer(kp),
		Values: sys.NewPointer(vp),
		Count:  uint32(count),
		MapFd:  m.fd.Uint(),
	}
	if opts != nil {
		attr.ElemFlags, attr.Flags = opts.ElemFlags, opts.Flags
	}
	err = sys.MapUpdateBatch(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.batchError("batch update", attr.Count, err)
	}
	return int(attr.Count), nil
}

// BatchDelete deletes the entries of keys, a slice, and returns how many
// it deleted; a missing key stops it with an error wrapping
// ErrKeyNotExist. One bpf(2) call; requires Linux 5.6.
func (m *Map) BatchDelete(keys any, opts *BatchOptions) (int, error) {
	count, ok := sysenc.SliceLen(keys)
	if !ok || reflect.TypeOf(keys).Kind() != reflect.Slice {
		return 0, fmt.Errorf("map %s: batch delete: keys: %T is not a slice", m.errs.lookup.desc, keys)
	}
	kp, err := batchSource(keys, count*int(m.keySize), 0, 0)
	if err != nil {
		return 0, m.encodeError("batch delete", "keys", err)
	}
	attr := sys.MapDeleteBatchAttr{
		Keys:  sys.NewPointer(kp),
		Count: uint32(count),
		MapFd: m.fd.Uint(),
	}
	if opts != nil {
		attr.ElemFlags, attr.Flags = opts.ElemFlags, opts.Flags
	}
	err = sys.MapDeleteBatch(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.batchError("batch delete", attr.Count, err)
	}
	return int(attr.Count), nil
}

// batchError explains a failed batch command that got through done
// entries: none and ErrNotSupported if the kernel has no batch API at all
// (probed once), else done and the operation's error.
func (m *Map) batchError(op string, done uint32, err error) (int, error) {
	if missing := haveBatchAPI(); errors.Is(missing, ErrNotSupported) {
		return 0, fmt.Errorf("map %s: %s: %w", m.errs.lookup.desc, op, missing)
	}
	return int(done), m.opError(op, nil, err)
}

// batchCount checks that keys and values are slices of matching lengths
// and returns the number of entries.
func (m *Map) batchCount(keys, values any) (int, error) {
	nk, ok := sysenc.SliceLen(keys)
	if !ok || reflect.TypeOf(keys).Kind() != reflect.Slice {
		return 0, fmt.Errorf("keys: %T is not a slice", keys)
	}
	nv, ok := sysenc.SliceLen(values)
	if !ok || reflect.TypeOf(values).Kind() != reflect.Slice {
		return 0, fmt.Errorf("values: %T is not a slice", values)
	}
	want := nk
	if m.perCPU {
		want = nk * (m.fullValueSize / perCPUStride(int(m.valueSize)))
		// A []byte may also hold the raw per-CPU slots.
		if reflect.TypeOf(values).Elem().Kind() == reflect.Uint8 && m.valueSize != 1 && nv == nk*m.fullValueSize {
			want = nv
		}
	}
	if nv != want {
		return 0, fmt.Errorf("%d keys need %d values, have %d", nk, want, nv)
	}
	return nk, nil
}

// batchSource returns where the kernel reads a batch of size bytes from:
// the slice's own memory or a copy. With a non-zero stride the slice holds
// per-CPU values of elemSize bytes that are laid out stride bytes apart.
func batchSource(slice any, size, elemSize, stride int) (unsafe.Pointer, error) {
	c := sysenc.CodecOf(slice)
	if p, ok := c.Source(slice, size); ok {
		return p, nil
	}
	if stride != 0 && stride != elemSize {
		buf := make([]byte, size)
		if err := sysenc.MarshalStrided(buf, slice, elemSize, stride); err != nil {
			return nil, err
		}
		return unsafe.Pointer(unsafe.SliceData(buf)), nil
	}
	buf, err := c.Marshal(slice, size)
	if err != nil {
		return nil, err
	}
	return buf.Pointer(), nil
}

// batchSink is where the kernel writes a batch of keys or values.
type batchSink struct {
	ptr     unsafe.Pointer
	codec   *sysenc.Codec
	scratch []byte
}

func newBatchSink(out any, size int) batchSink {
	c := sysenc.CodecOf(out)
	if p, ok := c.Sink(out, size); ok {
		return batchSink{ptr: p, codec: c}
	}
	scratch := make([]byte, max(size, 1))
	return batchSink{ptr: unsafe.Pointer(unsafe.SliceData(scratch)), codec: c, scratch: scratch[:size]}
}

// finish decodes the first n entries of entrySize bytes the kernel wrote.
// For per-CPU values (cpus > 1) each entry holds cpus values of elemSize
// bytes, 8-byte aligned.
func (s *batchSink) finish(out any, n, entrySize, cpus, elemSize int) error {
	if s.scratch == nil {
		s.codec.Finish(s.ptr, n*entrySize)
		return nil
	}
	if n == 0 {
		return nil
	}
	// Decode into the first n entries only: the rest keep their contents.
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Slice {
		return fmt.Errorf("%T is not a slice", out)
	}
	head := v.Slice(0, n*cpus).Interface()
	if cpus > 1 {
		return sysenc.UnmarshalStrided(head, s.scratch[:n*entrySize], elemSize, perCPUStride(elemSize))
	}
	return sysenc.Unmarshal(head, s.scratch[:n*entrySize])
}
