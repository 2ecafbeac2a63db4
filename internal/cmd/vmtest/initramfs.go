package main

import (
	"compress/gzip"
	"debug/elf"
	_ "embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed init.sh
var initScript []byte

// initramfs is everything that goes into one VM's initramfs.
type initramfs struct {
	Busybox  string       // a statically linked busybox
	Binaries []testBinary // run in this order
	SrcRoot  string       // the module root, copied to the same path in the VM
	Modules  []module     // insmod in this order
	Timeout  string       // -test.timeout of each binary
	Flags    []string     // more flags for each binary
	// HostFiles are copied in as they are: initramfs path -> host path.
	// The kernel's config goes to /boot/config-RELEASE, where libbpf-style
	// .kconfig readers look for it.
	HostFiles map[string]string
}

// maxSrcFile bounds the files copied from the source tree: tests read small
// fixtures, and a stray disk image must not bloat every boot.
const maxSrcFile = 64 << 20

// skipSrcDir reports whether a directory of the source tree stays out of
// the VM: version control, the vmtest cache, build output.
func skipSrcDir(rel string) bool {
	switch rel {
	case ".git", ".vmtest", "internal/cmd/vmtest/cache":
		return true
	}
	return false
}

// Write writes the archive to path, gzip-compressed if compress is set.
// Uncompressed is the default: it is larger but the kernel unpacks it
// faster under TCG than it inflates gzip.
func (ir *initramfs) Write(path string, compress bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if compress {
		zw = gzip.NewWriter(f)
		w = zw
	}
	err = ir.write(w)
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("initramfs %s: %w", path, err)
	}
	return nil
}

func (ir *initramfs) write(w io.Writer) error {
	c := newCPIOWriter(w)
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "root", "etc", "lib/modules", "vmtest/bin"} {
		if err := c.Dir(d, 0o755); err != nil {
			return err
		}
	}
	// The kernel opens /dev/console for init's stdio before devtmpfs is
	// mounted over /dev.
	if err := c.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	if err := c.CharDev("dev/null", 0o666, 1, 3); err != nil {
		return err
	}
	if err := ir.addBusybox(c); err != nil {
		return err
	}
	if err := c.Bytes("init", 0o755, initScript); err != nil {
		return err
	}
	files := map[string]string{
		"etc/passwd":      "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":       "root:x:0:\n",
		"etc/hosts":       "127.0.0.1 localhost\n::1 localhost\n",
		"vmtest/config":   ir.config(),
		"vmtest/manifest": ir.manifest(),
		"vmtest/modules":  ir.moduleList(),
	}
	for _, name := range sortedKeys(files) {
		if err := c.Bytes(name, 0o644, []byte(files[name])); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(ir.HostFiles) {
		if err := addHostFile(c, name, ir.HostFiles[name]); err != nil {
			return err
		}
	}
	for _, m := range ir.Modules {
		if err := c.Bytes("lib/modules/"+m.Name+".ko", 0o644, m.Data); err != nil {
			return err
		}
	}
	for _, b := range ir.Binaries {
		if err := addHostFile(c, "vmtest/bin/"+b.Name, b.Path); err != nil {
			return err
		}
	}
	if ir.SrcRoot != "" {
		// The tree keeps its host path, so that paths compiled into the
		// binaries (runtime.Caller, qt's source excerpts of a failed
		// assertion) resolve in the VM too; /src is a short name for it.
		dst := ir.srcDir()
		if err := addTree(c, dst, ir.SrcRoot); err != nil {
			return err
		}
		if dst != "src" {
			if err := c.Symlink("src", "/"+dst); err != nil {
				return err
			}
		}
	}
	return c.Close()
}

func (ir *initramfs) addBusybox(c *cpioWriter) error {
	if err := checkStatic(ir.Busybox); err != nil {
		return err
	}
	if err := addHostFile(c, "bin/busybox", ir.Busybox); err != nil {
		return err
	}
	// init.sh installs the other applet links; sh is needed to start it.
	return c.Symlink("bin/sh", "busybox")
}

// checkStatic fails for a dynamically linked ELF: the initramfs has no
// libc and no loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("busybox %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("busybox %s is dynamically linked; install Debian's busybox-static or pass -busybox", path)
		}
	}
	return nil
}

// srcDir is where the source tree goes in the initramfs, without the
// leading slash.
func (ir *initramfs) srcDir() string {
	dst := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(ir.SrcRoot)), "/")
	if dst == "" || dst == "." {
		return "src"
	}
	return dst
}

// config is sourced by init.sh. Values are single-quoted for the shell.
func (ir *initramfs) config() string {
	return fmt.Sprintf("VMTEST_TIMEOUT=%s\nVMTEST_FLAGS=%s\nVMTEST_SRC=%s\n", shellQuote(ir.Timeout),
		shellQuote(strings.Join(ir.Flags, " ")), shellQuote("/"+ir.srcDir()))
}

func (ir *initramfs) manifest() string {
	var b strings.Builder
	for _, bin := range ir.Binaries {
		fmt.Fprintf(&b, "%s %s\n", bin.Name, bin.RelDir)
	}
	return b.String()
}

func (ir *initramfs) moduleList() string {
	var b strings.Builder
	for _, m := range ir.Modules {
		b.WriteString(m.Name + "\n")
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func addHostFile(c *cpioWriter, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return c.File(name, uint32(st.Mode().Perm()), st.Size(), f)
}

// addTree copies the regular files, directories and symlinks of the tree
// at root to prefix, in lexical order, leaving out skipSrcDir directories,
// built test binaries and files larger than maxSrcFile.
func addTree(c *cpioWriter, prefix, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		name := prefix + "/" + rel
		switch {
		case d.IsDir():
			if skipSrcDir(rel) {
				return filepath.SkipDir
			}
			return c.Dir(name, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return c.Symlink(name, target)
		case d.Type().IsRegular():
			if strings.HasSuffix(rel, ".test") {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.Size() > maxSrcFile {
				logf("leaving %s (%d MiB) out of the VM", rel, info.Size()>>20)
				return nil
			}
			return addHostFile(c, name, p)
		}
		return nil // sockets, fifos, devices
	})
}
