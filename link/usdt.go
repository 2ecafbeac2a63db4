package link

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// A USDT attachment works the way libbpf's does, so that a program built
// with libbpf's usdt.bpf.h runs unchanged under either library: one uprobe
// per probe site, all running the same program. Sites differ in where
// their arguments are, so each distinct argument string gets a spec ID, an
// index into the program's __bpf_usdt_specs array that holds the parsed
// locations; the program finds its spec ID in its BPF cookie (Linux 5.15)
// or, on older kernels, by looking its instruction pointer up in
// __bpf_usdt_ip_to_spec_id. Spec IDs are allocated per spec map, shared
// by every attachment made by this process, and returned on Close.

// USDTOptions are the optional arguments of Executable.USDT.
type USDTOptions struct {
	// PID limits the probe to one process; 0 probes every process that
	// runs the file.
	PID int
	// Cookie is returned by bpf_usdt_cookie() in the program: the same
	// value at every site (libbpf's usdt_cookie). The BPF cookie itself
	// carries the spec ID.
	Cookie uint64
	// Specs and IPToSpecID are the program's __bpf_usdt_specs and
	// __bpf_usdt_ip_to_spec_id maps (from usdt.bpf.h). When nil, they are
	// found among the maps the program uses, by name.
	Specs, IPToSpecID *ebpf.Map
	// TraceFSPrefix starts the tracefs group name if the uprobes have to
	// be created in tracefs, as in UprobeOptions.
	TraceFSPrefix string
}

