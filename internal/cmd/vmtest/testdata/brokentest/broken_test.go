//go:build vmtest_broken

// Package brokentest is the deliberately failing test binary that
// `vmtest -selftest-fail` adds to a run, to prove that a failing test in the
// VM fails the run and that its own output reaches the host. The build tag
// keeps it out of every other build; go list ./... skips testdata anyway.
package brokentest

import "testing"

func TestPasses(t *testing.T) {}

func TestDeliberatelyBroken(t *testing.T) {
	t.Log("this line is the broken test's own output")
	t.Fatal("deliberate failure injected by vmtest -selftest-fail")
}

func TestSkipped(t *testing.T) {
	t.Skip("deliberate skip, to show up in the summary")
}
