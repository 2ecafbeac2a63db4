package ebpf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// Kernel tests of the loader with the objects in testdata: each program
// is loaded on its own, with the maps it references created from the
// object's specs, and run with the input the object's top comment names.

// testObject is a loaded-for-test object: its spec and the maps created so
// far, by name.
type testObject struct {
	t    *testing.T
	spec *CollectionSpec
	maps map[string]*Map
}

func openTestObject(t *testing.T, name string) *testObject {
	t.Helper()
	testutils.RequireRoot(t)
	spec, err := LoadCollectionSpec("testdata/" + name + "-el.elf")
	qt.Assert(t, qt.IsNil(err))
	return &testObject{t: t, spec: spec, maps: make(map[string]*Map)}
}

// programSpec returns a copy of the named program's spec whose map
// references are associated with maps created from the object's specs.
func (o *testObject) programSpec(name string) *ProgramSpec {
	o.t.Helper()
	ps := o.spec.Programs[name]
	qt.Assert(o.t, qt.IsNotNil(ps), qt.Commentf("program %q", name))
	ps = ps.Copy()
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		ref := ins.Reference()
		if ref == "" || !ins.IsLoadFromMap() {
			continue
		}
		qt.Assert(o.t, qt.IsNil(ins.AssociateMap(o.mapByName(ref))))
	}
	return ps
}

func (o *testObject) mapByName(name string) *Map {
	o.t.Helper()
	if m := o.maps[name]; m != nil {
		return m
	}
	ms := o.spec.Maps[name]
	qt.Assert(o.t, qt.IsNotNil(ms), qt.Commentf("map %q", name))
	m, err := NewMap(ms)
	qt.Assert(o.t, qt.IsNil(err), qt.Commentf("map %q", name))
	o.t.Cleanup(func() { m.Close() })
	o.maps[name] = m
	return m
}

// load loads the named program, skipping the test if the kernel lacks a
// feature it needs.
func (o *testObject) load(name string) *Program {
	o.t.Helper()
	prog, err := NewProgram(o.programSpec(name))
	testutils.SkipIfNotSupported(o.t, err)
	qt.Assert(o.t, qt.IsNil(err))
	o.t.Cleanup(func() { prog.Close() })
	return prog
}

// num reads an integer global variable of any size from the map of its
// data section.
func (o *testObject) num(name string) uint64 {
	o.t.Helper()
	vs := o.spec.Variables[name]
	qt.Assert(o.t, qt.IsNotNil(vs), qt.Commentf("variable %q", name))
	m := o.mapByName(vs.SectionName)
	value := make([]byte, m.ValueSize())
	qt.Assert(o.t, qt.IsNil(m.Lookup(uint32(0), value)))
	data := value[vs.Offset : vs.Offset+vs.Size()]
	switch len(data) {
	case 1:
		return uint64(data[0])
	case 2:
		return uint64(internal.NativeEndian.Uint16(data))
	case 4:
		return uint64(internal.NativeEndian.Uint32(data))
	case 8:
		return internal.NativeEndian.Uint64(data)
	}
	o.t.Fatalf("variable %q: %d bytes is not an integer", name, len(data))
	return 0
}

func TestTestdataDefaultObject(t *testing.T) {
	obj := openTestObject(t, "bpfobj_default")
	xdp := obj.load("xdp_count")
	for i := 0; i < 3; i++ {
		ret, _, err := xdp.Test(packet)
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.Equals(ret, uint32(2))) // XDP_PASS
	}
	var packets uint64
	qt.Assert(t, qt.IsNil(obj.mapByName("packets").Lookup(uint32(0), &packets)))
	qt.Check(t, qt.Equals(packets, 3))
	qt.Check(t, qt.Equals(obj.num("bytes"), 3*64))
	qt.Check(t, qt.Equals(obj.num("runs"), 103))

	_, _, err := xdp.Test(make([]byte, 13))
	qt.Check(t, qt.ErrorIs(err, unix.EINVAL))

	sock := obj.load("socket_count")
	ret, _, err := sock.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(50)))
	qt.Assert(t, qt.IsNil(obj.mapByName("packets").Lookup(uint32(0), &packets)))
	qt.Check(t, qt.Equals(packets, 4))
	qt.Check(t, qt.Equals(obj.num("bytes"), 3*64+50))
}

