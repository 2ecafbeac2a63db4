package ebpf

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/bpfkit/ebpf/internal"
)

//go:generate go run ./internal/cmd/gentypes internal/cmd/uapi/bpf-uapi.h types_gen.go

// MapType is the type of a map: the kernel's enum bpf_map_type. The
// constants are in types_gen.go, generated from the UAPI header.
type MapType uint32

// ProgramType is the type of a program: the kernel's enum bpf_prog_type.
type ProgramType uint32

// AttachType narrows where a program of a given type may attach: the
// kernel's enum bpf_attach_type.
type AttachType uint32

// AttachNone is the AttachType of programs that need none. It has the same
// value as AttachCGroupInetIngress, which the kernel tells apart by program
// type.
const AttachNone AttachType = 0

// AttachFlags are flags for attaching programs (BPF_F_ALLOW_MULTI, ...).
type AttachFlags uint32

// PinType says how a map from an ELF object is pinned.
type PinType uint32

const (
	// PinNone doesn't pin the map.
	PinNone PinType = iota
	// PinByName pins the map to a file named after it in the pin path
	// given in CollectionOptions (libbpf's LIBBPF_PIN_BY_NAME).
	PinByName
)

// String returns the Go name of the pin type.
func (pt PinType) String() string {
	switch pt {
	case PinNone:
		return "PinNone"
	case PinByName:
		return "PinByName"
	}
	return "PinType(" + itoa(uint64(pt)) + ")"
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// Errors callers of this package branch on.
var (
	// ErrNotSupported is wrapped by every error caused by a kernel that
	// lacks a feature.
	ErrNotSupported = internal.ErrNotSupported
	// ErrKeyNotExist is returned when a key is not in a map.
	ErrKeyNotExist = errors.New("key does not exist")
	// ErrKeyExist is returned by an update with UpdateNoExist when the key
	// is already in the map.
	ErrKeyExist = errors.New("key already exists")
	// ErrIterationAborted is returned by a map iterator when the map kept
	// changing under it so that it couldn't finish.
	ErrIterationAborted = errors.New("iteration aborted")
	// ErrMapIncompatible is returned when a map (for example a pinned one)
	// doesn't match the spec it should satisfy.
	ErrMapIncompatible = errors.New("map spec is incompatible with existing map")
	// ErrProgIncompatible is returned when a program can't replace another.
	ErrProgIncompatible = errors.New("program spec is incompatible with existing program")
	// ErrReadOnly is returned when writing to a frozen or read-only map or
	// variable.
	ErrReadOnly = errors.New("resource is read-only")
	// ErrInvalidType is returned when a Go value doesn't fit a BTF type.
	ErrInvalidType = errors.New("invalid type")
	// ErrRestrictedKernel is returned when the kernel hides information
	// (e.g. kernel pointers) from the caller.
	ErrRestrictedKernel = internal.ErrRestrictedKernel
)

// ProgramTypeForPlatform returns the ProgramType that the platform plat
// ("linux") calls value. Use it for program types this package has no
// constant for yet. Other platforms give an error wrapping ErrNotSupported.
func ProgramTypeForPlatform(plat string, value uint32) (ProgramType, error) {
	if plat != "linux" {
		return 0, fmt.Errorf("program type %d on platform %q: %w", value, plat, ErrNotSupported)
	}
	return ProgramType(value), nil
}

// AttachTypeForPlatform returns the AttachType that the platform plat
// ("linux") calls value. Other platforms give an error wrapping
// ErrNotSupported.
func AttachTypeForPlatform(plat string, value uint32) (AttachType, error) {
	if plat != "linux" {
		return 0, fmt.Errorf("attach type %d on platform %q: %w", value, plat, ErrNotSupported)
	}
	return AttachType(value), nil
}
