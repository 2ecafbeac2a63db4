package tracefs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// ProbeType is the kind of dynamic probe: kprobe (kernel functions) or
// uprobe (user-space instructions).
type ProbeType uint8

const (
	Kprobe ProbeType = iota
	Uprobe
)

func (pt ProbeType) String() string {
	switch pt {
	case Kprobe:
		return "kprobe"
	case Uprobe:
		return "uprobe"
	}
	return fmt.Sprintf("ProbeType(%d)", uint8(pt))
}

// eventsFile is the tracefs file that creates and removes probes of the
// type.
func (pt ProbeType) eventsFile() string {
	return pt.String() + "_events"
}

// ProbeArgs describes a kprobe or uprobe event to create with NewEvent.
type ProbeArgs struct {
	Type ProbeType

	// Symbol is the kernel function of a kprobe, "func" or "module:func".
	// For a uprobe it only names the event and may be empty.
	Symbol string
	// Path of the binary of a uprobe.
	Path string
	// Offset is added to Symbol for a kprobe; for a uprobe it is the
	// offset of the instruction in the file at Path.
	Offset uint64
	// RefCtrOffset is the file offset of a uprobe's reference counter
	// (USDT semaphore), 0 for none. Needs v4.20.
	RefCtrOffset uint64

	// Ret makes a kretprobe or uretprobe.
	Ret bool
	// RetMaxActive is the number of instances of a kretprobe that may run
	// at once; 0 leaves the kernel's default. Kretprobes only; needs v4.12.
	RetMaxActive int

	// Group of the event; NewEvent makes a new unique one when empty.
	Group string
}

// GroupPrefix starts the names of the groups NewEvent makes:
// bpfkit_<pid>_<random>. Events whose pid no longer runs were left behind by
// a process that did not close them.
const GroupPrefix = "bpfkit"

// maxNameLen is the longest event or group name the kernel accepts
// (MAX_EVENT_NAME_LEN less the NUL).
const maxNameLen = 63

// RandomGroup returns a group name for trace events that no other process
// and no other call of this one will use: GroupPrefix, the pid and 64
// random bits.
func RandomGroup() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random group name: %w", err)
	}
	return fmt.Sprintf("%s_%d_%s", GroupPrefix, os.Getpid(), hex.EncodeToString(b[:])), nil
}

// eventName derives the event's name from the symbol, or for an unnamed
// uprobe from the binary and offset: characters the kernel refuses become
// '_', and the name is cut to the kernel's limit.
func eventName(args ProbeArgs) string {
	base := args.Symbol
	if base == "" {
		base = fmt.Sprintf("%s_0x%x", filepath.Base(args.Path), args.Offset)
	}
	b := make([]byte, 0, len(base)+1)
	if c := base[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
		b = append(b, '_')
	}
	for _, c := range []byte(base) {
		if !isAlnum(c) {
			c = '_'
		}
		b = append(b, c)
	}
	if len(b) > maxNameLen {
		b = b[:maxNameLen]
	}
	return string(b)
}

