package ebpf

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// paddedKey has the layout of struct { __u8 a; __u32 b; }: three bytes of
// padding the kernel hashes like any other key byte.
type paddedKey struct {
	A uint8
	B uint32
}

type flagValue struct {
	On    bool
	Count uint32
}

// customKey encodes itself as 4 bytes, big endian.
type customKey uint32

func (k customKey) MarshalBinary() ([]byte, error) {
	return []byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}, nil
}

func (k *customKey) UnmarshalBinary(b []byte) error {
	if len(b) != 4 {
		return errors.New("need 4 bytes")
	}
	*k = customKey(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	return nil
}

func TestMapMarshaling(t *testing.T) {
	m := newTestMap(t, &MapSpec{Name: "marshal", Type: Hash, KeySize: 8, ValueSize: 8, MaxEntries: 16})

	t.Run("padding is zeroed", func(t *testing.T) {
		// Garbage in the padding must not make two equal keys differ.
		var k1, k2 paddedKey
		k1.A, k1.B = 1, 2
		raw := (*[8]byte)(unsafe.Pointer(&k2))
		for i := range raw {
			raw[i] = 0xff
		}
		k2.A, k2.B = 1, 2
		qt.Assert(t, qt.IsNil(m.Put(k1, flagValue{true, 5})))
		var v flagValue
		qt.Assert(t, qt.IsNil(m.Lookup(&k2, &v)))
		qt.Assert(t, qt.Equals(v, flagValue{true, 5}))
		kb, err := m.NextKeyBytes(nil)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(kb[1:4], []byte{0, 0, 0}))
	})

	t.Run("bools read back as 0 or 1", func(t *testing.T) {
		key := [8]byte{9}
		qt.Assert(t, qt.IsNil(m.Put(key, [8]byte{0x7f})))
		var v flagValue
		qt.Assert(t, qt.IsNil(m.Lookup(key, &v)))
		qt.Assert(t, qt.IsTrue(v.On))
		qt.Assert(t, qt.Equals(*(*byte)(unsafe.Pointer(&v.On)), 1))
	})

	t.Run("forms of keys and values", func(t *testing.T) {
		key := uint64(77)
		value := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		qt.Assert(t, qt.IsNil(m.Put(&key, value)))
		for _, k := range []any{key, &key, unsafe.Pointer(&key), ne64(77), [2]uint32{77, 0}} {
			got := make([]byte, 8)
			qt.Assert(t, qt.IsNil(m.Lookup(k, got)), qt.Commentf("%T", k))
			qt.Assert(t, qt.DeepEquals(got, value))
		}
		var viaPtr []byte
		qt.Assert(t, qt.IsNil(m.Lookup(key, &viaPtr)))
		qt.Assert(t, qt.DeepEquals(viaPtr, value))
		var viaUnsafe uint64
		qt.Assert(t, qt.IsNil(m.Lookup(key, unsafe.Pointer(&viaUnsafe))))
		qt.Assert(t, qt.Equals(viaUnsafe, internal.NativeEndian.Uint64(value)))
		var s string
		qt.Assert(t, qt.IsNil(m.Lookup(key, &s)))
		qt.Assert(t, qt.Equals(s, string(value)))
		qt.Assert(t, qt.IsNil(m.Put("abcdefgh", "12345678")))
	})

	t.Run("MarshalBinary", func(t *testing.T) {
		m4 := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
		qt.Assert(t, qt.IsNil(m4.Put(customKey(0x01020304), customKey(5))))
		var v customKey
		qt.Assert(t, qt.IsNil(m4.Lookup(customKey(0x01020304), &v)))
		qt.Assert(t, qt.Equals(v, 5))
		// The encoding is the type's own: big endian.
		var raw uint32
		qt.Assert(t, qt.IsNil(m4.Lookup([]byte{1, 2, 3, 4}, &raw)))
		qt.Assert(t, qt.Equals(raw, internal.NativeEndian.Uint32([]byte{0, 0, 0, 5})))
		var k customKey
		qt.Assert(t, qt.IsNil(m4.NextKey(nil, &k)))
		qt.Assert(t, qt.Equals(k, 0x01020304))
	})

	t.Run("errors name the map and the problem", func(t *testing.T) {
		var u32 uint32
		tests := []struct {
			err  error
			want string
		}{
			{m.Put(uint32(1), uint64(1)), "map marshal: update: key: uint32 is 4 bytes, want 8"},
			{m.Put(uint64(1), uint32(1)), "map marshal: update: value: uint32 is 4 bytes, want 8"},
			{m.Put(nil, uint64(1)), "map marshal: update: key: nil key"},
			{m.Put(uint64(1), nil), "map marshal: update: value: nil value"},
			{m.Put(uint64(1), struct{ P *int }{}), "map marshal: update: value: can't use struct { P *int } as 8 bytes: struct { P *int }: no fixed-size layout: field P has type *int, which is not fixed-size"},
			{m.Put(1, uint64(1)), "map marshal: update: key: can't use int as 8 bytes: no fixed-size layout: int is not a fixed-size type"},
			{m.Lookup(uint64(1), u32), "map marshal: lookup: key does not exist"},
			{m.Put(uint64(1), uint64(1)), ""},
			{m.Lookup(uint64(1), u32), "map marshal: lookup: value: can't unmarshal into uint32: need a pointer"},
			{m.Lookup(uint64(1), &u32), "map marshal: lookup: value: *uint32 is 4 bytes, want 8"},
			{m.Lookup(uint64(1), nil), "map marshal: lookup: value: can't unmarshal into a nil value"},
			{m.Lookup(uint64(1), (*uint64)(nil)), "map marshal: lookup: value: can't unmarshal into a nil *uint64"},
			{m.Lookup(uint64(1), &m), "map marshal: lookup: value: a Hash holds no maps"},
		}
		for i, tt := range tests {
			if tt.want == "" {
				qt.Assert(t, qt.IsNil(tt.err))
				continue
			}
			qt.Assert(t, qt.ErrorMatches(tt.err, quoteMapErr(tt.want)), qt.Commentf("case %d", i))
		}
	})
}