func TestTestdataGlobals(t *testing.T) {
	obj := openTestObject(t, "globals")
	prog := obj.load("read_globals")
	ret, _, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(7)))
	qt.Check(t, qt.Equals(obj.num("bss_u64"), 0x1122334455667788))
	qt.Check(t, qt.Equals(obj.num("data_u32"), 43))
	qt.Check(t, qt.Equals(obj.num("custom_u32"), 0xcafe+1))
}

func TestTestdataSubprograms(t *testing.T) {
	obj := openTestObject(t, "subprogs")
	compute := obj.load("compute")
	ret, _, err := compute.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(65)))

	for name, want := range map[string]uint64{
		"mul": 42, "add": 3, "loop_sum": 10, "each_sum": 10, "hidden": 5, "skb_len": 64,
	} {
		qt.Check(t, qt.Equals(obj.num(name), want), qt.Commentf("variable %s", name))
	}
	numbers := obj.mapByName("numbers")
	for k := uint32(0); k < 4; k++ {
		var v uint64
		qt.Assert(t, qt.IsNil(numbers.Lookup(k, &v)))
		qt.Check(t, qt.Equals(v, uint64(k+1)))
	}

	second := obj.load("second")
	ret, _, err = second.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(11)))
}

func TestTestdataCORE(t *testing.T) {
	obj := openTestObject(t, "core")
	prog := obj.load("core_relos")
	ret, _, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(0)))

	// Expected values from the kernel's own BTF.
	kernel, err := btf.LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	var task *btf.Struct
	qt.Assert(t, qt.IsNil(kernel.TypeByName("task_struct", &task)))
	taskID, err := kernel.TypeID(task)
	qt.Assert(t, qt.IsNil(err))
	var pidOff uint64
	for _, m := range task.Members {
		if m.Name == "pid" {
			pidOff = uint64(m.Offset.Bytes())
		}
	}
	var fn *btf.Enum
	qt.Assert(t, qt.IsNil(kernel.TypeByName("bpf_func_id", &fn)))
	var loop uint64
	for _, v := range fn.Values {
		if v.Name == "BPF_FUNC_loop" {
			loop = v.Value
		}
	}

	want := map[string]uint64{
		"pid_offset": pidOff, "pid_size": 4, "pid_exists": 1, "missing_field_exists": 0,
		"pid_signed": 1, "len_signed": 0,
		"target_type_id": uint64(taskID), "type_exists": 1, "missing_type_exists": 0,
		"type_size": uint64(task.Size), "type_matches": 1, "bad_matches": 0,
		"enum_exists": 1, "enum_missing_exists": 0, "enum_value": loop,
		"skb_len": 64, "pkt_type": 0,
	}
	for name, v := range want {
		qt.Check(t, qt.Equals(obj.num(name), v), qt.Commentf("variable %s", name))
	}
	qt.Check(t, qt.Equals(obj.num("task_pid"), obj.num("cur_tid")))
	qt.Check(t, qt.Equals(obj.num("task_tgid"), obj.num("cur_pid")))
	qt.Check(t, qt.Not(qt.Equals(obj.num("local_type_id"), 0)))
}

// TestTestdataCOREKernelTypes relocates against types given in
// ProgramOptions instead of the kernel's.
func TestTestdataCOREKernelTypes(t *testing.T) {
	obj := openTestObject(t, "core")
	kernel, err := btf.LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	var empty btf.Builder
	none, err := empty.Spec()
	qt.Assert(t, qt.IsNil(err))

	prog, err := NewProgramWithOptions(obj.programSpec("core_relos"), ProgramOptions{KernelTypes: kernel})
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	prog.Close()

	// Types that lack task_struct leave its relocations without target:
	// the poisoned access is named.
	_, err = NewProgramWithOptions(obj.programSpec("core_relos"), ProgramOptions{KernelTypes: none})
	qt.Check(t, qt.ErrorIs(err, errCOREPoisoned))
	qt.Check(t, qt.ErrorMatches(err, `program "core_relos": instruction \d+: CO-RE relocation .*: no target in the kernel's BTF: .*`))

	// ExtraRelocationTargets are searched too.
	prog, err = NewProgramWithOptions(obj.programSpec("core_relos"), ProgramOptions{KernelTypes: none, ExtraRelocationTargets: []*btf.Spec{kernel}})
	qt.Assert(t, qt.IsNil(err))
	prog.Close()
}

