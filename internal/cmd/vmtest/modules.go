package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Kernel modules. Debian builds veth, sch_ingress, cls_bpf and friends as
// modules, and its kernel package ships no modules.dep (postinst runs
// depmod on the target). So we read each module's own dependency list
// from its .modinfo section ("depends=a,b") and insmod in dependency
// order inside the VM; busybox insmod does not resolve dependencies.
// Compressed modules (.ko.xz, .ko.zst, .ko.gz; Debian 6.1 ships plain .ko,
// later kernels compress) are decompressed on the host: gzip with the
// standard library, xz and zstd with the host's xz and zstd commands
// (Debian packages xz-utils and zstd), since the standard library has
// neither.

// defaultModules are loaded when the kernel has them as modules. A module
// the kernel lacks entirely is reported and skipped, since older kernels
// may not have it; one that is built in needs nothing.
var defaultModules = []string{
	"veth", "dummy", "tun", // interfaces for XDP and TC tests
	"sch_ingress", "cls_bpf", "act_bpf", // TC: ingress and clsact qdiscs, BPF classifier and action
	"sch_fq",
}

// moduleSuffixes are the file endings of kernel modules, compressed or not.
var moduleSuffixes = []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"}

// moduleName normalises a module file or name: the kernel treats '-' and
// '_' in module names as the same character.
func moduleName(file string) string {
	base := filepath.Base(file)
	for _, s := range moduleSuffixes {
		if strings.HasSuffix(base, s) {
			base = strings.TrimSuffix(base, s)
			break
		}
	}
	return strings.ReplaceAll(base, "-", "_")
}

// module is one kernel module ready for the initramfs.
type module struct {
	Name string // normalised name, also the file name without .ko
	Data []byte // uncompressed ELF
}

// moduleTree indexes lib/modules/RELEASE of a kernel.
type moduleTree struct {
	dir     string
	files   map[string]string // name -> path
	builtin map[string]bool
}

func openModuleTree(dir string) (*moduleTree, error) {
	t := &moduleTree{dir: dir, files: map[string]string{}, builtin: map[string]bool{}}
	if f, err := os.Open(filepath.Join(dir, "modules.builtin")); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if line := strings.TrimSpace(s.Text()); line != "" {
				t.builtin[moduleName(line)] = true
			}
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, fmt.Errorf("modules.builtin: %w", err)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && moduleName(p) != filepath.Base(p) {
			if _, dup := t.files[moduleName(p)]; !dup {
				t.files[moduleName(p)] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index modules of %s: %w", dir, err)
	}
	return t, nil
}

// resolve returns the modules to insmod for want, dependencies first, and
// the wanted names the kernel has neither built in nor as a module.
func (t *moduleTree) resolve(want []string) ([]module, []string, error) {
	var (
		out     []module
		missing []string
		state   = map[string]int{} // 1: visiting, 2: done
	)
	var visit func(name, from string) error
	visit = func(name, from string) error {
		name = moduleName(name)
		switch {
		case state[name] == 2 || t.builtin[name]:
			return nil
		case state[name] == 1:
			return fmt.Errorf("module %s: dependency cycle through %s", name, from)
		}
		p, ok := t.files[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("module %s needs %s, which the kernel has neither built in nor as a module", from, name)
			}
			missing = append(missing, name)
			state[name] = 2
			return nil
		}
		state[name] = 1
		data, err := readModule(p)
		if err != nil {
			return err
		}
		deps, err := moduleDepends(data)
		if err != nil {
			return fmt.Errorf("module %s (%s): %w", name, p, err)
		}
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, module{Name: name, Data: data})
		return nil
	}
	for _, w := range want {
		if err := visit(w, ""); err != nil {
			return nil, nil, err
		}
	}
	return out, missing, nil
}

// readModule returns the uncompressed contents of a module file.
func readModule(p string) ([]byte, error) {
	switch {
	case strings.HasSuffix(p, ".ko"):
		return os.ReadFile(p)
	case strings.HasSuffix(p, ".ko.gz"):
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return io.ReadAll(io.LimitReader(zr, 1<<30))
	case strings.HasSuffix(p, ".ko.xz"):
		return decompressWith(p, "xz", "xz-utils")
	case strings.HasSuffix(p, ".ko.zst"):
		return decompressWith(p, "zstd", "zstd")
	}
	return nil, fmt.Errorf("%s: not a kernel module file", p)
}

func decompressWith(p, tool, debianPackage string) ([]byte, error) {
	if _, err := exec.LookPath(tool); err != nil {
		return nil, fmt.Errorf("%s is compressed and %s is not installed (Debian package %s)", p, tool, debianPackage)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tool, "-dc", p)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -dc %s: %w: %s", tool, p, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// moduleDepends reads the "depends=" entry of a module's .modinfo section.
func moduleDepends(data []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read ELF: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("read .modinfo: %w", err)
	}
	var deps []string
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			for _, d := range strings.Split(string(v), ",") {
				if d = strings.TrimSpace(d); d != "" {
					deps = append(deps, d)
				}
			}
		}
	}
	sort.Strings(deps)
	return deps, nil
}
