package sys

import (
	"sync/atomic"
)

// FaultFunc decides the outcome of one bpf(2) call in tests. n counts the
// calls through BPF since InjectFaults installed the function, from 1;
// every retry of EINTR or EAGAIN is a call of its own. Returning nil lets
// the call reach the kernel. Returning an error fails the call with it,
// without reaching the kernel: a unix.Errno is handled exactly like the
// kernel's (EINTR and EAGAIN are retried where BPF retries them, EPERM
// gets its hint), any other error is returned as is.
type FaultFunc func(cmd Cmd, n int) error

type faultState struct {
	fn    FaultFunc
	calls atomic.Int64
}

func (f *faultState) next(cmd Cmd) error {
	return f.fn(cmd, int(f.calls.Add(1)))
}

var faultHook atomic.Pointer[faultState]

// InjectFaults routes every following bpf(2) call of the process through
// fn until restore is called; restore puts back whatever was installed
// before. It is meant for tests that walk the error paths of code making
// several calls, for example:
//
//	for n := 1; ; n++ {
//		hit := false
//		restore := sys.InjectFaults(func(cmd sys.Cmd, i int) error {
//			if i == n {
//				hit = true
//				return unix.ENOMEM
//			}
//			return nil
//		})
//		coll, err := NewCollection(spec)
//		restore()
//		if !hit {
//			coll.Close() // every call has been failed once
//			break
//		}
//		// err must wrap unix.ENOMEM, and no file descriptor may be open.
//	}
//
// The hook is global: tests using it must not run in parallel with tests
// that make bpf(2) calls. fn may be called from any goroutine. When no hook
// is installed, the cost is one atomic load per call.
func InjectFaults(fn FaultFunc) (restore func()) {
	prev := faultHook.Swap(&faultState{fn: fn})
	return func() { faultHook.Store(prev) }
}
