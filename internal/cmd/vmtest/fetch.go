package main

import (
	"fmt"
	"io"
	"path/filepath"
)

// fetchKernels is -fetch: it fetches and unpacks the kernels as a run
// would, then prints "image PATH" for each kernel image, and
// boots nothing. Tests that need another kernel's files (the btf package
// reads the BTF inside each image) use it to share the run's cache.
func fetchKernels(out io.Writer, o *options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cache := o.cache
	if cache == "" {
		cache = filepath.Join(root, ".vmtest")
	}
	if cache, err = filepath.Abs(cache); err != nil {
		return err
	}
	var kernels []*kernel
	for _, pkg := range o.debian.values {
		k, err := kernelFromDebian(cache, pkg)
		if err != nil {
			return err
		}
		kernels = append(kernels, k)
	}
	for _, deb := range o.debs.values {
		k, err := kernelFromDeb(cache, deb)
		if err != nil {
			return err
		}
		kernels = append(kernels, k)
	}
	for _, k := range kernels {
		fmt.Fprintln(out, "image", k.Image)
	}
	return nil
}