func TestTestdataKsyms(t *testing.T) {
	obj := openTestObject(t, "ksyms")
	prog := obj.load("use_ksyms")
	ret, _, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(0)))

	addrs := map[string]uint64{"__start_BTF": 0, "__stop_BTF": 0}
	err = kallsyms.AssignAddresses(addrs)
	if errors.Is(err, ErrRestrictedKernel) {
		t.Skip("kernel hides symbol addresses (kernel.kptr_restrict):", err)
	}
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(obj.num("btf_start"), addrs["__start_BTF"]))
	qt.Check(t, qt.Equals(obj.num("btf_end"), addrs["__stop_BTF"]))
	qt.Check(t, qt.IsTrue(addrs["__stop_BTF"] > addrs["__start_BTF"]))
	qt.Check(t, qt.Equals(obj.num("missing_var"), 0))
	qt.Check(t, qt.Equals(obj.num("missing_kfunc"), 0))
	qt.Check(t, qt.Equals(obj.num("task_pid"), 2))
}

func TestTestdataKsymsTyped(t *testing.T) {
	obj := openTestObject(t, "ksyms_typed")
	for name := range obj.spec.Programs {
		prog, err := NewProgram(obj.programSpec(name))
		if err == nil {
			prog.Close()
			continue
		}
		var ve *VerifierError
		if errors.As(err, &ve) && errors.Is(err, unix.ENOENT) && strings.Contains(err.Error(), "failed to find the address") {
			// The kernel resolves typed per-CPU ksyms through kallsyms,
			// which lists data symbols only with CONFIG_KALLSYMS_ALL.
			t.Skip("kernel built without CONFIG_KALLSYMS_ALL:", err)
		}
		qt.Assert(t, qt.IsNil(err))
	}
}

func TestTestdataKfuncs(t *testing.T) {
	obj := openTestObject(t, "kfuncs")
	prog := obj.load("use_kfuncs")
	ret, err := prog.Run(&RunOptions{})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(0)))
	qt.Check(t, qt.Equals(obj.num("mask_weight"), 2))
	qt.Check(t, qt.Equals(obj.num("iter_sum"), 45))
	qt.Check(t, qt.Equals(obj.num("dynptr_size"), 16))
}

func TestTestdataSyscall(t *testing.T) {
	obj := openTestObject(t, "syscall")
	prog := obj.load("syscall_prog")

	type args struct {
		A, B uint32
		Out  uint64
	}
	in := args{A: 6, B: 7}
	ret, err := prog.Run(&RunOptions{Context: &in})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(42)))
	qt.Check(t, qt.Equals(in.Out, 13))
	qt.Check(t, qt.Equals(obj.num("calls"), 1))

	_, err = prog.Run(&RunOptions{Context: make([]byte, 8)})
	qt.Check(t, qt.ErrorIs(err, unix.EINVAL))
}

func TestTestdataVerifierError(t *testing.T) {
	obj := openTestObject(t, "err_verifier")

	// The good program of the object loads.
	good := obj.load("good")
	ret, _, err := good.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(0)))

	_, err = NewProgram(obj.programSpec("oob_read"))
	var ve *VerifierError
	qt.Assert(t, qt.ErrorAs(err, &ve))
	qt.Check(t, qt.Equals(ve.Source, "err_verifier.c:32"))
	qt.Check(t, qt.ErrorMatches(err,
		`program "oob_read": load program: permission denied: invalid access to map value, value_size=8 off=24 size=8: .* \(err_verifier\.c:32\)`))
	qt.Check(t, qt.ErrorIs(err, unix.EACCES))
	qt.Check(t, qt.IsTrue(len(ve.Log) > 5))
}

func TestTestdataCOREMissing(t *testing.T) {
	obj := openTestObject(t, "err_core_missing")
	_, err := NewProgram(obj.programSpec("read_missing"))
	qt.Assert(t, qt.IsNotNil(err))
	qt.Check(t, qt.ErrorMatches(err, `program "read_missing": instruction 1: CO-RE relocation byte_off of struct task_struct\.bpfkit_no_such_field .*: no target in the kernel's BTF: load program: .*`))
	qt.Check(t, qt.ErrorIs(err, errCOREPoisoned))
	var ve *VerifierError
	qt.Check(t, qt.ErrorAs(err, &ve))
}