// validKsym reports whether s can be written as a kprobe's [MOD:]SYM: a
// symbol of letters, digits, '_' and '.' (foo.isra.0, foo.cold), optionally
// after a module name.
func validKsym(s string) bool {
	mod, sym, hasMod := strings.Cut(s, ":")
	if !hasMod {
		mod, sym = "", s
	} else if mod == "" {
		return false
	}
	for _, c := range []byte(mod) {
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	if sym == "" {
		return false
	}
	for _, c := range []byte(sym) {
		if !isAlnum(c) && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// validPath reports whether s can be written as a uprobe's PATH: the kernel
// splits its command at white space.
func validPath(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func (args *ProbeArgs) check() error {
	switch args.Type {
	case Kprobe:
		if !validKsym(args.Symbol) {
			return fmt.Errorf("kprobe symbol %q: want [module:]symbol of letters, digits, '_' and '.': %w", args.Symbol, os.ErrInvalid)
		}
		if args.Path != "" || args.RefCtrOffset != 0 {
			return fmt.Errorf("kprobe %s: Path and RefCtrOffset are for uprobes: %w", args.Symbol, os.ErrInvalid)
		}
	case Uprobe:
		if !validPath(args.Path) {
			return fmt.Errorf("uprobe path %q: empty or containing white space: %w", args.Path, os.ErrInvalid)
		}
		if args.RetMaxActive != 0 {
			return fmt.Errorf("uprobe %s: RetMaxActive is for kretprobes: %w", args.Path, os.ErrInvalid)
		}
	default:
		return fmt.Errorf("unknown probe type %d: %w", args.Type, os.ErrInvalid)
	}
	if args.RetMaxActive < 0 || (args.RetMaxActive > 0 && !args.Ret) {
		return fmt.Errorf("%s %s: RetMaxActive %d needs Ret and must not be negative: %w", args.Type, args.Symbol, args.RetMaxActive, os.ErrInvalid)
	}
	if args.Group != "" && (!validIdentifier(args.Group) || len(args.Group) > maxNameLen) {
		return fmt.Errorf("trace event group %q: want at most %d letters, digits and '_': %w", args.Group, maxNameLen, os.ErrInvalid)
	}
	return nil
}

// Token is the probe's location as the events files write it: SYM[+0xOFF]
// for a kprobe, PATH:0xOFF[(0xREF)] for a uprobe.
func (args *ProbeArgs) Token() string {
	if args.Type == Kprobe {
		if args.Offset == 0 {
			return args.Symbol
		}
		return fmt.Sprintf("%s+%#x", args.Symbol, args.Offset)
	}
	token := fmt.Sprintf("%s:%#x", args.Path, args.Offset)
	if args.RefCtrOffset != 0 {
		token += fmt.Sprintf("(%#x)", args.RefCtrOffset)
	}
	return token
}

// probeLine is the command that creates the event, in the syntax of
// Documentation/trace/kprobetrace.rst and uprobetracer.rst:
// p|r[MAXACTIVE]:GROUP/EVENT TOKEN.
func probeLine(args *ProbeArgs, group, name string) string {
	kind := "p"
	if args.Ret {
		kind = "r"
		if args.RetMaxActive > 0 {
			kind += strconv.Itoa(args.RetMaxActive)
		}
	}
	return fmt.Sprintf("%s:%s/%s %s", kind, group, name, args.Token())
}

// Event is a kprobe or uprobe trace event that NewEvent created. Close
// removes it; if the Event becomes unreachable first, the garbage collector
// tries to remove it.
type Event struct {
	typ         ProbeType
	group, name string
	id          uint64

	mu      sync.Mutex
	removed bool
	cleanup runtime.Cleanup
}

// ID is the event's trace event ID, the config of a PERF_TYPE_TRACEPOINT
// perf event.
func (e *Event) ID() uint64 { return e.id }

// Group is the event's group.
func (e *Event) Group() string { return e.group }

// Name is the event's name within its group.
func (e *Event) Name() string { return e.name }

func (e *Event) String() string { return e.typ.String() + " event " + e.group + "/" + e.name }

// NewEvent creates a kprobe or uprobe event by writing to kprobe_events or
// uprobe_events, and returns it with its ID. Cost: a few small file
// operations in tracefs; the kernel resolves the symbol or path.
//
// Errors wrap os.ErrNotExist when the symbol, offset or path does not
// exist (kernels report ENOENT, EINVAL, EILSEQ or ERANGE), os.ErrExist when
// the group already has the event, os.ErrInvalid for arguments that cannot
// be written, and internal.ErrNotSupported when the kernel has no such
// events file (CONFIG_KPROBE_EVENTS, CONFIG_UPROBE_EVENTS) or no
// RetMaxActive (before v4.12).
func NewEvent(args ProbeArgs) (*Event, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	group := args.Group
	if group == "" {
		var err error
		if group, err = RandomGroup(); err != nil {
			return nil, err
		}
	}
	name := eventName(args)
	line := probeLine(&args, group, name)

	if args.Group != "" {
		// Older kernels replaced an event of the same name instead of
		// refusing it; look first so that nobody's event is replaced.
		_, err := EventID(group, name)
		if err == nil {
			return nil, fmt.Errorf("%s %s: trace event %s/%s: %w", args.Type, args.Token(), group, name, os.ErrExist)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: %w", args.Type, args.Token(), err)
		}
	}

	if err := writeEvents(args.Type, line); err != nil {
		return nil, fmt.Errorf("%s %s: %w", args.Type, args.Token(), err)
	}

	id, err := EventID(group, name)
	if err != nil {
		rmErr := removeEvent(args.Type, group, name)
		if args.RetMaxActive > 0 && errors.Is(err, os.ErrNotExist) {
			// Before v4.12 the kernel did not parse "r<N>:", took the
			// line for a plain "r" and named the event
			// kprobes/r_<sym>_<off>; remove it under that name.
			_ = removeEvent(args.Type, "kprobes", fmt.Sprintf("r_%s_%d", args.Symbol, args.Offset))
			return nil, &internal.UnsupportedFeatureError{Name: "kretprobe maxactive", MinimumVersion: internal.Version{4, 12}}
		}
		return nil, errors.Join(fmt.Errorf("%s %s: %w", args.Type, args.Token(), err), rmErr)
	}

	evt := &Event{typ: args.Type, group: group, name: name, id: id}
	typ := args.Type
	evt.cleanup = runtime.AddCleanup(evt, func(struct{}) { _ = removeEvent(typ, group, name) }, struct{}{})
	return evt, nil
}

// Close removes the event from tracefs. The kernel refuses while a perf
// event still uses it (the error then wraps unix.EBUSY, and Close may be
// called again after closing the perf event). An event removed by someone
// else counts as removed. Closing a removed event does nothing.
func (e *Event) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return nil
	}
	err := removeEvent(e.typ, e.group, e.name)
	if errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("%s is still in use, close its perf event first: %w", e, err)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", e, err)
	}
	e.removed = true
	e.cleanup.Stop()
	return nil
}

func removeEvent(typ ProbeType, group, name string) error {
	return writeEvents(typ, "-:"+group+"/"+name)
}

// writeEvents writes one command to the probe type's events file and maps
// the kernel's answers to errors callers can test.
func writeEvents(typ ProbeType, line string) error {
	root, err := Path()
	if err != nil {
		return err
	}
	path := filepath.Join(root, typ.eventsFile())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, os.ErrNotExist) {
		return &internal.UnsupportedFeatureError{Name: fmt.Sprintf("%s events in tracefs (%s is missing)", typ, path)}
	}
	if err != nil {
		return err
	}
	defer f.Close()

	_, err = f.WriteString(line)
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err
	}
	switch errno {
	case unix.ENOENT:
		return fmt.Errorf("writing %q: not found: %w", line, errno)
	case unix.EINVAL, unix.EILSEQ, unix.ERANGE:
		// Older kernels answer EINVAL for unknown symbols of kretprobes;
		// EILSEQ is an offset inside an instruction, ERANGE one past the
		// symbol's end.
		return fmt.Errorf("writing %q: %w (unknown symbol or bad offset?): %w", line, os.ErrNotExist, errno)
	}
	return fmt.Errorf("writing %q: %w", line, errno)
}
