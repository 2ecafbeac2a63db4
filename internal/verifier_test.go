package internal

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/go-quicktest/qt"
)

// oobLog is what Linux 6.18 prints at log level 1 for err_verifier.c's
// oob_read (map value read out of bounds).
const oobLog = `func#0 @0
0: R1=ctx() R10=fp0
; int oob_read(struct __sk_buff *skb) @ err_verifier.c:23
0: (b4) w6 = 0                        ; R6=0
; __u32 key = 0; @ err_verifier.c:25
1: (63) *(u32 *)(r10 -4) = r6
2: (bf) r2 = r10                      ; R2=fp0 R10=fp0
3: (07) r2 += -4                      ; R2=fp-4
; __u64 *value = bpf_map_lookup_elem(&values, &key); @ err_verifier.c:26
4: (18) r1 = 0xffff88813c8a6a00       ; R1=map_ptr(map=values,ks=4,vs=8)
6: (85) call bpf_map_lookup_elem#1    ; R0=map_value(map=values,ks=4,vs=8)
; if (!value) @ err_verifier.c:28
7: (15) if r0 == 0x0 goto pc+1        ; R0=map_value(map=values,ks=4,vs=8)
; return value[3]; @ err_verifier.c:32
8: (79) r6 = *(u64 *)(r0 +24)
invalid access to map value, value_size=8 off=24 size=8
R0 min value is outside of the allowed memory range
verification time 104 usec
stack depth 8
processed 8 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`

func TestVerifierErrorSummary(t *testing.T) {
	for _, tc := range []struct {
		name      string
		log       string
		truncated bool
		source    string
		want      string
	}{
		{
			name: "no log",
			want: "load program: permission denied",
		},
		{
			name:   "rejected instruction",
			log:    oobLog,
			source: "err_verifier.c:32",
			want: "load program: permission denied: invalid access to map value, value_size=8 off=24 size=8: " +
				"R0 min value is outside of the allowed memory range (err_verifier.c:32)",
		},
		{
			name: "last line only",
			log:  "some message\nR1 type=scalar expected=fp\n",
			want: "load program: permission denied: some message: R1 type=scalar expected=fp",
		},
		{
			name: "btf member",
			log:  "[3] STRUCT foo size=4 vlen=1\n\tbar type_id=7 bits_offset=0 Invalid member\n",
			want: "load program: permission denied: [3] STRUCT foo size=4 vlen=1: bar type_id=7 bits_offset=0 Invalid member",
		},
		{
			name:      "truncated",
			log:       "0: (b7) r0 = 0\n1: (95) exit\nR0 !read_ok",
			truncated: true,
			want:      "load program: permission denied: R0 !read_ok (log truncated)",
		},
		{
			name: "NUL and blank lines",
			log:  "\n\nfirst\nlast\x00garbage after NUL",
			want: "load program: permission denied: last",
		},
		{
			name: "long complaint keeps the end",
			log:  "0: (95) exit\na\nb\nc\nd\n",
			want: "load program: permission denied: b: c: d",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ve := NewVerifierError("load program", syscall.EACCES, []byte(tc.log), tc.truncated)
			ve.Source = tc.source
			qt.Check(t, qt.Equals(ve.Error(), tc.want))
			qt.Check(t, qt.Equals(fmt.Sprint(ve), tc.want))
			qt.Check(t, qt.Equals(fmt.Sprintf("%s", ve), tc.want))
			qt.Check(t, qt.ErrorIs(ve, syscall.EACCES))
		})
	}
}

func TestVerifierErrorLog(t *testing.T) {
	ve := NewVerifierError("load program", syscall.EACCES, []byte(oobLog), false)
	qt.Assert(t, qt.HasLen(ve.Log, 20))
	qt.Check(t, qt.Equals(ve.Log[0], "func#0 @0"))
	qt.Check(t, qt.Equals(ve.Log[14], "8: (79) r6 = *(u64 *)(r0 +24)"))

	n, ok := RejectedInstruction(ve.Log)
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.Equals(n, 8))
	qt.Check(t, qt.Equals(LogSource(ve.Log), "err_verifier.c:32"))

	_, ok = RejectedInstruction([]string{"0: R1=ctx() R10=fp0", "x: (95) exit"})
	qt.Check(t, qt.IsFalse(ok))
	qt.Check(t, qt.Equals(LogSource([]string{"; return 0;", "0: (95) exit"}), ""))
}

func TestVerifierErrorFormat(t *testing.T) {
	ve := NewVerifierError("load program", syscall.EACCES, []byte("a\nb\nc\nd"), false)
	ve.Source = "x.c:1"

	qt.Check(t, qt.Equals(fmt.Sprintf("%+v", ve), "load program: permission denied: (x.c:1)\n\ta\n\tb\n\tc\n\td"))
	qt.Check(t, qt.Equals(fmt.Sprintf("%+2v", ve), "load program: permission denied: (x.c:1)\n\ta\n\tb\n\t(2 line(s) omitted)"))
	qt.Check(t, qt.Equals(fmt.Sprintf("%-2v", ve), "load program: permission denied: (x.c:1)\n\t(2 line(s) omitted)\n\tc\n\td"))
	qt.Check(t, qt.Equals(fmt.Sprintf("%-9v", ve), "load program: permission denied: (x.c:1)\n\ta\n\tb\n\tc\n\td"))
	qt.Check(t, qt.Equals(fmt.Sprintf("%v", ve), ve.Error()))
	qt.Check(t, qt.IsTrue(strings.HasPrefix(fmt.Sprintf("%d", ve), "%!d(*VerifierError=")))

	ve.Truncated = true
	qt.Check(t, qt.Equals(fmt.Sprintf("%+1v", ve), "load program: permission denied: (x.c:1) (log truncated)\n\ta\n\t(3 line(s) omitted)"))

	wrapped := fmt.Errorf("program %q: %w", "x", ve)
	var target *VerifierError
	qt.Check(t, qt.IsTrue(errors.As(wrapped, &target)))
}
