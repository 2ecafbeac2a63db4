package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
)

// TestGeneratedUpToDate fails when a committed asm/*_gen.go file no longer
// matches what the generator makes of the header: run `make generate`.
func TestGeneratedUpToDate(t *testing.T) {
	header, err := os.ReadFile("../uapi/bpf-uapi.h")
	qt.Assert(t, qt.IsNil(err))
	for name, gen := range Outputs {
		t.Run(name, func(t *testing.T) {
			want, err := gen(header)
			qt.Assert(t, qt.IsNil(err))
			got, err := os.ReadFile(filepath.Join("../../../asm", name))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(string(got), string(want)), qt.Commentf("asm/%s is stale: run make generate", name))
		})
	}
}

func TestCamel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"map_lookup_elem", "MapLookupElem"},
		{"ktime_get_ns", "KtimeGetNs"},
		{"tcp_raw_gen_syncookie_ipv4", "TcpRawGenSyncookieIpv4"},
		{"unspec", "Unspec"},
	} {
		qt.Check(t, qt.Equals(camel(tc.in), tc.want))
	}
}

func TestDerivedDefines(t *testing.T) {
	h, err := parseHeader([]byte("#define BPF_FETCH 0x01\n#define BPF_CMPXCHG 0xf7\n"))
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(h.values["BPF_XCHG"], int64(0xe1)))
	// A header that has the macro wins over the formula.
	qt.Check(t, qt.Equals(h.values["BPF_CMPXCHG"], int64(0xf7)))
}

func TestMissingDefine(t *testing.T) {
	_, err := GenerateUAPI([]byte("#define BPF_LD 0x00\n"))
	qt.Assert(t, qt.ErrorMatches(err, `header lacks .*`))
}