func ne64(v uint64) []byte {
	b := make([]byte, 8)
	internal.NativeEndian.PutUint64(b, v)
	return b
}

// quoteMapErr quotes an exact error message for qt.ErrorMatches.
func quoteMapErr(s string) string { return regexp.QuoteMeta(s) }

// TestMapHotPathAllocs pins down the promise of the hot path: fixed-size
// keys and values, including boxed integers above 255 (which Go would
// otherwise allocate), cost no allocation, and neither does a miss.
func TestMapHotPathAllocs(t *testing.T) {
	m := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1024})
	a := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 16, MaxEntries: 4})
	qt.Assert(t, qt.IsNil(m.Put(uint32(1000), uint64(1))))
	var v uint64
	var s struct{ A, B uint64 }
	k := uint32(1000)
	tests := map[string]func(){
		"Lookup":             func() { m.Lookup(k, &v) },
		"Lookup missing":     func() { m.Lookup(k+1, &v) },
		"LookupWithFlags":    func() { m.LookupWithFlags(&k, &v, 0) },
		"Update":             func() { m.Update(k, uint64(k)<<20, UpdateAny) },
		"Update exists":      func() { m.Update(k, v, UpdateNoExist) },
		"Put":                func() { m.Put(k, v) },
		"Delete missing":     func() { m.Delete(k + 1) },
		"NextKey":            func() { m.NextKey(k, &k) },
		"Lookup struct":      func() { a.Lookup(uint32(1), &s) },
		"Update struct":      func() { a.Put(uint32(1), s) },
		"LookupAndDelete no": func() { m.LookupAndDelete(k+1, &v) },
	}
	for name, fn := range tests {
		qt.Check(t, qt.Equals(testing.AllocsPerRun(200, fn), 0.0), qt.Commentf("%s allocates", name))
	}
}

