package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// oldestClang and newestClang bound the versioned compiler names searched
// when no compiler is given (Debian and Ubuntu install clang-N without a
// plain clang). 14 is the oldest LLVM whose BPF backend the library's CO-RE
// and BTF support has been tested with.
const (
	oldestClang = 14
	newestClang = 30
)

// findCompiler returns the compiler to run and its leading arguments. With
// cc given (-cc or $BPF2GO_CC) it is that, split at spaces ("ccache clang"
// runs ccache with clang as its first argument). Otherwise it is the first
// of clang, clang-30, clang-29, ... clang-14 found in $PATH.
func findCompiler(cc string) (string, []string, error) {
	if cc != "" {
		parts := strings.Fields(cc)
		if len(parts) == 0 {
			return "", nil, errors.New("-cc: empty compiler")
		}
		path, err := exec.LookPath(parts[0])
		if err != nil {
			return "", nil, fmt.Errorf("C compiler %q (from -cc or $BPF2GO_CC): %w", parts[0], err)
		}
		return path, parts[1:], nil
	}
	tried := compilerCandidates()
	for _, name := range tried {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil, nil
		}
	}
	return "", nil, fmt.Errorf("no clang in $PATH (tried %s): install clang or name a compiler with -cc or $BPF2GO_CC",
		strings.Join(tried, ", "))
}

func compilerCandidates() []string {
	names := []string{"clang"}
	for v := newestClang; v >= oldestClang; v-- {
		names = append(names, fmt.Sprintf("clang-%d", v))
	}
	return names
}

// findStrip returns the llvm-strip to use: strip if given, else
// llvm-strip with the version suffix of the clang among the compiler and
// its leading arguments (clang-19: llvm-strip-19), else plain llvm-strip.
func findStrip(strip, cc string, ccArgs []string) (string, error) {
	if strip != "" {
		path, err := exec.LookPath(strip)
		if err != nil {
			return "", fmt.Errorf("strip tool %q (from -strip or $BPF2GO_STRIP): %w", strip, err)
		}
		return path, nil
	}
	var tried []string
	for _, word := range append([]string{cc}, ccArgs...) {
		if suffix, ok := strings.CutPrefix(filepath.Base(word), "clang"); ok && suffix != "" {
			tried = append(tried, "llvm-strip"+suffix)
			break
		}
	}
	tried = append(tried, "llvm-strip")
	for _, name := range tried {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no llvm-strip in $PATH (tried %s): install LLVM's tools, name one with -strip or $BPF2GO_STRIP, or keep DWARF with -no-strip",
		strings.Join(tried, ", "))
}
