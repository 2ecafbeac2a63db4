package internal

import (
	"testing"

	"github.com/go-quicktest/qt"
)

func TestVersionFromUname(t *testing.T) {
	for _, tc := range []struct {
		name, release, version, signature string
		want                              Version
	}{
		{"upstream", "6.18.44-fc-v769", "#1 SMP PREEMPT_DYNAMIC @0", "", Version{6, 18, 44}},
		{"debian", "6.1.0-18-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "", Version{6, 1, 76}},
		{"ubuntu", "5.4.0-91-generic", "#102-Ubuntu SMP", "Ubuntu 5.4.0-91.102-generic 5.4.151\n", Version{5, 4, 151}},
		{"two parts", "5.10-rc1", "", "", Version{5, 10, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := versionFromUname(tc.release, tc.version, tc.signature)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(v, tc.want))
		})
	}
	_, err := versionFromUname("garbage", "", "")
	qt.Assert(t, qt.IsNotNil(err))
}

func TestKernelVersion(t *testing.T) {
	v, err := KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsFalse(v.Unspecified()))
	t.Log("running kernel:", v)
}

func TestVersionKernelCode(t *testing.T) {
	qt.Assert(t, qt.Equals(Version{4, 14, 300}.Kernel(), uint32(4<<16|14<<8|255)))
	qt.Assert(t, qt.Equals(NewVersionFromCode(Version{6, 1, 76}.Kernel()), Version{6, 1, 76}))
	qt.Assert(t, qt.IsTrue(Version{5, 4, 0}.Less(Version{5, 10, 0})))
	qt.Assert(t, qt.Equals(Version{5, 8, 0}.String(), "v5.8"))
}