// TestMapConcurrent hammers one map from several goroutines; run with
// -race it checks that the codec caches, pinning state and iterators are
// safe for concurrent use.
func TestMapConcurrent(t *testing.T) {
	m := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 256})
	dir := testutils.TempBPFFS(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k := uint32((g*500 + i) % 256)
				if err := m.Put(k, uint64(i)); err != nil {
					errs <- err
					return
				}
				var v uint64
				if err := m.Lookup(k, &v); err != nil && !errors.Is(err, ErrKeyNotExist) {
					errs <- err
					return
				}
				// Alternate key types to churn the codec caches.
				var b [8]byte
				if err := m.Lookup([4]byte{byte(k)}, &b); err != nil && !errors.Is(err, ErrKeyNotExist) {
					errs <- err
					return
				}
				if i%50 == 0 {
					m.Delete(k)
				}
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			var k uint32
			var v uint64
			it := m.Iterate()
			for it.Next(&k, &v) {
			}
			if err := it.Err(); err != nil && !errors.Is(err, ErrIterationAborted) {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			path := fmt.Sprintf("%s/m%d", dir, i)
			if err := m.Pin(path); err != nil {
				errs <- err
				return
			}
			_ = m.IsPinned()
			if _, err := m.Info(); err != nil {
				errs <- err
				return
			}
		}
		if err := m.Unpin(); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSpinLockMap creates a map whose value holds a bpf_spin_lock, which
// only works with the value's BTF, and reads and writes it under the lock.
func TestSpinLockMap(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: u32}}}
	value := &btf.Struct{Name: "locked", Size: 8, Members: []btf.Member{
		{Name: "lock", Type: lock},
		{Name: "count", Type: u32, Offset: 32},
	}}
	m := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2, Key: u32, Value: value})
	qt.Assert(t, qt.IsTrue(needsBTF(value)))

	info, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	_, ok := info.BTFID()
	qt.Assert(t, qt.IsTrue(ok))

	type locked struct{ Lock, Count uint32 }
	qt.Assert(t, qt.IsNil(m.Update(uint32(1), locked{Count: 3}, UpdateAny)))
	qt.Assert(t, qt.IsNil(m.Update(uint32(1), locked{Count: 4}, UpdateLock)))
	var v locked
	qt.Assert(t, qt.IsNil(m.LookupWithFlags(uint32(1), &v, LookupLock)))
	qt.Assert(t, qt.Equals(v.Count, 4))

	// The lock flag on a map without a lock is refused by the kernel.
	plain := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	qt.Assert(t, qt.ErrorIs(plain.Update(uint32(1), locked{}, UpdateLock), unix.EINVAL))
}

func TestNeedsBTF(t *testing.T) {
	u64 := &btf.Int{Name: "u64", Size: 8}
	timer := &btf.Struct{Name: "bpf_timer", Size: 16}
	kptr := &btf.Pointer{Target: &btf.TypeTag{Value: "kptr", Type: &btf.Struct{Name: "task_struct"}}}
	tests := []struct {
		typ  btf.Type
		want bool
	}{
		{nil, false},
		{u64, false},
		{&btf.Struct{Name: "v", Members: []btf.Member{{Name: "a", Type: u64}}}, false},
		{&btf.Struct{Name: "v", Members: []btf.Member{{Name: "t", Type: &btf.Typedef{Name: "t", Type: timer}}}}, true},
		{&btf.Array{Type: &btf.Struct{Name: "w", Members: []btf.Member{{Name: "p", Type: kptr}}}, Nelems: 2}, true},
		{&btf.Pointer{Target: &btf.Struct{Name: "task_struct"}}, false},
	}
	for i, tt := range tests {
		qt.Assert(t, qt.Equals(needsBTF(tt.typ), tt.want), qt.Commentf("case %d", i))
	}
}
