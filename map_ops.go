package ebpf

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// This file holds the element operations: the hot path. Each exported
// method launders its `any` arguments with sysenc.NoEscape before doing
// anything else, so that callers may keep keys and values on their stack;
// from then on only the laundered copies are used. Values whose layout is
// the kernel's are passed to bpf(2) in place (sysenc.Codec.Source/Sink);
// the attribute structs live on the stack; a missing key returns a
// preallocated error. A lookup or update of fixed-size values therefore
// costs one bpf(2) call and no allocation.

// MapLookupFlags modify a lookup.
type MapLookupFlags uint64

// LookupLock reads the value of a map whose values hold a bpf_spin_lock
// under that lock (BPF_F_LOCK, Linux 5.1). The lock itself reads as zero.
const LookupLock MapLookupFlags = sys.BPF_F_LOCK

// MapUpdateFlags say when an update may replace or create an entry. The
// exact meaning depends on the map type (arrays have every key).
type MapUpdateFlags uint64

const (
	// UpdateAny creates an entry or replaces an existing one.
	UpdateAny MapUpdateFlags = sys.BPF_ANY
	// UpdateNoExist only creates: an existing key gives ErrKeyExist.
	UpdateNoExist MapUpdateFlags = sys.BPF_NOEXIST
	// UpdateExist only replaces: a missing key gives ErrKeyNotExist.
	UpdateExist MapUpdateFlags = sys.BPF_EXIST
	// UpdateLock writes a value holding a bpf_spin_lock under that lock
	// (BPF_F_LOCK, Linux 5.1).
	UpdateLock MapUpdateFlags = sys.BPF_F_LOCK
)

// mapOpError is an operation's error for an errno callers branch on. One
// of each is allocated with the map, so that a lookup of a missing key,
// the most common failure, doesn't allocate.
type mapOpError struct {
	desc     string // the map, as in messages
	op       string
	sentinel error
	errno    unix.Errno
}

func (e *mapOpError) Error() string {
	return "map " + e.desc + ": " + e.op + ": " + e.sentinel.Error()
}

// Unwrap makes errors.Is match both the package's sentinel and the errno.
func (e *mapOpError) Unwrap() []error { return []error{e.sentinel, e.errno} }

type mapErrors struct {
	lookup, lookupAndDelete, delete, nextKey, updateMissing mapOpError
	updateExists                                            mapOpError
}

func newMapErrors(m *Map) *mapErrors {
	desc := m.typ.String()
	if m.name != "" {
		desc = m.name
	}
	notExist := func(op string) mapOpError { return mapOpError{desc, op, ErrKeyNotExist, unix.ENOENT} }
	return &mapErrors{
		lookup:          notExist("lookup"),
		lookupAndDelete: notExist("lookup and delete"),
		delete:          notExist("delete"),
		nextKey:         notExist("next key"),
		updateMissing:   notExist("update"),
		updateExists:    mapOpError{desc, "update", ErrKeyExist, unix.EEXIST},
	}
}

// opError wraps an error of operation op on m; ENOENT and EEXIST become
// the map's preallocated errors.
func (m *Map) opError(op string, prealloc *mapOpError, err error) error {
	if prealloc != nil && errors.Is(err, prealloc.errno) {
		return prealloc
	}
	switch {
	case errors.Is(err, unix.ENOENT):
		return &mapOpError{m.errs.lookup.desc, op, ErrKeyNotExist, unix.ENOENT}
	case errors.Is(err, unix.EEXIST):
		return &mapOpError{m.errs.lookup.desc, op, ErrKeyExist, unix.EEXIST}
	case errors.Is(err, sys.ENOTSUPP), errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("map %s: %s: %w (%w)", m.errs.lookup.desc, op, ErrNotSupported, err)
	case errors.Is(err, unix.E2BIG) && op == "update":
		return fmt.Errorf("map %s: %s: %w (the map is full)", m.errs.lookup.desc, op, err)
	case errors.Is(err, unix.EPERM) && op != "lookup" && op != "next key":
		return fmt.Errorf("map %s: %s: %w (frozen or read-only map?)", m.errs.lookup.desc, op, err)
	}
	return fmt.Errorf("map %s: %s: %w", m.errs.lookup.desc, op, err)
}