// USDT attaches prog (type Kprobe, SEC("usdt") in C) to every site of the
// USDT probe provider:name in the file, for example
//
//	ex, _ := link.OpenExecutable("/usr/bin/python3.11")
//	l, err := ex.USDT("python", "function__entry", prog, nil)
//
// The program reads the probe's arguments with usdt.bpf.h's
// bpf_usdt_arg(), bpf_usdt_arg_cnt() and bpf_usdt_cookie(); this fills the
// maps those read as libbpf does. A probe with a semaphore has it
// incremented while attached: by the kernel (uprobe reference counters,
// Linux 4.20), or else, for a PID-scoped attachment, by writing
// /proc/PID/mem. Closing the link detaches every uprobe, restores the
// semaphores and frees the spec IDs. A probe the file lacks gives an error
// wrapping os.ErrNotExist that lists the probes it has.
//
// Cost: the first call reads the file's notes; finding the maps takes a
// few bpf(2) calls; each distinct argument layout one map update; each
// site a perf_event_open(2) and a bpf(2) call (see Uprobe).
func (ex *Executable) USDT(provider, name string, prog *ebpf.Program, opts *USDTOptions) (Link, error) {
	if opts == nil {
		opts = &USDTOptions{}
	}
	what := fmt.Sprintf("usdt %s:%s:%s", ex.path, provider, name)
	if prog == nil {
		return nil, fmt.Errorf("%s: program is nil", what)
	}
	if prog.Type() != ebpf.Kprobe {
		return nil, fmt.Errorf("%s: program %s has type %s, want Kprobe", what, prog, prog.Type())
	}
	if opts.PID < 0 {
		return nil, fmt.Errorf("%s: invalid PID %d", what, opts.PID)
	}
	sites, err := ex.usdtSites(provider, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	l, err := attachUSDT(ex, sites, prog, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}

// usdtSites returns the sites of provider:name, checked for this machine.
func (ex *Executable) usdtSites(provider, name string) ([]USDTProbe, error) {
	if ex.typ != elf.ET_EXEC && ex.typ != elf.ET_DYN {
		return nil, fmt.Errorf("ELF type %s: only executables and shared libraries have probes to attach to", ex.typ)
	}
	host, err := hostMachine()
	if err != nil {
		return nil, err
	}
	if ex.machine != host {
		return nil, fmt.Errorf("the file is for %s, this machine is %s", ex.machine, host)
	}
	all, err := ex.USDTProbes()
	if err != nil {
		return nil, err
	}
	var sites []USDTProbe
	for _, p := range all {
		if p.Provider == provider && p.Name == name {
			sites = append(sites, p)
		}
	}
	if len(sites) == 0 {
		return nil, usdtNotFound(provider, name, all)
	}
	for i := range sites {
		if sites[i].err != nil {
			return nil, fmt.Errorf("site %d at %#x: %w", i, sites[i].Address, sites[i].err)
		}
	}
	return sites, nil
}

// usdtNotFound names the missing probe and lists those the file has.
func usdtNotFound(provider, name string, all []USDTProbe) error {
	if len(all) == 0 {
		return fmt.Errorf("no USDT probe %s:%s: the file has no USDT probes (no %s section): %w", provider, name, usdtNoteSection, os.ErrNotExist)
	}
	var names []string
	for _, p := range all {
		names = append(names, p.Provider+":"+p.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	const shown = 40
	list := strings.Join(names[:min(len(names), shown)], ", ")
	if len(names) > shown {
		list += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return fmt.Errorf("no USDT probe %s:%s; the file has %s: %w", provider, name, list, os.ErrNotExist)
}

// hostMachine is the ELF machine of the running kernel's architecture,
// for the architectures whose arguments we can read.
func hostMachine() (elf.Machine, error) {
	switch runtime.GOARCH {
	case "amd64":
		return elf.EM_X86_64, nil
	case "arm64":
		return elf.EM_AARCH64, nil
	case "s390x":
		return elf.EM_S390, nil
	}
	return elf.EM_NONE, fmt.Errorf("USDT on %s: %w", runtime.GOARCH, ErrNotSupported)
}

// usdtLink is the uprobes of one USDT attachment and what they hold.
type usdtLink struct {
	uprobes []Link
	specs   *usdtSpecMaps
	// ids are the spec IDs this link allocated.
	ids []uint32
	// ips are the keys it added to the IP-to-spec-ID map.
	ips []uint64
	// semaphores it raised through /proc/PID/mem.
	semaphores []*procSemaphore
}

func (*usdtLink) isLink() {}

// Update is not supported: a USDT link is many uprobes.
func (*usdtLink) Update(*ebpf.Program) error { return unsupported("update", "usdt") }

// Pin is not supported: a USDT link is many perf events, and the spec
// IDs it holds are tracked by this process.
func (*usdtLink) Pin(string) error { return unsupported("pin", "usdt") }

// Unpin is not supported: see Pin.
func (*usdtLink) Unpin() error { return unsupported("unpin", "usdt") }

// Detach is not supported: close the link instead.
func (*usdtLink) Detach() error { return unsupported("detach", "usdt") }

// Info is not supported: a USDT link is no single kernel link.
func (*usdtLink) Info() (*Info, error) { return nil, unsupported("info of", "usdt") }

// Close detaches every uprobe (the kernel then lowers the semaphores it
// raised), removes the IP-to-spec-ID entries, lowers the semaphores raised
// through /proc/PID/mem and frees the spec IDs. It returns the first
// errors but always does all of it.
func (l *usdtLink) Close() error {
	var errs []error
	for _, u := range l.uprobes {
		errs = append(errs, u.Close())
	}
	l.uprobes = nil
	if l.specs != nil {
		for _, ip := range l.ips {
			if err := l.specs.ipToID.Delete(ip); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("remove IP %#x from the IP-to-spec-ID map: %w", ip, err))
			}
		}
		l.specs.release(l.ids)
		errs = append(errs, l.specs.Close())
		l.specs, l.ips, l.ids = nil, nil, nil
	}
	for _, s := range l.semaphores {
		errs = append(errs, s.release())
	}
	l.semaphores = nil
	return errors.Join(errs...)
}

// attachUSDT fills the spec maps and attaches a uprobe to every site; on
// error it undoes what it did.
func attachUSDT(ex *Executable, sites []USDTProbe, prog *ebpf.Program, opts *USDTOptions) (_ Link, err error) {
	args := make([][]usdtArg, len(sites))
	for i := range sites {
		if args[i], err = parseUSDTArgs(sites[i].machine, sites[i].Args); err != nil {
			return nil, fmt.Errorf("site %d at %#x: %w", i, sites[i].Address, err)
		}
	}

	// With BPF cookies (5.15) the cookie names the spec; before, the
	// program looks its IP up, so each site's address in the process is
	// needed: fixed for a non-PIE executable, found in /proc/PID/maps for
	// anything loaded at a random base.
	cookies := !usdtForceNoCookies && haveBPFLinkPerfEvent() == nil
	var absIPs []uint64
	if !cookies {
		if absIPs, err = usdtAbsoluteIPs(ex, sites, opts.PID); err != nil {
			return nil, err
		}
	}

	// Semaphores: the kernel keeps them (4.20); before, a PID-scoped
	// attachment writes them itself.
	refCtr := true
	if slices.ContainsFunc(sites, func(p USDTProbe) bool { return p.Semaphore != 0 }) {
		err := error(&internal.UnsupportedFeatureError{Name: "uprobe reference counters (USDT semaphores)", MinimumVersion: internal.Version{4, 20, 0}})
		if !usdtForceProcSemaphores {
			_, err = tracefs.PMUConfigBit(tracefs.Uprobe, tracefs.FormatRefCtrOffset)
		}
		switch {
		case err == nil:
		case !errors.Is(err, ErrNotSupported):
			return nil, err
		case opts.PID == 0:
			return nil, fmt.Errorf("the probe has a semaphore, the kernel can't maintain it, and without a PID there is no process to set it in: %w", err)
		default:
			refCtr = false
		}
	}

	l := &usdtLink{}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.specs, err = findUSDTSpecMaps(prog, opts); err != nil {
		return nil, err
	}
	if l.specs == nil && opts.Cookie != 0 {
		// A program that uses neither map reads no arguments and may
		// attach (libbpf refuses even that), but a cookie is never
		// dropped silently.
		return nil, fmt.Errorf("program %s does not use usdt.bpf.h's maps, so bpf_usdt_cookie can't return cookie %#x", prog, opts.Cookie)
	}

	ids := make(map[string]uint32)
	pid := opts.PID
	if pid == 0 {
		pid = -1
	}
	for i, site := range sites {
		var id uint32
		if l.specs != nil {
			var ok bool
			if id, ok = ids[site.Args]; !ok {
				if id, err = l.specs.alloc(); err != nil {
					return nil, err
				}
				l.ids = append(l.ids, id)
				ids[site.Args] = id
				if err := l.specs.specs.Update(id, marshalUSDTSpec(args[i], opts.Cookie, internal.NativeEndian), ebpf.UpdateAny); err != nil {
					return nil, fmt.Errorf("write spec %d for site %d: %w", id, i, err)
				}
			}
			if !cookies {
				if err := l.specs.ipToID.Update(absIPs[i], id, ebpf.UpdateNoExist); errors.Is(err, ebpf.ErrKeyExist) {
					return nil, fmt.Errorf("site %d at IP %#x is attached to by another USDT link of the same maps: %w", i, absIPs[i], err)
				} else if err != nil {
					return nil, fmt.Errorf("map IP %#x of site %d to spec %d: %w", absIPs[i], i, id, err)
				}
				l.ips = append(l.ips, absIPs[i])
			}
		}
		var refCtrOffset, cookie uint64
		if refCtr {
			refCtrOffset = site.SemaphoreOffset
		}
		if cookies {
			cookie = uint64(id)
		}
		u, err := ex.usdtUprobe(&site, prog, pid, refCtrOffset, cookie, opts.TraceFSPrefix)
		if err != nil {
			return nil, fmt.Errorf("site %d: %w", i, err)
		}
		l.uprobes = append(l.uprobes, u)
	}

	if !refCtr {
		seen := make(map[uint64]bool)
		for _, site := range sites {
			if site.Semaphore == 0 || seen[site.SemaphoreOffset] {
				continue
			}
			seen[site.SemaphoreOffset] = true
			s, err := raiseProcSemaphore(ex.path, opts.PID, site.SemaphoreOffset)
			if err != nil {
				return nil, fmt.Errorf("semaphore of %s: %w", site.String(), err)
			}
			l.semaphores = append(l.semaphores, s)
		}
	}
	return l, nil
}

// Tests take the paths of older kernels: semaphores raised through
// /proc/PID/mem (before 4.20), spec IDs found by IP (before 5.15).
var usdtForceProcSemaphores, usdtForceNoCookies bool

// usdtUprobe attaches prog to one site.
func (ex *Executable) usdtUprobe(site *USDTProbe, prog *ebpf.Program, pid int, refCtrOffset, cookie uint64, prefix string) (Link, error) {
	pe, err := openProbe(probeArgs{
		typ:          tracefs.Uprobe,
		symbol:       site.Provider + "_" + site.Name,
		path:         ex.path,
		offset:       site.Offset,
		refCtrOffset: refCtrOffset,
		pid:          pid,
		prefix:       prefix,
	})
	if err != nil {
		return nil, err
	}
	l, err := attachPerfEvent(pe, prog, cookie)
	if err != nil {
		pe.Close()
		return nil, err
	}
	return l, nil
}

// usdtAbsoluteIPs returns the address of each site in the process: its
// link-time address in a non-PIE executable, else where pid mapped it.
func usdtAbsoluteIPs(ex *Executable, sites []USDTProbe, pid int) ([]uint64, error) {
	ips := make([]uint64, len(sites))
	if ex.typ == elf.ET_EXEC {
		for i := range sites {
			ips[i] = sites[i].Address
		}
		return ips, nil
	}
	if pid == 0 {
		return nil, fmt.Errorf("%s is loaded at a different address in each process; without BPF cookies the program finds its arguments by address, so give a PID: %w",
			ex.path, &internal.UnsupportedFeatureError{Name: "bpf cookies for perf events", MinimumVersion: internal.Version{5, 15, 0}})
	}
	maps, err := fileMappings(pid, ex.path)
	if err != nil {
		return nil, err
	}
	for i := range sites {
		m := maps.containing(sites[i].Offset, true)
		if m == nil {
			return nil, fmt.Errorf("site %d at file offset %#x is in no executable mapping of %s in process %d", i, sites[i].Offset, ex.path, pid)
		}
		ips[i] = m.start + sites[i].Offset - m.offset
	}
	return ips, nil
}

// USDTTarget is what a program's section names it to attach to:
// SEC("usdt/PATH:PROVIDER:NAME"), which the ELF reader leaves in
// ProgramSpec.AttachTo as "PATH:PROVIDER:NAME", as it does the targets of
// uprobe sections.
type USDTTarget struct {
	Path, Provider, Name string
}

// ParseUSDTTarget splits the AttachTo of a usdt program. The path may not
// contain ':' (libbpf's rule); all three parts must be present, and
// nothing may follow the name.
func ParseUSDTTarget(attachTo string) (USDTTarget, error) {
	parts := strings.Split(attachTo, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return USDTTarget{}, fmt.Errorf("usdt target %q: want PATH:PROVIDER:NAME", attachTo)
	}
	return USDTTarget{Path: parts[0], Provider: parts[1], Name: parts[2]}, nil
}

// OpenExecutable opens the target's file. A path without '/' is looked up
// as libbpf does: a shared library (a name containing ".so") in
// $LD_LIBRARY_PATH, /usr/lib64, /usr/lib and the architecture's
// multiarch directory (/lib/x86_64-linux-gnu); a program in $PATH,
// /usr/bin and /usr/sbin, where it must be executable.
func (t USDTTarget) OpenExecutable() (*Executable, error) {
	path, err := resolveTargetPath(t.Path)
	if err != nil {
		return nil, err
	}
	return OpenExecutable(path)
}

func resolveTargetPath(file string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	var dirs []string
	exec := !strings.HasSuffix(file, ".so") && !strings.Contains(file, ".so.")
	if exec {
		dirs = append(filepath.SplitList(os.Getenv("PATH")), "/usr/bin", "/usr/sbin")
	} else {
		dirs = append(filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")), "/usr/lib64", "/usr/lib")
		if m := multiarchDir(); m != "" {
			dirs = append(dirs, m)
		}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, file)
		mode := uint32(unix.R_OK)
		if exec {
			mode |= unix.X_OK
		}
		if unix.Faccessat(unix.AT_FDCWD, p, mode, unix.AT_EACCESS) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("usdt target %q: not found in %s: %w", file, strings.Join(dirs, ":"), os.ErrNotExist)
}

// multiarchDir is Debian's library directory for the running architecture.
func multiarchDir() string {
	switch runtime.GOARCH {
	case "amd64":
		return "/lib/x86_64-linux-gnu"
	case "arm64":
		return "/lib/aarch64-linux-gnu"
	case "s390x":
		return "/lib/s390x-linux-gnu"
	case "386":
		return "/lib/i386-linux-gnu"
	case "riscv64":
		return "/lib/riscv64-linux-gnu"
	case "ppc64le":
		return "/lib/powerpc64le-linux-gnu"
	}
	return ""
}
