package link

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
)

// AttachSocketFilter attaches a SocketFilter program to a socket
// (setsockopt SO_ATTACH_BPF, Linux 3.19). The program sees every packet
// the socket receives and returns how many bytes of it to keep (0 drops
// it). It replaces a filter attached before; the attachment lives as long
// as the socket, so there is no Link. One setsockopt(2).
func AttachSocketFilter(conn syscall.Conn, program *ebpf.Program) error {
	if program == nil {
		return errors.New("attach socket filter: program is nil")
	}
	fd, err := programFD(program)
	if err != nil {
		return fmt.Errorf("attach socket filter: %w", err)
	}
	err = controlSocket(conn, func(s int) error {
		return unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, int(fd))
	})
	runtime.KeepAlive(program)
	if err != nil {
		return fmt.Errorf("attach socket filter %s: %w", program, err)
	}
	return nil
}

// DetachSocketFilter removes the socket's filter (SO_DETACH_BPF). A socket
// without one gives ENOENT. One setsockopt(2).
func DetachSocketFilter(conn syscall.Conn) error {
	err := controlSocket(conn, func(s int) error {
		return unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_DETACH_BPF, 0)
	})
	if err != nil {
		return fmt.Errorf("detach socket filter: %w", err)
	}
	return nil
}

// controlSocket runs fn with the socket's descriptor.
func controlSocket(conn syscall.Conn, fn func(int) error) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = fn(int(fd)) }); err != nil {
		return err
	}
	return opErr
}