// Lookup reads the value of key into valueOut, which must be a pointer (or
// slice, or unsafe.Pointer) to valueSize bytes of fixed-size data, or a
// pointer to a []byte or encoding.BinaryUnmarshaler.
//
// Per-CPU maps fill a []T of PossibleCPU elements, or a *[]T (allocated
// when its length differs). Maps of maps read into a **Map (opening the
// inner map by its ID, and closing what *valueOut held before) or a
// *uint32 (the ID); program arrays likewise into a **Program. Queues and
// stacks peek with a nil key; bloom filters test the value given as
// valueOut's target with a nil key.
//
// A missing key gives an error wrapping ErrKeyNotExist and unix.ENOENT.
// With fixed-size key and value it costs one bpf(2) call and no
// allocation, the missing-key error included.
func (m *Map) Lookup(key, valueOut any) error {
	return m.lookup(sysenc.NoEscape(key), sysenc.NoEscape(valueOut), 0)
}

// LookupWithFlags is Lookup with flags, e.g. LookupLock for values that
// hold a spin lock.
func (m *Map) LookupWithFlags(key, valueOut any, flags MapLookupFlags) error {
	return m.lookup(sysenc.NoEscape(key), sysenc.NoEscape(valueOut), flags)
}

func (m *Map) lookup(key, valueOut any, flags MapLookupFlags) error {
	// The fast paths of keyPointer and valueSink, spelled out: this is
	// the hottest function of the package.
	kp, kc, ok := m.keyCodecs.Source(key, int(m.keySize))
	if !ok || m.keySize == 0 {
		var err error
		if kp, err = m.keyPointerSlow(key, kc); err != nil {
			return m.encodeError("lookup", "key", err)
		}
	}
	vp, vc, direct := m.valueOutCodecs.Sink(valueOut, m.fullValueSize)
	var out valueSinkT
	if !direct {
		out = m.valueSink(valueOut)
		vp = out.ptr
	}
	attr := sys.MapLookupElemAttr{
		MapFd: m.fd.Uint(),
		Key:   sys.NewPointer(kp),
		Value: sys.NewPointer(vp),
		Flags: uint64(flags),
	}
	err := sys.MapLookupElem(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.opError("lookup", &m.errs.lookup, err)
	}
	if direct {
		vc.Finish(vp, m.fullValueSize)
		return nil
	}
	return m.finishValue(valueOut, &out)
}

// LookupAndDelete reads the value of key into valueOut and deletes the
// entry in one step (Linux 4.20 for queues and stacks, where key is nil
// and it pops; 5.14 for hash maps). See Lookup for valueOut.
func (m *Map) LookupAndDelete(key, valueOut any) error {
	return m.lookupAndDelete(sysenc.NoEscape(key), sysenc.NoEscape(valueOut), 0)
}

// LookupAndDeleteWithFlags is LookupAndDelete with flags, e.g. LookupLock.
func (m *Map) LookupAndDeleteWithFlags(key, valueOut any, flags MapLookupFlags) error {
	return m.lookupAndDelete(sysenc.NoEscape(key), sysenc.NoEscape(valueOut), flags)
}

func (m *Map) lookupAndDelete(key, valueOut any, flags MapLookupFlags) error {
	kp, err := m.keyPointer(key)
	if err != nil {
		return m.encodeError("lookup and delete", "key", err)
	}
	out := m.valueSink(valueOut)
	attr := sys.MapLookupAndDeleteElemAttr{
		MapFd: m.fd.Uint(),
		Key:   sys.NewPointer(kp),
		Value: sys.NewPointer(out.ptr),
		Flags: uint64(flags),
	}
	err = sys.MapLookupAndDeleteElem(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.opError("lookup and delete", &m.errs.lookupAndDelete, err)
	}
	return m.finishValue(valueOut, &out)
}

