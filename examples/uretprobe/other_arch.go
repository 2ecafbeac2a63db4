//go:build !(amd64 || arm64)

package main

import (
	"fmt"
	"os"
	"runtime"
)

// The C reads registers through struct pt_regs, declared in
// ../headers/common.h for amd64 and arm64 only.
func main() {
	fmt.Fprintf(os.Stderr, "uretprobe: built for amd64 and arm64, not %s\n", runtime.GOARCH)
	os.Exit(1)
}