func TestTestdataKconfig(t *testing.T) {
	obj := openTestObject(t, "kconfig")
	prog := obj.load("read_kconfig")
	ret, _, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(0)))

	config, err := kconfig.ParseKernel(map[string]struct{}{
		"CONFIG_HZ": {}, "CONFIG_BPF_JIT": {}, "CONFIG_DEFAULT_HOSTNAME": {},
	})
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("kernel configuration not found (/boot/config-*, /proc/config.gz):", err)
	}
	qt.Assert(t, qt.IsNil(err))
	version, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	hz, err := strconv.ParseUint(config["CONFIG_HZ"], 0, 32)
	qt.Assert(t, qt.IsNil(err))
	jit := map[string]uint64{"y": 1, "m": 2, "n": 0, "": 0}[config["CONFIG_BPF_JIT"]]

	qt.Check(t, qt.Equals(obj.num("version"), uint64(version.Kernel())))
	qt.Check(t, qt.Equals(obj.num("hz"), hz))
	qt.Check(t, qt.Equals(obj.num("bpf_syscall"), 1))
	qt.Check(t, qt.Equals(obj.num("bpf_jit"), jit))
	qt.Check(t, qt.Equals(obj.num("missing"), 0))
	qt.Check(t, qt.Equals(obj.num("missing_bool"), 0))

	vs := obj.spec.Variables["hostname"]
	m := obj.mapByName(vs.SectionName)
	value := make([]byte, m.ValueSize())
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), value)))
	hostname := strings.TrimRight(string(value[vs.Offset:vs.Offset+vs.Size()]), "\x00")
	qt.Check(t, qt.Equals(`"`+hostname+`"`, config["CONFIG_DEFAULT_HOSTNAME"]))
}

func TestTestdataUnresolvedExterns(t *testing.T) {
	obj := openTestObject(t, "err_extern")
	var msgs []string
	for _, name := range sortedProgramNames(obj.spec) {
		_, err := NewProgram(obj.programSpec(name))
		qt.Assert(t, qt.IsNotNil(err), qt.Commentf("program %q", name))
		msgs = append(msgs, err.Error())
	}
	all := strings.Join(msgs, "\n")
	qt.Check(t, qt.StringContains(all, `kfunc "bpfkit_no_such_kfunc"`))
	qt.Check(t, qt.StringContains(all, "CONFIG_BPFKIT_NO_SUCH_OPTION"))
}

func sortedProgramNames(spec *CollectionSpec) []string {
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// attachBTFID returns the attach_btf_id the kernel reports for prog.
func attachBTFID(t *testing.T, prog *Program) btf.TypeID {
	t.Helper()
	var info sys.ProgInfo
	qt.Assert(t, qt.IsNil(sys.ObjInfo(prog.fd, &info)))
	return btf.TypeID(info.AttachBtfId)
}

// kernelTypeID returns the ID of the named type in the kernel's BTF.
func kernelTypeID(t *testing.T, name string, typ any) btf.TypeID {
	t.Helper()
	kernel, err := btf.LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(kernel.TypeByName(name, typ)))
	id, err := kernel.TypeID(reflectValue(typ))
	qt.Assert(t, qt.IsNil(err))
	return id
}

func reflectValue(typ any) btf.Type {
	switch v := typ.(type) {
	case **btf.Func:
		return *v
	case **btf.Typedef:
		return *v
	case **btf.Struct:
		return *v
	}
	panic(fmt.Sprintf("%T", typ))
}