// LookupBytes returns the value of key as bytes (for per-CPU maps the
// values of all CPUs, 8-byte aligned), or nil and no error if the key is
// missing. It allocates the result.
func (m *Map) LookupBytes(key any) ([]byte, error) {
	out := make([]byte, m.fullValueSize)
	err := m.lookup(sysenc.NoEscape(key), sysenc.NoEscape(unsafe.Pointer(unsafe.SliceData(out))), 0)
	if errors.Is(err, ErrKeyNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Put creates or replaces the value of key: Update with UpdateAny.
func (m *Map) Put(key, value any) error {
	return m.update(sysenc.NoEscape(key), sysenc.NoEscape(value), UpdateAny)
}

// Update writes value for key. value is a fixed-size value of valueSize
// bytes, a pointer or slice of such, []byte, an unsafe.Pointer or an
// encoding.BinaryMarshaler. Per-CPU maps take a slice with at most one
// element per possible CPU (missing ones are zero). Maps holding file
// descriptors (maps of maps, program arrays, perf event arrays, socket
// maps) take anything with an FD() int method (*Map, *Program) or the
// descriptor as a uint32. Queues, stacks and bloom filters push with a nil
// key.
//
// flags say whether the key must exist (UpdateExist, else ErrKeyNotExist)
// or must not (UpdateNoExist, else ErrKeyExist). With fixed-size key and
// value it costs one bpf(2) call and no allocation.
func (m *Map) Update(key, value any, flags MapUpdateFlags) error {
	return m.update(sysenc.NoEscape(key), sysenc.NoEscape(value), flags)
}

func (m *Map) update(key, value any, flags MapUpdateFlags) error {
	// The fast paths of keyPointer and valuePointer, spelled out.
	kp, kc, ok := m.keyCodecs.Source(key, int(m.keySize))
	if !ok || m.keySize == 0 {
		var err error
		if kp, err = m.keyPointerSlow(key, kc); err != nil {
			return m.encodeError("update", "key", err)
		}
	}
	vp, vc, ok := m.valueCodecs.Source(value, m.fullValueSize)
	if !ok {
		var err error
		if vp, err = m.valuePointerSlow(value, vc); err != nil {
			return m.encodeError("update", "value", err)
		}
	}
	attr := sys.MapUpdateElemAttr{
		MapFd: m.fd.Uint(),
		Key:   sys.NewPointer(kp),
		Value: sys.NewPointer(vp),
		Flags: uint64(flags),
	}
	err := sys.MapUpdateElem(&attr)
	// A *Map or *Program value must stay open until the kernel took its
	// reference.
	runtime.KeepAlive(value)
	runtime.KeepAlive(m.fd)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return &m.errs.updateMissing
		}
		return m.opError("update", &m.errs.updateExists, err)
	}
	return nil
}

// Delete removes key. A missing key gives an error wrapping
// ErrKeyNotExist. Arrays can't delete (EINVAL). One bpf(2) call, no
// allocation for fixed-size keys.
func (m *Map) Delete(key any) error {
	k := sysenc.NoEscape(key)
	kp, err := m.keyPointer(k)
	if err != nil {
		return m.encodeError("delete", "key", err)
	}
	attr := sys.MapDeleteElemAttr{MapFd: m.fd.Uint(), Key: sys.NewPointer(kp)}
	err = sys.MapDeleteElem(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.opError("delete", &m.errs.delete, err)
	}
	return nil
}

// NextKey writes the key that follows key into nextKeyOut; a nil key asks
// for the first one. After the last key it returns an error wrapping
// ErrKeyNotExist. A key that is not in the map restarts from the first key
// for hash maps. Use Iterate to walk a whole map.
func (m *Map) NextKey(key, nextKeyOut any) error {
	return m.nextKey(sysenc.NoEscape(key), sysenc.NoEscape(nextKeyOut))
}

func (m *Map) nextKey(key, nextKeyOut any) error {
	var kp unsafe.Pointer
	if key != nil {
		var err error
		if kp, err = m.keyPointer(key); err != nil {
			return m.encodeError("next key", "key", err)
		}
	}
	size := int(m.keySize)
	out, c, direct := m.keyOutCodecs.Sink(nextKeyOut, size)
	var scratch []byte
	if !direct {
		scratch = make([]byte, size)
		out = unsafe.Pointer(unsafe.SliceData(scratch))
	}
	if err := m.nextKeyRaw(kp, out); err != nil {
		return err
	}
	if direct {
		c.Finish(out, size)
		return nil
	}
	if err := c.Unmarshal(nextKeyOut, scratch); err != nil {
		return m.encodeError("next key", "key", err)
	}
	return nil
}

