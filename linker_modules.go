package ebpf

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"

	"github.com/bpfkit/ebpf/btf"
)

// kernelTypes finds kernel functions, variables and attach targets in the
// BTF of the kernel and its modules for one program load, and keeps the
// handles of the module BTF the program refers to open until the load is
// done. The kernel's BTF comes from the shared cache; a module's BTF is
// only read when a name is not in the kernel's and kallsyms says which
// module defines it, so loading never decodes the BTF of every module.
type kernelTypes struct {
	cache *btf.Cache
	// syms answers which module defines a name (and, for the ksym linker,
	// addresses), shared by the programs of one load.
	syms *kallsymsCache
	// handles of module BTF, by module name, and their order in the
	// program's fd_array (index 0 stands for vmlinux).
	handles map[string]*btf.Handle
	order   []string
}

// newKernelTypes returns a kernelTypes using c, or a Cache of its own,
// made when first needed, if c is nil, and syms.
func newKernelTypes(c *btf.Cache, syms *kallsymsCache) *kernelTypes {
	return &kernelTypes{cache: c, syms: syms}
}

// btf returns the cache of kernel BTF, making it on first use.
func (kt *kernelTypes) btf() *btf.Cache {
	if kt.cache == nil {
		kt.cache = btf.NewCache()
	}
	return kt.cache
}

// Close closes the module BTF handles.
func (kt *kernelTypes) Close() error {
	var errs []error
	for _, name := range kt.order {
		errs = append(errs, kt.handles[name].Close())
	}
	kt.handles, kt.order = nil, nil
	return errors.Join(errs...)
}

// find looks up the type called name, of the kind of *target, setting
// *target. It searches the kernel's BTF and then, if the kernel has none,
// the BTF of the module that kallsyms says defines symbol (name itself
// when symbol is ""). module is "" for a type of the kernel itself.
//
// It returns an error wrapping btf.ErrNotFound when no BTF has the type,
// and one wrapping ErrNotSupported when the kernel has no BTF.
func (kt *kernelTypes) find(name, symbol string, target any) (spec *btf.Spec, module string, err error) {
	kernel, err := kt.btf().Kernel()
	if err != nil {
		return nil, "", fmt.Errorf("load kernel BTF: %w", err)
	}
	err = kernel.TypeByName(name, target)
	if err == nil || !errors.Is(err, btf.ErrNotFound) {
		return kernel, "", err
	}

	if symbol == "" {
		symbol = name
	}
	module, merr := kt.syms.module(symbol)
	if merr != nil || module == "" {
		// Not a symbol of a module: the kernel's error stands.
		return nil, "", err
	}
	spec, merr = kt.btf().Module(module)
	if errors.Is(merr, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("%w (module %s has no BTF)", err, module)
	}
	if merr != nil {
		return nil, "", merr
	}
	if err := spec.TypeByName(name, target); err != nil {
		return nil, "", fmt.Errorf("module %s: %w", module, err)
	}
	return spec, module, nil
}

// findIn is find restricted to module's BTF when module is not "" (an
// attach target written "module:function").
func (kt *kernelTypes) findIn(module, name, symbol string, target any) (*btf.Spec, string, error) {
	if module == "" {
		return kt.find(name, symbol, target)
	}
	spec, err := kt.btf().Module(module)
	if err != nil {
		return nil, "", err
	}
	if err := spec.TypeByName(name, target); err != nil {
		return nil, "", fmt.Errorf("module %s: %w", module, err)
	}
	return spec, module, nil
}

// handle returns the open BTF handle of module, finding it among the BTF
// objects the kernel has loaded the first time it is asked for.
func (kt *kernelTypes) handle(module string) (*btf.Handle, error) {
	if h := kt.handles[module]; h != nil {
		return h, nil
	}
	h, err := btf.FindHandle(func(info *btf.HandleInfo) bool {
		return info.IsModule() && info.Name == module
	})
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	if kt.handles == nil {
		kt.handles = make(map[string]*btf.Handle)
	}
	kt.handles[module] = h
	kt.order = append(kt.order, module)
	return h, nil
}

// fdIndex returns the index of module's BTF in the program's fd_array, as
// the offset of a kfunc call names it: 0 for the kernel.
func (kt *kernelTypes) fdIndex(module string) (int16, error) {
	if module == "" {
		return 0, nil
	}
	if _, err := kt.handle(module); err != nil {
		return 0, err
	}
	i := slices.Index(kt.order, module) + 1
	if i > math.MaxInt16 {
		return 0, errors.New("too many kernel modules")
	}
	return int16(i), nil
}

// fdArray returns the program's fd_array: module BTF fds at the indexes
// fdIndex gave, or nil if the program uses no module.
func (kt *kernelTypes) fdArray() []int32 {
	if len(kt.order) == 0 {
		return nil
	}
	fds := make([]int32, 1+len(kt.order))
	for i, name := range kt.order {
		fds[i+1] = int32(kt.handles[name].FD())
	}
	return fds
}
