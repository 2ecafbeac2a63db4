//go:build vmtest_selftest

// Package featuretest is the kernel feature check that `vmtest -selftest`
// adds to a run. It loads and attaches the program types that a restricted
// host forbids (kprobe, kretprobe, fentry, fexit, fmod_ret, LSM, freplace,
// kprobe_multi) with raw bpf(2) and perf_event_open(2), so that the summary
// shows what the VM kernel can do before the library's own tests rely on
// it. It deliberately uses nothing of the library: it checks the VM, not
// the code under test. The build tag keeps it out of every other build.
package featuretest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// progLoadAttr is the BPF_PROG_LOAD member of union bpf_attr, up to
// attach_prog_fd, padded to 8 bytes.
type progLoadAttr struct {
	ProgType, InsnCnt                                       uint32
	Insns, License                                          uint64
	LogLevel, LogSize                                       uint32
	LogBuf                                                  uint64
	KernVersion, ProgFlags                                  uint32
	ProgName                                                [16]byte
	ProgIfindex, ExpectedAttachType, ProgBTFFd, FuncInfoRec uint32
	FuncInfo                                                uint64
	FuncInfoCnt, LineInfoRec                                uint32
	LineInfo                                                uint64
	LineInfoCnt, AttachBTFID, AttachProgFd, _               uint32
}

// linkCreateAttr is the BPF_LINK_CREATE member for kprobe_multi.
type linkCreateAttr struct {
	ProgFd, TargetFd, AttachType, Flags uint32
	MultiFlags, MultiCnt                uint32
	Syms, Addrs, Cookies                uint64
}

// bpf issues one bpf(2) command. Only this package's tests call it.
func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// returnZero is "r0 = 0; exit", accepted by every program type here.
var returnZero = []byte{
	0xb7, 0, 0, 0, 0, 0, 0, 0, // BPF_ALU64 | BPF_MOV | BPF_K: r0 = 0
	0x95, 0, 0, 0, 0, 0, 0, 0, // BPF_JMP | BPF_EXIT
}

// returnOne is "r0 = 1; exit".
var returnOne = []byte{
	0xb7, 0, 0, 0, 1, 0, 0, 0,
	0x95, 0, 0, 0, 0, 0, 0, 0,
}

// load loads returnZero as a program of the given type; on failure the
// error carries the verifier log.
func load(progType, attachType, btfID uint32) (int, error) {
	return loadAttr(progLoadAttr{ProgType: progType, ExpectedAttachType: attachType, AttachBTFID: btfID}, returnZero)
}

// loadAttr fills in the instructions, license and log of attr and loads it.
func loadAttr(attr progLoadAttr, insns []byte) (int, error) {
	license := []byte("GPL\x00")
	log := make([]byte, 64<<10)
	attr.InsnCnt = uint32(len(insns) / 8)
	attr.Insns = uint64(uintptr(unsafe.Pointer(&insns[0])))
	attr.License = uint64(uintptr(unsafe.Pointer(&license[0])))
	attr.LogLevel, attr.LogSize, attr.LogBuf = 1, uint32(len(log)), uint64(uintptr(unsafe.Pointer(&log[0])))
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	runtime.KeepAlive(log)
	if err != nil {
		return -1, fmt.Errorf("BPF_PROG_LOAD: %w: %s", err, bytes.TrimRight(log, "\x00"))
	}
	return fd, nil
}

// rawTracepointOpen attaches a tracing or LSM program to its BTF target.
func rawTracepointOpen(prog int) (int, error) {
	attr := struct {
		Name       uint64
		ProgFd, _p uint32
	}{ProgFd: uint32(prog)}
	fd, err := bpf(unix.BPF_RAW_TRACEPOINT_OPEN, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return -1, fmt.Errorf("BPF_RAW_TRACEPOINT_OPEN: %w", err)
	}
	return fd, nil
}

// vmlinuxFunc returns the BTF id of the function name in the kernel's BTF.
func vmlinuxFunc(t *testing.T, name string) uint32 {
	t.Helper()
	data, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		t.Fatalf("kernel BTF: %v", err)
	}
	id, err := findFunc(data, name)
	if err != nil {
		t.Fatalf("kernel BTF: %v", err)
	}
	return id
}

