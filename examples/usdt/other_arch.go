//go:build !(amd64 || arm64)

package main

import (
	"fmt"
	"os"
	"runtime"
)

// usdt.h reads the instruction pointer through struct pt_regs, declared
// in ../headers/common.h for amd64 and arm64 only.
func main() {
	fmt.Fprintf(os.Stderr, "usdt: built for amd64 and arm64, not %s\n", runtime.GOARCH)
	os.Exit(1)
}
