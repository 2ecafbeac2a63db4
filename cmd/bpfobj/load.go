package main

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/rlimit"
)

// errNeedsRoot is the plain answer to EPERM from bpf(2).
var errNeedsRoot = errors.New("load and run need root (or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)")

func load(report *Report, file string, opts options) error {
	spec, err := readObject(file)
	if err != nil {
		return err
	}
	report.Object = objectHeader(file, spec)
	coll, err := loadCollection(report, spec, opts)
	if err != nil {
		return err
	}
	coll.Close()
	return nil
}

// loadCollection loads spec (only opts.prog's program if set) with the
// verifier's statistics and fills report.Load. The caller closes the
// collection.
func loadCollection(report *Report, spec *ebpf.CollectionSpec, opts options) (*ebpf.Collection, error) {
	lr := &LoadResult{}
	report.Load = lr
	if opts.prog != "" {
		var err error
		spec, lr.Notes, err = onlyProgram(spec, opts.prog)
		if err != nil {
			return nil, err
		}
	}

	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK, whose
	// default is too small for most objects. A failure here shows up as
	// a clearer error of the load itself.
	_ = rlimit.RemoveMemlock()

	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats},
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) && ve.Source == "" {
			// The statistics level logs no instructions, so the error
			// can't name the source line. Loading again with the
			// instruction log costs a second verification, only on
			// failure.
			_, again := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
				Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch | ebpf.LogLevelStats},
			})
			var ve2 *ebpf.VerifierError
			if errors.As(again, &ve2) {
				err, ve = again, ve2
			}
		}
		if ve != nil {
			lr.Verifier = verifierFailure(spec, ve, err, opts.verbose)
		}
		if errors.Is(err, unix.EPERM) && !privileged() {
			return nil, fmt.Errorf("%w: %w", errNeedsRoot, err)
		}
		return nil, err
	}

	for _, name := range slices.Sorted(maps.Keys(coll.Programs)) {
		p := coll.Programs[name]
		st := parseVerifierStats(p.VerifierLog)
		st.Name = name
		if info, err := p.Info(); err == nil {
			st.Verified, _ = info.VerifiedInstructions()
		}
		lr.Programs = append(lr.Programs, st)
	}
	lr.OK = true
	lr.Maps = len(coll.Maps)
	return coll, nil
}

// onlyProgram returns a copy of spec with only the program name. Program
// arrays lose the entries of the programs left out: a notes line says
// which.
func onlyProgram(spec *ebpf.CollectionSpec, name string) (*ebpf.CollectionSpec, []string, error) {
	if spec.Programs[name] == nil {
		return nil, nil, fmt.Errorf("no program %q in the object; it has: %s", name,
			strings.Join(slices.Sorted(maps.Keys(spec.Programs)), ", "))
	}
	spec = spec.Copy()
	for n := range spec.Programs {
		if n != name {
			delete(spec.Programs, n)
		}
	}
	var notes []string
	for _, mname := range slices.Sorted(maps.Keys(spec.Maps)) {
		ms := spec.Maps[mname]
		if ms.Type != ebpf.ProgramArray {
			continue
		}
		var kept []ebpf.MapKV
		var dropped []string
		for _, kv := range ms.Contents {
			if p, ok := kv.Value.(string); ok && p != name {
				dropped = append(dropped, p)
				continue
			}
			kept = append(kept, kv)
		}
		if len(dropped) > 0 {
			ms.Contents = kept
			notes = append(notes, fmt.Sprintf("program array %s: left out the entries of %s", mname, strings.Join(dropped, ", ")))
		}
	}
	return spec, notes, nil
}

// verifierFailure describes a rejection: which program, the summary, the
// source line and, if verbose, the log.
func verifierFailure(spec *ebpf.CollectionSpec, ve *ebpf.VerifierError, err error, verbose bool) *VerifierFailure {
	vf := &VerifierFailure{
		Program:   rejectedProgram(spec, err),
		Cause:     err.Error(),
		LogLines:  len(ve.Log),
		Source:    strings.TrimPrefix(ve.Source, "./"),
		Truncated: ve.Truncated,
	}
	if verbose {
		vf.Log = ve.Log
	}
	if vf.Source != "" {
		vf.SourceLine = sourceText(spec, vf.Program, vf.Source)
	}
	return vf
}

// rejectedProgram finds the program a collection error names. Errors name
// the program they are about; the longest matching name wins so that
// "count" doesn't match "count_all".
func rejectedProgram(spec *ebpf.CollectionSpec, err error) string {
	if len(spec.Programs) == 1 {
		for name := range spec.Programs {
			return name
		}
	}
	msg := err.Error()
	best := ""
	for name := range spec.Programs {
		for _, form := range []string{"program " + name + ":", `program "` + name + `"`, "program " + strconv.Quote(name)} {
			if strings.Contains(msg, form) && len(name) > len(best) {
				best = name
			}
		}
	}
	return best
}

// sourceText looks up the text of a source location ("file.c:32") in the
// line info of the named program, or of any program if name is empty.
func sourceText(spec *ebpf.CollectionSpec, name, location string) string {
	for _, pname := range slices.Sorted(maps.Keys(spec.Programs)) {
		if name != "" && pname != name {
			continue
		}
		for _, ins := range spec.Programs[pname].Instructions {
			line, ok := ins.Source().(*btf.Line)
			if ok && sourceLocation(line) == location {
				return strings.TrimSpace(line.Line())
			}
		}
	}
	return ""
}

// The statistics the verifier prints at the end of its log with
// LogLevelStats, e.g.:
//
//	verification time 27 usec
//	stack depth 0+8
//	processed 29 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 1
var (
	processedRe = regexp.MustCompile(`^processed (\d+) insns \(limit (\d+)\)`)
	statRe      = regexp.MustCompile(`(max_states_per_insn|total_states|peak_states) (\d+)`)
	timeRe      = regexp.MustCompile(`^verification time (\d+) usec`)
	stackRe     = regexp.MustCompile(`^stack depth ([0-9+]+)`)
)

// parseVerifierStats reads the statistics lines of a verifier log. Fields
// it doesn't find stay zero.
func parseVerifierStats(log string) *ProgramStats {
	st := &ProgramStats{}
	num := func(s string) uint64 {
		v, _ := strconv.ParseUint(s, 10, 64)
		return v
	}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := processedRe.FindStringSubmatch(line); m != nil {
			st.Processed, st.Limit = num(m[1]), num(m[2])
			for _, sm := range statRe.FindAllStringSubmatch(line, -1) {
				switch sm[1] {
				case "max_states_per_insn":
					st.MaxStatesPerInsn = num(sm[2])
				case "total_states":
					st.TotalStates = num(sm[2])
				case "peak_states":
					st.PeakStates = num(sm[2])
				}
			}
		} else if m := timeRe.FindStringSubmatch(line); m != nil {
			st.TimeMicros = num(m[1])
		} else if m := stackRe.FindStringSubmatch(line); m != nil {
			st.StackDepth = m[1]
		}
	}
	return st
}

// privileged reports whether this process may load BPF objects: root, or
// CAP_SYS_ADMIN or CAP_BPF in its effective capability set. Tests replace
// it to walk the unprivileged path as root.
var privileged = hasBPFPrivileges

func hasBPFPrivileges() bool {
	if os.Geteuid() == 0 {
		return true
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hexCaps, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hexCaps), 16, 64)
		if err != nil {
			return false
		}
		const capSysAdmin, capBPF = 21, 39
		return caps&(1<<capSysAdmin) != 0 || caps&(1<<capBPF) != 0
	}
	return false
}
