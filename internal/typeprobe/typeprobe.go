package typeprobe

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// ErrUnknown is returned for a type or flag the tables have no probe for:
// a value the library doesn't know, or a type whose probe needs the
// loader. It doesn't wrap internal.ErrNotSupported: callers decide what an
// unknown type means.
var ErrUnknown = errors.New("no probe known")

// Named is a map or program type of the root package: a kernel enum value
// with its Go name. Probe errors name the type as the kernel does ("map
// type ringbuf").
type Named interface {
	~uint32
	String() string
}

// probe is one memoized entry of a table. The error names the type by the
// name the first caller gives; every caller passes the root package's
// type, so the name is always the same.
type probe struct {
	version string
	fn      func() error

	once sync.Once
	run  func() error
}

func (p *probe) result(name string) error {
	p.once.Do(func() {
		p.run = internal.NewFeatureTest(name, Configured(name, p.version, p.fn), p.version)
	})
	return p.run()
}

// CreateMap creates a map with attr and closes it. EINVAL (a type or flag
// the kernel doesn't know) and E2BIG (an attribute longer than the
// kernel's, whose extra bytes aren't zero) mean the feature is missing:
// the error is internal.ErrNotSupported.
func CreateMap(attr *sys.MapCreateAttr) error {
	fd, err := sys.MapCreate(attr)
	if err == nil {
		return fd.Close()
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
		return internal.ErrNotSupported
	}
	return err
}

// ReturnZero returns "r0 = 0; exit", the smallest program every type
// accepts, encoded for the host (once per process; the caller must not
// modify the bytes).
var ReturnZero = sync.OnceValues(func() ([]byte, error) {
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, internal.NativeEndian); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// LoadProgram loads "return 0" as a program of type typ with the expected
// attach type and flags, and closes it. EINVAL (an unknown type or attach
// type) and E2BIG (an attribute an old kernel lacks) mean the kernel
// doesn't support it: the error is internal.ErrNotSupported. Other errors
// are returned as they are.
func LoadProgram(typ sys.ProgType, attach sys.AttachType, flags uint32) error {
	code, err := ReturnZero()
	if err != nil {
		return err
	}
	attr := sys.ProgLoadAttr{
		ProgType:           typ,
		InsnCnt:            uint32(len(code) / asm.InstructionSize),
		Insns:              sys.NewSlicePointer(code),
		License:            sys.NewStringPointer("GPL"),
		ExpectedAttachType: attach,
		ProgFlags:          flags,
	}
	if typ == sys.BPF_PROG_TYPE_KPROBE {
		// Kernels before 5.0 want their own version for kprobes.
		if v, err := internal.KernelVersion(); err == nil {
			attr.KernVersion = v.Kernel()
		}
	}
	return Load(&attr)
}

// Load runs BPF_PROG_LOAD with attr and closes the program: the probe of
// a feature that a program attribute asks for. EINVAL and E2BIG mean the
// kernel lacks it (internal.ErrNotSupported); other errors are returned
// as they are.
func Load(attr *sys.ProgLoadAttr) error {
	fd, err := sys.ProgLoad(attr)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
		return internal.ErrNotSupported
	}
	if err != nil {
		return err
	}
	return fd.Close()
}

// KernelAtLeast reports whether the running kernel is version or newer.
func KernelAtLeast(version string) bool {
	want, err := internal.NewVersion(version)
	if err != nil {
		return false
	}
	have, err := internal.KernelVersion()
	return err == nil && !have.Less(want)
}

// Configured wraps fn, the probe for the feature name that kernels since
// version have. When fn finds the feature missing although the kernel is
// that recent, the kernel was built without it: the error says so instead
// of naming a version the kernel already has.
func Configured(name, version string, fn func() error) func() error {
	return func() error {
		err := fn()
		if errors.Is(err, internal.ErrNotSupported) && version != "" && KernelAtLeast(version) {
			return &internal.UnsupportedFeatureError{
				Name: fmt.Sprintf("%s (not built into this kernel, though it is newer than v%s)", name, version),
			}
		}
		return err
	}
}