// findFunc walks the type section of a native-endian BTF blob for a
// BTF_KIND_FUNC named name.
func findFunc(data []byte, name string) (uint32, error) {
	le := binary.LittleEndian
	if len(data) < 24 || le.Uint16(data) != 0xeb9f {
		return 0, errors.New("not little-endian BTF")
	}
	hdrLen := le.Uint32(data[4:])
	typeOff, typeLen := hdrLen+le.Uint32(data[8:]), le.Uint32(data[12:])
	strOff, strLen := hdrLen+le.Uint32(data[16:]), le.Uint32(data[20:])
	if uint64(typeOff)+uint64(typeLen) > uint64(len(data)) || uint64(strOff)+uint64(strLen) > uint64(len(data)) {
		return 0, errors.New("BTF sections out of bounds")
	}
	types, strs := data[typeOff:typeOff+typeLen], data[strOff:strOff+strLen]
	str := func(off uint32) string {
		if off >= uint32(len(strs)) {
			return ""
		}
		s := strs[off:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s)
	}
	id := uint32(1)
	for off := 0; off+12 <= len(types); id++ {
		nameOff, info := le.Uint32(types[off:]), le.Uint32(types[off+4:])
		kind, vlen := (info>>24)&0x1f, int(info&0xffff)
		if kind == 12 && str(nameOff) == name { // BTF_KIND_FUNC
			return id, nil
		}
		off += 12
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG
			off += 4
		case 3: // ARRAY
			off += 12
		case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
			off += 12 * vlen
		case 6, 13: // ENUM, FUNC_PROTO
			off += 8 * vlen
		case 2, 7, 8, 9, 10, 11, 12, 16, 18: // no trailing data
		default:
			return 0, fmt.Errorf("type %d: unknown BTF kind %d", id, kind)
		}
	}
	return 0, fmt.Errorf("no function %s", name)
}

func closeFd(t *testing.T, fd int) { t.Cleanup(func() { unix.Close(fd) }) }

func TestKernelBTF(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Fatalf("no kernel BTF: %v", err)
	}
	t.Logf("bpf_fentry_test1 has BTF id %d", vmlinuxFunc(t, "bpf_fentry_test1"))
}

func TestKprobe(t *testing.T) {
	for _, ret := range []bool{false, true} {
		name := map[bool]string{false: "kprobe", true: "kretprobe"}[ret]
		t.Run(name, func(t *testing.T) {
			prog, err := load(unix.BPF_PROG_TYPE_KPROBE, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			closeFd(t, prog)
			pmu, err := readUint("/sys/bus/event_source/devices/kprobe/type")
			if err != nil {
				t.Fatalf("kprobe PMU: %v", err)
			}
			sym := []byte("vfs_read\x00")
			attr := unix.PerfEventAttr{
				Type: uint32(pmu), Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
				Ext1: uint64(uintptr(unsafe.Pointer(&sym[0]))),
			}
			if ret {
				attr.Config = 1 // format/retprobe is config:0
			}
			pfd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
			runtime.KeepAlive(sym)
			if err != nil {
				t.Fatalf("perf_event_open %s on vfs_read: %v", name, err)
			}
			closeFd(t, pfd)
			if err := unix.IoctlSetInt(pfd, unix.PERF_EVENT_IOC_SET_BPF, prog); err != nil {
				t.Fatalf("PERF_EVENT_IOC_SET_BPF: %v", err)
			}
			if err := unix.IoctlSetInt(pfd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
				t.Fatalf("PERF_EVENT_IOC_ENABLE: %v", err)
			}
		})
	}
}

func TestTracing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		progType   uint32
		attachType uint32
		target     string
		skipOn     error
		skipWhy    string
	}{
		{"fentry", unix.BPF_PROG_TYPE_TRACING, unix.BPF_TRACE_FENTRY, "bpf_fentry_test1", nil, ""},
		{"fexit", unix.BPF_PROG_TYPE_TRACING, unix.BPF_TRACE_FEXIT, "bpf_fentry_test1", nil, ""},
		{"fmod_ret on an LSM hook", unix.BPF_PROG_TYPE_TRACING, unix.BPF_MODIFY_RETURN, "security_file_open", nil, ""},
		{"fmod_ret on bpf_modify_return_test", unix.BPF_PROG_TYPE_TRACING, unix.BPF_MODIFY_RETURN, "bpf_modify_return_test",
			unix.EINVAL, "the kernel only allows fmod_ret on security_* hooks without CONFIG_FUNCTION_ERROR_INJECTION"},
		{"lsm", unix.BPF_PROG_TYPE_LSM, unix.BPF_LSM_MAC, "bpf_lsm_file_open", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := load(tc.progType, tc.attachType, vmlinuxFunc(t, tc.target))
			if tc.skipOn != nil && errors.Is(err, tc.skipOn) {
				t.Skipf("%s: %v", tc.skipWhy, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			closeFd(t, prog)
			link, err := rawTracepointOpen(prog)
			if err != nil {
				t.Fatal(err)
			}
			closeFd(t, link)
		})
	}
}

