package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// The initramfs is a cpio archive in the "newc" format (070701): every
// entry is a 110-byte ASCII header of thirteen 8-digit hex fields, the
// NUL-terminated name, padding to 4 bytes, the data, padding to 4 bytes.
// The archive ends with an entry named "TRAILER!!!". The kernel unpacks it
// into its rootfs before running /init; nothing needs root on the host,
// device nodes included, because we only write bytes.

const (
	cpioMagic   = "070701"
	cpioTrailer = "TRAILER!!!"

	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeCharDev = 0o020000
)

// cpioWriter writes a newc archive. It creates missing parent directories
// itself, so callers may add "a/b/c" without adding "a" and "a/b" first,
// and it refuses to write a name twice.
type cpioWriter struct {
	w     *bufio.Writer
	off   int64
	ino   uint32
	names map[string]bool
	err   error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<20), ino: 1, names: map[string]bool{}}
}

// cleanName turns a path into the relative form the kernel expects
// ("bin/sh", no leading slash), rejecting names that leave the root.
func cleanName(name string) (string, error) {
	clean := strings.TrimPrefix(path.Clean("/"+name), "/")
	if clean == "" || clean == "." {
		return "", fmt.Errorf("cpio: empty entry name %q", name)
	}
	return clean, nil
}

func (c *cpioWriter) header(name string, mode, size, rdevMajor, rdevMinor uint32) error {
	if c.err != nil {
		return c.err
	}
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	if name != cpioTrailer {
		if c.names[name] {
			return fmt.Errorf("cpio: duplicate entry %q", name)
		}
		if err := c.parents(name); err != nil {
			return err
		}
		c.names[name] = true
	}
	nlink := uint32(1)
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	// ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	// rdevmajor, rdevminor, namesize, check. mtime stays 0 so that the
	// archive is reproducible.
	hdr := fmt.Sprintf("%s%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		cpioMagic, c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.ino++
	c.write([]byte(hdr))
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad()
	return c.err
}

// parents adds the directories above name that were not added yet.
func (c *cpioWriter) parents(name string) error {
	dir := path.Dir(name)
	if dir == "." || c.names[dir] {
		return nil
	}
	return c.Dir(dir, 0o755)
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.off += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if rem := c.off % 4; rem != 0 {
		c.write(make([]byte, 4-rem))
	}
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.header(name, modeDir|perm&0o7777, 0, 0, 0)
}

// File adds a regular file of size bytes read from r. It fails if r holds
// fewer bytes than size, so a file that shrinks while being archived
// cannot corrupt the archive silently.
func (c *cpioWriter) File(name string, perm uint32, size int64, r io.Reader) error {
	if size < 0 || size > 1<<32-1 {
		return fmt.Errorf("cpio: %s: size %d does not fit a newc header", name, size)
	}
	if err := c.header(name, modeFile|perm&0o7777, uint32(size), 0, 0); err != nil {
		return err
	}
	n, err := io.Copy(c.w, io.LimitReader(r, size))
	c.off += n
	if err != nil {
		c.err = fmt.Errorf("cpio: %s: %w", name, err)
		return c.err
	}
	if n != size {
		c.err = fmt.Errorf("cpio: %s: read %d of %d bytes", name, n, size)
		return c.err
	}
	c.pad()
	return c.err
}

// Bytes adds a regular file holding data.
func (c *cpioWriter) Bytes(name string, perm uint32, data []byte) error {
	return c.File(name, perm, int64(len(data)), bytes.NewReader(data))
}

// Symlink adds a symbolic link name pointing at target.
func (c *cpioWriter) Symlink(name, target string) error {
	if err := c.header(name, modeSymlink|0o777, uint32(len(target)), 0, 0); err != nil {
		return err
	}
	c.write([]byte(target))
	c.pad()
	return c.err
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) error {
	return c.header(name, modeCharDev|perm&0o7777, 0, major, minor)
}

// Close writes the trailer and flushes. It does not close the underlying
// writer.
func (c *cpioWriter) Close() error {
	if err := c.header(cpioTrailer, 0, 0, 0, 0); err != nil {
		return err
	}
	return c.w.Flush()
}

// Names returns the entry names written so far, sorted.
func (c *cpioWriter) Names() []string {
	names := make([]string, 0, len(c.names))
	for n := range c.names {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
