package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// kernel is one kernel to boot.
type kernel struct {
	Label   string // how the summary names it
	Image   string // bzImage (vmlinuz)
	Release string // uname -r, when known from the file name
	ModDir  string // lib/modules/RELEASE, or "" when unknown
	Config  string // boot/config-RELEASE, or ""
}

// kernelFromImage describes a bzImage given by path. When it sits in an
// unpacked Debian-style tree (ROOT/boot/vmlinuz-REL), the modules and the
// config beside it are used too.
func kernelFromImage(image string) (*kernel, error) {
	abs, err := filepath.Abs(image)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("kernel image: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("kernel image %s is not a regular file", abs)
	}
	k := &kernel{Label: filepath.Base(abs), Image: abs}
	base := filepath.Base(abs)
	rel, ok := strings.CutPrefix(base, "vmlinuz-")
	if !ok {
		return k, nil
	}
	k.Release, k.Label = rel, rel
	root := filepath.Dir(filepath.Dir(abs))
	for _, d := range []string{"lib/modules", "usr/lib/modules"} {
		if st, err := os.Stat(filepath.Join(root, d, rel)); err == nil && st.IsDir() {
			k.ModDir = filepath.Join(root, d, rel)
			break
		}
	}
	if cfg := filepath.Join(filepath.Dir(abs), "config-"+rel); fileExists(cfg) {
		k.Config = cfg
	}
	return k, nil
}

// kernelFromTree finds the one vmlinuz-* under ROOT/boot of an unpacked
// kernel package.
func kernelFromTree(root string) (*kernel, error) {
	images, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(images) != 1 {
		return nil, fmt.Errorf("%s: want exactly one boot/vmlinuz-*, found %d", root, len(images))
	}
	return kernelFromImage(images[0])
}

// kernelFromDeb unpacks a kernel .deb (once; the tree is cached under
// cache/kernels) with dpkg-deb -x.
func kernelFromDeb(cache, deb string) (*kernel, error) {
	name := strings.TrimSuffix(filepath.Base(deb), ".deb")
	dir := filepath.Join(cache, "kernels", name)
	if !fileExists(filepath.Join(dir, ".complete")) {
		if _, err := exec.LookPath("dpkg-deb"); err != nil {
			return nil, fmt.Errorf("unpacking %s needs dpkg-deb (Debian package dpkg)", deb)
		}
		// Unpack beside the final place and rename, so that a concurrent
		// run never sees half a tree.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), name+".tmp-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := run(exec.Command("dpkg-deb", "-x", deb, tmp)); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, dir); err != nil && !fileExists(filepath.Join(dir, ".complete")) {
			return nil, err
		}
	}
	return kernelFromTree(dir)
}

// kernelConfig reads CONFIG_X=y/m lines of a kernel config file.
func kernelConfig(path string) (map[string]string, error) {
	cfg := map[string]string{}
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = strings.Trim(v, `"`)
		}
	}
	return cfg, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// run runs cmd, returning its stderr in the error.
func run(cmd *exec.Cmd) error {
	_, err := output(cmd)
	return err
}

func output(cmd *exec.Cmd) ([]byte, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