func TestLSMActive(t *testing.T) {
	lsms, err := os.ReadFile("/sys/kernel/security/lsm")
	if err != nil {
		t.Fatalf("securityfs: %v", err)
	}
	if !strings.Contains(","+string(lsms)+",", ",bpf,") {
		t.Fatalf("the BPF LSM is not active (lsm=%s): LSM programs would load but never run", lsms)
	}
}

func TestKprobeMulti(t *testing.T) {
	prog, err := load(unix.BPF_PROG_TYPE_KPROBE, unix.BPF_TRACE_KPROBE_MULTI, 0)
	if errors.Is(err, unix.EINVAL) {
		t.Skipf("kernel rejects kprobe_multi programs (added in 5.18): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	closeFd(t, prog)
	sym := []byte("vfs_read\x00")
	syms := []uint64{uint64(uintptr(unsafe.Pointer(&sym[0])))}
	attr := linkCreateAttr{
		ProgFd: uint32(prog), AttachType: unix.BPF_TRACE_KPROBE_MULTI,
		MultiCnt: 1, Syms: uint64(uintptr(unsafe.Pointer(&syms[0]))),
	}
	link, err := bpf(unix.BPF_LINK_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(sym)
	runtime.KeepAlive(syms)
	if errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("kernel built without CONFIG_FPROBE, so no kprobe_multi links: %v", err)
	}
	if err != nil {
		t.Fatalf("BPF_LINK_CREATE kprobe_multi: %v", err)
	}
	closeFd(t, link)
}

// funcBTF is a BTF blob with two global functions of type "int (void)",
// "main" and "target": [1] int, [2] func_proto, [3] main, [4] target.
func funcBTF() []byte {
	le := binary.LittleEndian
	strs := []byte("\x00int\x00main\x00target\x00")
	var types []byte
	for _, w := range []uint32{
		1, 1 << 24, 4, 1<<24 | 32, // [1] INT "int", 4 bytes, signed, 32 bits
		0, 13 << 24, 1, // [2] FUNC_PROTO returning [1], no parameters
		5, 12<<24 | 1, 2, // [3] FUNC "main", global linkage, proto [2]
		10, 12<<24 | 1, 2, // [4] FUNC "target", global linkage, proto [2]
	} {
		types = le.AppendUint32(types, w)
	}
	var b []byte
	b = le.AppendUint16(b, 0xeb9f)
	b = append(b, 1, 0) // version, flags
	for _, w := range []uint32{24, 0, uint32(len(types)), uint32(len(types)), uint32(len(strs))} {
		b = le.AppendUint32(b, w) // hdr_len, type_off, type_len, str_off, str_len
	}
	return append(append(b, types...), strs...)
}

// callTarget is main, which returns what the global function target
// returns, followed by target, which returns 0.
var callTarget = []byte{
	0x85, 0x10, 0, 0, 1, 0, 0, 0, // call pc+1 (BPF_PSEUDO_CALL): target
	0x95, 0, 0, 0, 0, 0, 0, 0, // exit
	0xb7, 0, 0, 0, 0, 0, 0, 0, // target: r0 = 0
	0x95, 0, 0, 0, 0, 0, 0, 0, // exit
}

func loadBTF(t *testing.T, blob []byte) int {
	t.Helper()
	log := make([]byte, 64<<10)
	attr := struct {
		BTF, LogBuf                uint64
		Size, LogSize, LogLevel, _ uint32
	}{
		BTF: uint64(uintptr(unsafe.Pointer(&blob[0]))), Size: uint32(len(blob)),
		LogBuf: uint64(uintptr(unsafe.Pointer(&log[0]))), LogSize: uint32(len(log)), LogLevel: 1,
	}
	fd, err := bpf(unix.BPF_BTF_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(blob)
	runtime.KeepAlive(log)
	if err != nil {
		t.Fatalf("BPF_BTF_LOAD: %v: %s", err, bytes.TrimRight(log, "\x00"))
	}
	closeFd(t, fd)
	return fd
}

// testRun runs a socket filter once on a zeroed Ethernet frame and returns
// its return value.
func testRun(t *testing.T, prog int) uint32 {
	t.Helper()
	frame := make([]byte, 64)
	attr := struct {
		ProgFd, Retval, DataSizeIn, DataSizeOut uint32
		DataIn, DataOut                         uint64
		Repeat, Duration                        uint32
		_                                       [40]byte
	}{ProgFd: uint32(prog), DataSizeIn: uint32(len(frame)), DataIn: uint64(uintptr(unsafe.Pointer(&frame[0]))), Repeat: 1}
	_, err := bpf(unix.BPF_PROG_TEST_RUN, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(frame)
	if err != nil {
		t.Fatalf("BPF_PROG_TEST_RUN: %v", err)
	}
	return attr.Retval
}

// TestFreplace replaces the global function of a socket filter that
// returns 0 by an extension returning 1 and checks, by running the filter,
// that the replacement took effect and ends with its link.
func TestFreplace(t *testing.T) {
	btf := loadBTF(t, funcBTF())
	targetInfo := []uint32{0, 3, 2, 4} // insn 0 is main [3], insn 2 is target [4]
	tgtAttr := progLoadAttr{
		ProgType: unix.BPF_PROG_TYPE_SOCKET_FILTER, ProgBTFFd: uint32(btf), FuncInfoRec: 8, FuncInfoCnt: 2,
		FuncInfo: uint64(uintptr(unsafe.Pointer(&targetInfo[0]))),
	}
	tgt, err := loadAttr(tgtAttr, callTarget)
	runtime.KeepAlive(targetInfo)
	if err != nil {
		t.Fatalf("target: %v", err)
	}
	closeFd(t, tgt)
	if got := testRun(t, tgt); got != 0 {
		t.Fatalf("target returned %d before the extension, want 0", got)
	}

	extInfo := []uint32{0, 4} // the extension is a "target" too
	extAttr := progLoadAttr{
		ProgType: unix.BPF_PROG_TYPE_EXT, ProgBTFFd: uint32(btf), FuncInfoRec: 8, FuncInfoCnt: 1,
		FuncInfo:     uint64(uintptr(unsafe.Pointer(&extInfo[0]))),
		AttachProgFd: uint32(tgt), AttachBTFID: 4,
	}
	ext, err := loadAttr(extAttr, returnOne)
	runtime.KeepAlive(extInfo)
	if err != nil {
		t.Fatalf("extension: %v", err)
	}
	closeFd(t, ext)
	link, err := rawTracepointOpen(ext)
	if err != nil {
		t.Fatal(err)
	}
	if got := testRun(t, tgt); got != 1 {
		t.Errorf("target returned %d with the extension attached, want 1", got)
	}
	unix.Close(link)
	if got := testRun(t, tgt); got != 0 {
		t.Errorf("target returned %d after the extension's link closed, want 0", got)
	}
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
}
