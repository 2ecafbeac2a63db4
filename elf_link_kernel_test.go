package ebpf

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// kernelLinkGroups are the kernel's programs built from several objects:
// every skeleton that tools/testing/selftests/bpf/Makefile (6.1) links with
// bpftool gen object, and the xdp_sample users of samples/bpf.
// .ci/linktest-objs.sh builds the inputs (make linktest).
//
// Two groups can't be compared as specs. test_static_linked has a static
// function "subprog" in each input, and our ELF reader names functions
// uniquely, so it refuses both linkers' outputs (readerError).
// test_subskeleton overrides a weak variable with a strong one from a
// later object: bpftool's DATASEC keeps the weak entry's offset, which our
// reader refuses (bpftoolError); ours is read, loaded and run.
var kernelLinkGroups = []struct {
	name        string
	inputs      []string
	readerError string
	bpftoolErr  string
}{
	{"test_static_linked", []string{"test_static_linked1", "test_static_linked2"}, "", ""},
	{"linked_funcs", []string{"linked_funcs1", "linked_funcs2"}, "", ""},
	{"linked_vars", []string{"linked_vars1", "linked_vars2"}, "", ""},
	{"linked_maps", []string{"linked_maps1", "linked_maps2"}, "", ""},
	{"test_subskeleton", []string{"test_subskeleton_lib2", "test_subskeleton_lib", "test_subskeleton"},
		"", `section ".data": variable "var5": BTF places 4 bytes at offset 8, the symbol 4 bytes at offset 12`},
	{"test_subskeleton_lib", []string{"test_subskeleton_lib2", "test_subskeleton_lib"}, "", ""},
	{"test_usdt", []string{"test_usdt", "test_usdt_multispec"}, "", ""},
	{"xdp_redirect_cpu", []string{"xdp_redirect_cpu", "xdp_sample"}, "", ""},
	{"xdp_redirect_map_multi", []string{"xdp_redirect_map_multi", "xdp_sample"}, "", ""},
	{"xdp_redirect_map", []string{"xdp_redirect_map", "xdp_sample"}, "", ""},
	{"xdp_redirect", []string{"xdp_redirect", "xdp_sample"}, "", ""},
	{"xdp_monitor", []string{"xdp_monitor", "xdp_sample"}, "", ""},
	{"xdp_router_ipv4", []string{"xdp_router_ipv4", "xdp_sample"}, "", ""},
}

// TestLinkKernelObjects links the kernel's multi-file programs with
// bpftool and with LinkObjectFiles: the specs must be the same, and every
// program must load (or fail to) and run alike. With -v it logs each
// program's outcome.
func TestLinkKernelObjects(t *testing.T) {
	dir := os.Getenv("BPFKIT_LINKTEST_OBJS")
	if dir == "" {
		dir = ".linktest/obj"
	}
	for _, g := range kernelLinkGroups {
		t.Run(g.name, func(t *testing.T) {
			var inputs []string
			for _, in := range g.inputs {
				path := filepath.Join(dir, in+".bpf.o")
				if _, err := os.Stat(path); err != nil {
					t.Skipf("kernel object %s is not built (make linktest fetches linux-source-6.1 and builds it): %v", in, err)
				}
				inputs = append(inputs, path)
			}
			ours, err := LinkObjectFiles(inputs...)
			qt.Assert(t, qt.IsNil(err))
			again, err := LinkObjects(readersOf(t, inputs)...)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(again, ours), qt.Commentf("in-memory and file paths differ"))
			theirs := bpftoolLink(t, inputs...)

			if g.readerError != "" {
				for _, obj := range [][]byte{ours, theirs} {
					_, err := LoadCollectionSpecFromReader(bytes.NewReader(obj))
					qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(g.readerError)))
				}
				t.Logf("both outputs: %s (the reader's limit, not the linker's)", g.readerError)
				return
			}
			var a, b *CollectionSpec
			if g.bpftoolErr != "" {
				_, err := LoadCollectionSpecFromReader(bytes.NewReader(theirs))
				qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(g.bpftoolErr)))
				qt.Assert(t, qt.HasLen(staleDatasecVars(t, ours), 0))
				for _, res := range libbpfOpens(t, ours) {
					qt.Assert(t, qt.StringContains(res, ": ok"))
				}
				a, err = LoadCollectionSpecFromReader(bytes.NewReader(ours))
				qt.Assert(t, qt.IsNil(err))
				t.Logf("bpftool's output: %s", g.bpftoolErr)
			} else {
				a, b = compareLinked(t, ours, theirs)
			}

			ra := loadAndRun(t, a)
			if b != nil {
				qt.Assert(t, qt.DeepEquals(ra, loadAndRun(t, b)))
			}
			var lines []string
			for name, res := range ra {
				if i := strings.IndexByte(res, '\n'); i >= 0 {
					res = res[:i]
				}
				lines = append(lines, fmt.Sprintf("%s: %.160s", name, res))
			}
			slices.Sort(lines)
			same := "same spec as bpftool's"
			if b == nil {
				same = "bpftool's output unreadable"
			}
			t.Logf("%d programs, %d maps, %d variables; %s; per program:\n%s",
				len(a.Programs), len(a.Maps), len(a.Variables), same, strings.Join(lines, "\n"))
		})
	}
}

func readersOf(t testing.TB, files []string) []io.ReaderAt {
	t.Helper()
	var out []io.ReaderAt
	for _, f := range files {
		fd, err := os.Open(f)
		qt.Assert(t, qt.IsNil(err))
		t.Cleanup(func() { fd.Close() })
		out = append(out, fd)
	}
	return out
}