func TestTestdataTracing(t *testing.T) {
	obj := openTestObject(t, "link_tracing")
	var fn *btf.Func
	var td *btf.Typedef
	for _, tc := range []struct {
		prog   string
		kind   string // for SkipIfForbidden, "" if the kernel allows it
		target btf.TypeID
	}{
		{"kp", "", 0},
		{"kretp", "", 0},
		{"kp_multi", "", 0},
		{"kretp_multi", "", 0},
		{"on_fentry", "tracing", kernelTypeID(t, "bpf_fentry_test1", &fn)},
		{"on_fexit", "tracing", kernelTypeID(t, "bpf_fentry_test1", &fn)},
		{"on_fmod_ret", "tracing", kernelTypeID(t, "bpf_modify_return_test", &fn)},
		{"on_tp_btf", "tracing", kernelTypeID(t, "btf_trace_sys_enter", &td)},
		{"on_file_open", "LSM", kernelTypeID(t, "bpf_lsm_file_open", &fn)},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			prog, err := NewProgram(obj.programSpec(tc.prog))
			if tc.kind != "" {
				testutils.SkipIfForbidden(t, err, tc.kind+" programs")
			}
			testutils.SkipIfNotSupported(t, err)
			qt.Assert(t, qt.IsNil(err))
			defer prog.Close()
			qt.Check(t, qt.Equals(attachBTFID(t, prog), tc.target))
		})
	}

	// A target the kernel lacks is named before anything is loaded.
	spec := obj.programSpec("on_fentry")
	spec.AttachTo = "bpfkit_no_such_function"
	_, err := NewProgram(spec)
	qt.Check(t, qt.ErrorIs(err, ErrNotSupported))
	qt.Check(t, qt.ErrorMatches(err, `program "on_fentry": attach target: fentry bpfkit_no_such_function \(no bpfkit_no_such_function in the kernel's BTF\) not supported`))
}

func TestTestdataIterators(t *testing.T) {
	obj := openTestObject(t, "link_iter")
	var fn *btf.Func
	for name, target := range map[string]btf.TypeID{
		"dump_task": kernelTypeID(t, "bpf_iter_task", &fn),
		"dump_map":  kernelTypeID(t, "bpf_iter_bpf_map", &fn),
	} {
		t.Run(name, func(t *testing.T) {
			prog := obj.load(name)
			qt.Check(t, qt.Equals(attachBTFID(t, prog), target))
		})
	}
}

func TestTestdataExtension(t *testing.T) {
	target := openTestObject(t, "link_freplace_target")
	entry := target.load("freplace_entry")
	ret, _, err := entry.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(8)))

	ext := openTestObject(t, "link_freplace")
	spec := ext.programSpec("new_replace_me")
	qt.Check(t, qt.Equals(spec.AttachTo, "replace_me"))
	spec.AttachTarget = entry
	prog, err := NewProgram(spec)
	testutils.SkipIfForbidden(t, err, "extension programs")
	qt.Assert(t, qt.IsNil(err))
	defer prog.Close()

	spec.AttachTo = "bpfkit_no_such_function"
	_, err = NewProgram(spec)
	qt.Check(t, qt.ErrorMatches(err, `program "new_replace_me": attach target program .*: function "bpfkit_no_such_function": .*not found`))
}

func TestTestdataStructOps(t *testing.T) {
	obj := openTestObject(t, "struct_ops")
	var st *btf.Struct
	want := kernelTypeID(t, "tcp_congestion_ops", &st)
	for _, name := range sortedProgramNames(obj.spec) {
		t.Run(name, func(t *testing.T) {
			spec := obj.programSpec(name)
			if spec.Type != StructOps {
				t.Skip("not a struct_ops program")
			}
			prog, err := NewProgram(spec)
			testutils.SkipIfNotSupported(t, err)
			qt.Assert(t, qt.IsNil(err))
			defer prog.Close()
			qt.Check(t, qt.Equals(attachBTFID(t, prog), want))
		})
	}
}

// TestTestdataLoadFaults fails the bpf(2) calls of loading programs with
// maps, BTF, func and line info, CO-RE, kfuncs, ksyms and a .kconfig map
// one after the other; every failure must close what it opened.
func TestTestdataLoadFaults(t *testing.T) {
	for _, tc := range []struct{ object, program string }{
		{"subprogs", "compute"},
		{"core", "core_relos"},
		{"kconfig", "read_kconfig"},
		{"ksyms", "use_ksyms"},
		{"kfuncs", "use_kfuncs"},
	} {
		t.Run(tc.program, func(t *testing.T) {
			obj := openTestObject(t, tc.object)
			spec := obj.programSpec(tc.program)
			// Create the maps and run the probes first: they are not what
			// this test walks.
			obj.load(tc.program)
			walkFaults(t, func() (*Program, error) {
				return NewProgramWithOptions(spec, ProgramOptions{LogLevel: LogLevelBranch})
			}, true)
		})
	}
}
