package link

import (
	"errors"
	"fmt"
	"sync"

	"github.com/bpfkit/ebpf"
)

// The maps libbpf's usdt.bpf.h declares (and its loader fills). The
// kernel keeps 15 characters of a map's name.
const (
	usdtSpecsMap  = "__bpf_usdt_specs"
	usdtIPMap     = "__bpf_usdt_ip_to_spec_id"
	objNameMaxLen = 15
)

// usdtSpecMaps are a program's two USDT maps, held (as clones) by one
// attachment, and the spec ID pool of the spec map.
type usdtSpecMaps struct {
	specs, ipToID *ebpf.Map
	id            ebpf.MapID
}

// usdtPools holds one spec ID pool per spec map in use by this process,
// keyed by the map's kernel ID: links hold the map open, so the ID can't
// be reused while its pool exists. Attachments made by other processes
// (or by libbpf) to the same map are not coordinated, as in libbpf.
var usdtPools struct {
	sync.Mutex
	byMap map[ebpf.MapID]*usdtPool
}

type usdtPool struct {
	users int
	next  uint32
	free  []uint32
}

// findUSDTSpecMaps returns the USDT maps of prog: those in opts, or those
// among the program's maps named like usdt.bpf.h's. A program using
// neither gives nil; one using only one of them is an error.
func findUSDTSpecMaps(prog *ebpf.Program, opts *USDTOptions) (*usdtSpecMaps, error) {
	var specs, ipToID *ebpf.Map
	var err error
	if opts.Specs != nil || opts.IPToSpecID != nil {
		if opts.Specs == nil || opts.IPToSpecID == nil {
			return nil, errors.New("USDTOptions: give both Specs and IPToSpecID, or neither")
		}
		if specs, err = opts.Specs.Clone(); err != nil {
			return nil, err
		}
		if ipToID, err = opts.IPToSpecID.Clone(); err != nil {
			specs.Close()
			return nil, err
		}
	} else if specs, ipToID, err = programUSDTMaps(prog); err != nil {
		return nil, err
	}
	if specs == nil && ipToID == nil {
		return nil, nil
	}
	m := &usdtSpecMaps{specs: specs, ipToID: ipToID}
	if err := m.check(prog); err != nil {
		m.closeMaps()
		return nil, err
	}
	usdtPools.Lock()
	defer usdtPools.Unlock()
	if usdtPools.byMap == nil {
		usdtPools.byMap = make(map[ebpf.MapID]*usdtPool)
	}
	pool := usdtPools.byMap[m.id]
	if pool == nil {
		pool = &usdtPool{}
		usdtPools.byMap[m.id] = pool
	}
	pool.users++
	return m, nil
}

// programUSDTMaps opens the maps prog uses and keeps those named like
// usdt.bpf.h's: one BPF_OBJ_GET_INFO_BY_FD for the program (Linux 4.15
// lists its maps), then a BPF_MAP_GET_FD_BY_ID (CAP_SYS_ADMIN) and an info
// call per map.
func programUSDTMaps(prog *ebpf.Program) (specs, ipToID *ebpf.Map, err error) {
	defer func() {
		if err != nil {
			specs.Close()
			ipToID.Close()
			specs, ipToID = nil, nil
		}
	}()
	info, err := prog.Info()
	if err != nil {
		return nil, nil, fmt.Errorf("find the USDT maps: %w", err)
	}
	ids, ok := info.MapIDs()
	if !ok {
		return nil, nil, fmt.Errorf("find the USDT maps: the kernel does not list the program's maps (Linux 4.15): give USDTOptions.Specs and IPToSpecID: %w", ErrNotSupported)
	}
	for _, id := range ids {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			return specs, ipToID, fmt.Errorf("find the USDT maps: map %d of the program: %w", id, err)
		}
		mi, err := m.Info()
		if err != nil {
			m.Close()
			return specs, ipToID, fmt.Errorf("find the USDT maps: %w", err)
		}
		switch {
		case specs == nil && mi.Name == kernelObjName(usdtSpecsMap):
			specs = m
		case ipToID == nil && mi.Name == kernelObjName(usdtIPMap):
			ipToID = m
		default:
			m.Close()
		}
	}
	return specs, ipToID, nil
}

func kernelObjName(name string) string { return name[:min(len(name), objNameMaxLen)] }

// check makes sure both maps are there and shaped as usdt.bpf.h declares
// them, and records the spec map's ID.
func (m *usdtSpecMaps) check(prog *ebpf.Program) error {
	switch {
	case m.specs == nil:
		return fmt.Errorf("program %s uses %s but not %s: was it built with a usdt.bpf.h of another layout?", prog, usdtIPMap, usdtSpecsMap)
	case m.ipToID == nil:
		return fmt.Errorf("program %s uses %s but not %s: was it built with a usdt.bpf.h of another layout?", prog, usdtSpecsMap, usdtIPMap)
	}
	if m.specs.Type() != ebpf.Array || m.specs.KeySize() != 4 || m.specs.ValueSize() != usdtSpecSize {
		return fmt.Errorf("map %s: want an array of %d-byte values with 4-byte keys, have %s with %d-byte keys and %d-byte values",
			usdtSpecsMap, usdtSpecSize, m.specs.Type(), m.specs.KeySize(), m.specs.ValueSize())
	}
	if m.ipToID.Type() != ebpf.Hash || m.ipToID.KeySize() != 8 || m.ipToID.ValueSize() != 4 {
		return fmt.Errorf("map %s: want a hash from 8-byte keys to 4-byte values, have %s with %d-byte keys and %d-byte values",
			usdtIPMap, m.ipToID.Type(), m.ipToID.KeySize(), m.ipToID.ValueSize())
	}
	info, err := m.specs.Info()
	if err != nil {
		return fmt.Errorf("map %s: %w", usdtSpecsMap, err)
	}
	id, ok := info.ID()
	if !ok {
		return fmt.Errorf("map %s: the kernel gives no map ID (Linux 4.13): %w", usdtSpecsMap, ErrNotSupported)
	}
	m.id = id
	return nil
}

// alloc takes a free spec ID: a returned one first, as libbpf does, else
// the next never used, up to the spec map's size.
func (m *usdtSpecMaps) alloc() (uint32, error) {
	usdtPools.Lock()
	defer usdtPools.Unlock()
	pool := usdtPools.byMap[m.id]
	if n := len(pool.free); n > 0 {
		id := pool.free[n-1]
		pool.free = pool.free[:n-1]
		return id, nil
	}
	if pool.next >= m.specs.MaxEntries() {
		return 0, fmt.Errorf("all %d entries of %s are in use: build the program with a larger BPF_USDT_MAX_SPEC_CNT", m.specs.MaxEntries(), usdtSpecsMap)
	}
	pool.next++
	return pool.next - 1, nil
}

// release returns spec IDs to the pool. The spec map's entries stay: the
// next user overwrites them.
func (m *usdtSpecMaps) release(ids []uint32) {
	usdtPools.Lock()
	defer usdtPools.Unlock()
	if pool := usdtPools.byMap[m.id]; pool != nil {
		pool.free = append(pool.free, ids...)
	}
}

// Close drops the link's hold on the pool and closes its map clones.
func (m *usdtSpecMaps) Close() error {
	usdtPools.Lock()
	if pool := usdtPools.byMap[m.id]; pool != nil {
		if pool.users--; pool.users == 0 {
			delete(usdtPools.byMap, m.id)
		}
	}
	usdtPools.Unlock()
	return m.closeMaps()
}

func (m *usdtSpecMaps) closeMaps() error {
	return errors.Join(m.specs.Close(), m.ipToID.Close())
}