// nextKeyRaw writes the key following the one at kp (nil: the first) to
// out, which has room for a key.
func (m *Map) nextKeyRaw(kp, out unsafe.Pointer) error {
	attr := sys.MapGetNextKeyAttr{MapFd: m.fd.Uint(), Key: sys.NewPointer(kp), NextKey: sys.NewPointer(out)}
	err := sys.MapGetNextKey(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.opError("next key", &m.errs.nextKey, err)
	}
	return nil
}

// lookupRaw reads the value of the key at kp into out, which has room for
// a full value.
func (m *Map) lookupRaw(kp, out unsafe.Pointer) error {
	attr := sys.MapLookupElemAttr{MapFd: m.fd.Uint(), Key: sys.NewPointer(kp), Value: sys.NewPointer(out)}
	err := sys.MapLookupElem(&attr)
	runtime.KeepAlive(m.fd)
	if err != nil {
		return m.opError("lookup", &m.errs.lookup, err)
	}
	return nil
}

// NextKeyBytes returns the key following key as bytes (the first key for
// a nil key), or nil and no error after the last one.
func (m *Map) NextKeyBytes(key any) ([]byte, error) {
	out := make([]byte, m.keySize)
	err := m.nextKey(sysenc.NoEscape(key), sysenc.NoEscape(out))
	if errors.Is(err, ErrKeyNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// encodeError reports a key or value that can't be encoded for m.
func (m *Map) encodeError(op, what string, err error) error {
	return fmt.Errorf("map %s: %s: %s: %w", m.errs.lookup.desc, op, what, err)
}

// keyPointer returns where the kernel reads the key from: the key's own
// memory when its layout allows, a copy otherwise. Maps without keys
// (queues, stacks, bloom filters) take nil.
func (m *Map) keyPointer(key any) (unsafe.Pointer, error) {
	p, c, ok := m.keyCodecs.Source(key, int(m.keySize))
	if ok && m.keySize != 0 {
		return p, nil
	}
	return m.keyPointerSlow(key, c)
}

func (m *Map) keyPointerSlow(key any, c *sysenc.Codec) (unsafe.Pointer, error) {
	if m.keySize == 0 {
		// The kernel refuses a key pointer for maps without keys.
		if key == nil {
			return nil, nil
		}
		if _, err := c.Marshal(key, 0); err != nil {
			return nil, fmt.Errorf("%s has no keys: pass nil", m.typ)
		}
		return nil, nil
	}
	if key == nil {
		return nil, errors.New("nil key")
	}
	buf, err := c.Marshal(key, int(m.keySize))
	if err != nil {
		return nil, err
	}
	return buf.Pointer(), nil
}

// valuePointer returns where the kernel reads a value from.
func (m *Map) valuePointer(value any) (unsafe.Pointer, error) {
	p, c, ok := m.valueCodecs.Source(value, m.fullValueSize)
	if ok {
		return p, nil
	}
	return m.valuePointerSlow(value, c)
}

// valueSinkT says where the kernel writes a value: straight into the
// caller's memory, or into scratch, decoded afterwards.
type valueSinkT struct {
	ptr     unsafe.Pointer
	codec   *sysenc.Codec
	scratch []byte
}

func (m *Map) valueSink(valueOut any) valueSinkT {
	p, c, ok := m.valueOutCodecs.Sink(valueOut, m.fullValueSize)
	if ok {
		return valueSinkT{ptr: p, codec: c}
	}
	scratch := make([]byte, m.fullValueSize)
	return valueSinkT{ptr: unsafe.Pointer(unsafe.SliceData(scratch)), codec: c, scratch: scratch}
}

func (m *Map) finishValue(valueOut any, out *valueSinkT) error {
	if out.scratch == nil {
		out.codec.Finish(out.ptr, m.fullValueSize)
		return nil
	}
	if err := m.unmarshalValue(valueOut, out.codec, out.scratch); err != nil {
		return m.encodeError("lookup", "value", err)
	}
	return nil
}
