package btf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bpfkit/ebpf/internal"
	"golang.org/x/sys/unix"
)

// The kernel's BTF is indexed once per process: the index (rawSpec) is
// read-only and shared, and every LoadKernelSpec returns a fresh Spec on
// top of it that decodes types on demand. A Spec of its own costs a few
// hundred bytes until it decodes something; two Specs never share decoded
// types, so modifying one does not affect the other. Cache shares one Spec
// (decoded types included) between the programs of a collection.

var kernelBTF struct {
	sync.Mutex
	raw *rawSpec
}

// LoadKernelSpec returns the running kernel's BTF: /sys/kernel/btf/vmlinux
// or, for kernels without it, the first vmlinux ELF file with BTF in the
// places distributions install them.
//
// The first call indexes the kernel's BTF (a few milliseconds, a few
// hundred KB); later calls only allocate a new Spec over the shared index.
// Consider Cache to also share the decoded types.
//
// Returns an error wrapping ErrNotSupported if the kernel has no BTF
// (CONFIG_DEBUG_INFO_BTF, Linux 5.4 and later).
func LoadKernelSpec() (*Spec, error) {
	raw, err := kernelRaw()
	if err != nil {
		return nil, err
	}
	return newSpec(raw), nil
}

func kernelRaw() (*rawSpec, error) {
	kernelBTF.Lock()
	defer kernelBTF.Unlock()
	if kernelBTF.raw != nil {
		return kernelBTF.raw, nil
	}
	spec, err := loadKernelSpecUncached()
	if err != nil {
		return nil, err
	}
	kernelBTF.raw = spec.raw
	return spec.raw, nil
}

func loadKernelSpecUncached() (*Spec, error) {
	path := filepath.Join(kernelBTFDir, "vmlinux")
	spec, err := LoadSpec(path)
	if err == nil {
		return spec, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	file, err := findVMLinux()
	if err != nil {
		return nil, err
	}
	spec, err = LoadSpec(file)
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	return spec, nil
}

// vmlinuxLocations are where distributions put an uncompressed vmlinux
// with BTF, as libbpf searches them. %s is the kernel release.
var vmlinuxLocations = []string{
	"/boot/vmlinux-%s",
	"/lib/modules/%s/vmlinux-%[1]s",
	"/lib/modules/%s/build/vmlinux",
	"/usr/lib/modules/%s/kernel/vmlinux",
	"/usr/lib/debug/boot/vmlinux-%s",
	"/usr/lib/debug/boot/vmlinux-%s.debug",
	"/usr/lib/debug/lib/modules/%s/vmlinux",
}

// findVMLinux returns the first readable vmlinux of the running kernel.
func findVMLinux() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(uts.Release[:])
	for _, loc := range vmlinuxLocations {
		path := fmt.Sprintf(loc, release)
		if f, err := os.Open(path); err == nil {
			f.Close()
			return path, nil
		}
	}
	return "", fmt.Errorf("no BTF for kernel %s (no %s/vmlinux, no vmlinux file found): %w", release, kernelBTFDir, internal.ErrNotSupported)
}

// LoadKernelModuleSpec returns the BTF of a loaded kernel module, from
// /sys/kernel/btf/<module>, as split BTF on the kernel's. Its own types are
// those of the module; IDs of kernel types resolve too.
//
// Returns an error wrapping ErrNotSupported if the kernel has no BTF, and
// one wrapping fs.ErrNotExist if the module has none (or is not loaded).
func LoadKernelModuleSpec(module string) (*Spec, error) {
	raw, err := kernelRaw()
	if err != nil {
		return nil, err
	}
	return loadModule(module, raw)
}

func loadModule(module string, base *rawSpec) (*Spec, error) {
	if module == "" || module == "vmlinux" || strings.ContainsAny(module, "/\x00") || module == "." || module == ".." {
		return nil, fmt.Errorf("invalid kernel module name %q", module)
	}
	path := filepath.Join(kernelBTFDir, module)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	defer f.Close()
	spec, _, err := loadSpecFromReader(f, base, false)
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	return spec, nil
}

// Cache shares decoded kernel BTF between users, such as the programs of
// one collection. Unlike LoadKernelSpec, it returns the same Spec (and so
// the same decoded types) every time: do not modify the types it returns.
//
// It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	kernel  *Spec
	modules map[string]*Spec
}

// NewCache returns an empty Cache.
func NewCache() *Cache {
	return &Cache{modules: make(map[string]*Spec)}
}

// Kernel is LoadKernelSpec, returning the same Spec on every call.
func (c *Cache) Kernel() (*Spec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kernelLocked()
}

func (c *Cache) kernelLocked() (*Spec, error) {
	if c.kernel != nil {
		return c.kernel, nil
	}
	spec, err := LoadKernelSpec()
	if err != nil {
		return nil, err
	}
	c.kernel = spec
	return spec, nil
}

// Module is LoadKernelModuleSpec, returning the same Spec for a module on
// every call. All modules share the Kernel Spec's index as their base.
func (c *Cache) Module(name string) (*Spec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if spec, ok := c.modules[name]; ok {
		return spec, nil
	}
	kernel, err := c.kernelLocked()
	if err != nil {
		return nil, err
	}
	spec, err := loadModule(name, kernel.raw)
	if err != nil {
		return nil, err
	}
	if c.modules == nil {
		c.modules = make(map[string]*Spec)
	}
	c.modules[name] = spec
	return spec, nil
}

// Modules returns the names of the loaded modules that have BTF, sorted.
func (c *Cache) Modules() ([]string, error) {
	entries, err := os.ReadDir(kernelBTFDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", kernelBTFDir, internal.ErrNotSupported)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Name() != "vmlinux" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}
