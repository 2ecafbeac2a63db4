package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// listFlag is a repeatable, comma-separated flag. Its default is replaced,
// not extended, by the first value given on the command line.
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.values, l.set = nil, true
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" && s != "none" {
			l.values = append(l.values, s)
		}
	}
	return nil
}

type options struct {
	debian, debs, kernels, modules, pkgs listFlag

	run, testFlags, busybox, qemu, cache, accel, appendExtra, failSkips string
	smp, memMiB                                                         int
	timeout, testTimeout, lockupLimit, kvmWait                          time.Duration
	retryHung                                                           int
	selftest, selftestFail, gzip, verbose                               bool
	fetch                                                               bool

	bins     []testBinary // what was built
	failSkip *regexp.Regexp
}

// The kernel command line: console on ttyS0; panic=-1 with qemu's
// -no-reboot turns a panic into a qemu exit; the BPF LSM is only active
// when "bpf" is in lsm=.
const baseAppend = "console=ttyS0 panic=-1 lsm=lockdown,capability,landlock,yama,bpf mitigations=off"

func parseFlags(out io.Writer, args []string) (*options, error) {
	o := &options{}
	o.debian.values = []string{"linux-image-amd64"}
	o.modules.values = defaultModules
	o.pkgs.values = []string{"./..."}
	fs := flag.NewFlagSet("vmtest", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./internal/cmd/vmtest [flags]\n\n"+
			"Builds every package's test binary, boots each kernel under qemu with an\n"+
			"initramfs of busybox, the binaries and the source tree, runs them all there\n"+
			"and prints a per-package summary. Exits 1 if anything failed.\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.Var(&o.debian, "debian", "Debian kernel `packages` to fetch with apt-get download: PACKAGE from the configured suites or SUITE/PACKAGE (e.g. bookworm-backports/linux-image-amd64); comma-separated, repeatable; a metapackage resolves to its image; 'none' for none")
	fs.Var(&o.debs, "deb", "kernel .deb `file` to unpack and boot (repeatable)")
	fs.Var(&o.kernels, "kernel", "bzImage `path` to boot (repeatable); modules are found beside it in a ROOT/boot, ROOT/lib/modules tree")
	fs.Var(&o.modules, "modules", "kernel `modules` to insmod when the kernel has them as modules (replaces the default list)")
	fs.Var(&o.pkgs, "pkgs", "package `patterns` to test")
	fs.StringVar(&o.run, "run", "", "only run tests matching `regexp` (passed as -test.run)")
	fs.StringVar(&o.testFlags, "testflags", "", "more `flags` for every test binary, space-separated (e.g. \"-test.short -test.count=1\")")
	fs.StringVar(&o.busybox, "busybox", "", "statically linked busybox `path` (default: busybox on PATH, from Debian's busybox-static)")
	fs.StringVar(&o.qemu, "qemu", "qemu-system-x86_64", "qemu `binary`")
	fs.StringVar(&o.cache, "cache", "", "cache `dir` for kernels, binaries, initramfs and logs (default: MODULE_ROOT/.vmtest)")
	fs.StringVar(&o.accel, "accel", "auto", "`accel`erator: auto (KVM if it boots, else TCG), kvm or tcg")
	fs.StringVar(&o.failSkips, "fail-skips", "forbids", "a skip whose reason matches this `regexp` fails the run: in the VM no program type may be forbidden ('' to allow every skip)")
	fs.StringVar(&o.appendExtra, "append", "", "more kernel command line `args`")
	fs.IntVar(&o.smp, "smp", 2, "virtual `cpus`")
	fs.IntVar(&o.memMiB, "mem", 4096, "VM memory in `MiB`")
	fs.DurationVar(&o.timeout, "timeout", 17*time.Minute, "limit for one kernel's whole VM run")
	fs.DurationVar(&o.testTimeout, "test-timeout", 10*time.Minute, "-test.timeout of each test binary; the host stops a VM whose binary runs 1m longer (its guest hangs)")
	fs.DurationVar(&o.lockupLimit, "lockup-limit", 2*time.Minute, "stop the VM when the guest kernel reports a CPU stuck in a soft lockup this long (0: wait for the other limits)")
	fs.IntVar(&o.retryHung, "retry-hung", 1, "boot a kernel whose guest hung (see -lockup-limit) this many more times, for the binaries that did not finish; the summary says so")
	fs.DurationVar(&o.kvmWait, "kvm-wait", 10*time.Second, "with -accel auto: fall back to TCG if a KVM guest prints nothing this long")
	fs.BoolVar(&o.selftest, "selftest", true, "run the harness's kernel feature test (kprobe, kretprobe, fentry, fexit, fmod_ret, LSM, freplace, kprobe_multi with raw bpf(2))")
	fs.BoolVar(&o.selftestFail, "selftest-fail", false, "also run a deliberately failing test binary: the run must fail")
	fs.BoolVar(&o.gzip, "gzip", false, "gzip the initramfs (smaller, slower to unpack under TCG)")
	fs.BoolVar(&o.verbose, "v", false, "print every test output line as it arrives")
	fs.BoolVar(&o.fetch, "fetch", false, "only fetch and unpack the -debian and -deb kernels and print \"image PATH\" for each; boot nothing")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.failSkips != "" {
		re, err := regexp.Compile(o.failSkips)
		if err != nil {
			return nil, fmt.Errorf("-fail-skips: %w", err)
		}
		o.failSkip = re
	}
	switch o.accel {
	case "auto", "kvm", "tcg":
	default:
		return nil, fmt.Errorf("-accel %q: want auto, kvm or tcg", o.accel)
	}
	if o.smp < 1 || o.memMiB < 256 {
		return nil, fmt.Errorf("-smp must be >= 1 and -mem >= 256")
	}
	return o, nil
}

func logf(format string, args ...any) {
	fmt.Printf("vmtest: "+format+"\n", args...)
}

func main() {
	o, err := parseFlags(os.Stderr, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		os.Exit(2)
	}
	if o.fetch {
		if err := fetchKernels(os.Stdout, o); err != nil {
			fmt.Fprintln(os.Stderr, "vmtest:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := runAll(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// selftestDir holds the harness's own test packages, each behind a build tag.
const selftestDir = "internal/cmd/vmtest/testdata"

func runAll(ctx context.Context, o *options) (bool, error) {
	start := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return false, err
	}
	modPath, err := modulePathOf(root)
	if err != nil {
		return false, err
	}
	cache := o.cache
	if cache == "" {
		cache = filepath.Join(root, ".vmtest")
	}
	if cache, err = filepath.Abs(cache); err != nil {
		return false, err
	}
	qemu, err := exec.LookPath(o.qemu)
	if err != nil {
		return false, fmt.Errorf("%s not found (Debian package qemu-system-x86)", o.qemu)
	}
	busybox := o.busybox
	if busybox == "" {
		if busybox, err = exec.LookPath("busybox"); err != nil {
			return false, fmt.Errorf("busybox not found (Debian package busybox-static)")
		}
	}

	var kernels []*kernel
	for _, pkg := range o.debian.values {
		k, err := kernelFromDebian(cache, pkg)
		if err != nil {
			return false, err
		}
		kernels = append(kernels, k)
	}
	for _, deb := range o.debs.values {
		k, err := kernelFromDeb(cache, deb)
		if err != nil {
			return false, err
		}
		kernels = append(kernels, k)
	}
	for _, img := range o.kernels.values {
		k, err := kernelFromImage(img)
		if err != nil {
			return false, err
		}
		kernels = append(kernels, k)
	}
	if len(kernels) == 0 {
		return false, fmt.Errorf("no kernel to boot: give -debian, -deb or -kernel")
	}

	// Each run has a directory of its own, so that runs in the same
	// checkout do not clobber each other; "last" points at the newest.
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return false, err
	}
	pruneRuns(cache, 24*time.Hour)
	runDir, err := os.MkdirTemp(cache, "run-"+time.Now().Format("20060102-150405")+"-")
	if err != nil {
		return false, err
	}
	os.Chmod(runDir, 0o755)
	defer cleanRun(cache, runDir)
	binDir := filepath.Join(runDir, "bin")
	logf("building test binaries of %s", strings.Join(o.pkgs.values, " "))
	pkgs, err := listPackages(root, o.pkgs.values)
	if err != nil {
		return false, err
	}
	bins, buildFailed, err := buildTests(root, modPath, binDir, pkgs, "")
	if err != nil {
		return false, err
	}
	for _, st := range []struct {
		on       bool
		dir, tag string
	}{
		{o.selftest, "featuretest", "vmtest_selftest"},
		{o.selftestFail, "brokentest", "vmtest_broken"},
	} {
		if !st.on {
			continue
		}
		rel := selftestDir + "/" + st.dir
		p := goPackage{ImportPath: modPath + "/" + rel, Dir: filepath.Join(root, rel), TestFiles: 1}
		extra, failed, err := buildTests(root, modPath, binDir, []goPackage{p}, st.tag)
		if err != nil {
			return false, err
		}
		bins, buildFailed = append(bins, extra...), append(buildFailed, failed...)
	}
	for _, f := range buildFailed {
		logf("the test binary of %s did not build; running the others", f.ImportPath)
	}
	if len(bins) == 0 && len(buildFailed) == 0 {
		return false, fmt.Errorf("no package matching %s has tests", strings.Join(o.pkgs.values, " "))
	}
	o.bins = bins
	logf("built %d test binaries in %s", len(bins), time.Since(start).Round(time.Second))

	flags := strings.Fields(o.testFlags)
	if o.run != "" {
		flags = append(flags, "-test.run="+o.run)
	}
	cfg := vmConfig{
		Qemu: qemu, SMP: o.smp, MemMiB: o.memMiB, Timeout: o.timeout, LogDir: runDir, Verbose: o.verbose,
		Append:      strings.TrimSpace(baseAppend + " " + o.appendExtra),
		BinaryLimit: o.testTimeout + binaryGrace, LockupLimit: o.lockupLimit,
	}
	accel := o.accel
	if accel == "auto" {
		if err := kvmUsable(); err != nil {
			logf("KVM unusable (%v): using TCG", err)
			accel = "tcg"
		}
	}

	var runs []*kernelRun
	for i, k := range kernels {
		ir := &initramfs{Busybox: busybox, Binaries: bins, SrcRoot: root, Timeout: o.testTimeout.String(), Flags: flags}
		info, err := prepareModules(k, o.modules.values, ir)
		if err != nil {
			return false, err
		}
		initrd := filepath.Join(runDir, fmt.Sprintf("initramfs-%d.cpio", i))
		if o.gzip {
			initrd += ".gz"
		}
		if err := ir.Write(initrd, o.gzip); err != nil {
			return false, err
		}
		kr := bootKernel(ctx, cfg, &accel, k, initrd, fmt.Sprint(i), o)
		for try := 1; try <= o.retryHung && errors.Is(kr.Err, errGuestHung) && ctx.Err() == nil; try++ {
			tag := fmt.Sprintf("%d-retry%d", i, try)
			kr, err = retryHung(kr, bins, func(rest []testBinary) (*kernelRun, error) {
				again := *ir
				again.Binaries = rest
				initrd := filepath.Join(runDir, "initramfs-"+tag+".cpio")
				if o.gzip {
					initrd += ".gz"
				}
				if err := again.Write(initrd, o.gzip); err != nil {
					return nil, err
				}
				return bootKernel(ctx, cfg, &accel, k, initrd, tag, o), nil
			})
			if err != nil {
				return false, err
			}
		}
		kr.Expected = bins
		kr.Info = append(info, kr.Info...)
		runs = append(runs, kr)
		if ctx.Err() != nil {
			break
		}
	}

	ok := len(buildFailed) == 0
	passed, failed, skipped := 0, len(buildFailed), 0
	for _, f := range buildFailed {
		fmt.Printf("\n=== vmtest: building the test binary of %s failed ===\n%s\n=== vmtest: end of %s ===\n", f.ImportPath, f.Output, f.ImportPath)
	}
	for _, kr := range runs {
		kr.writeFailures(os.Stdout)
	}
	for _, kr := range runs {
		kr.writeSummary(os.Stdout)
		p, f, s := kr.counts()
		passed, failed, skipped = passed+p, failed+f, skipped+s
		ok = ok && kr.OK()
	}
	if len(buildFailed) > 0 {
		fmt.Println()
		for _, f := range buildFailed {
			fmt.Printf("vmtest: %s: BUILD FAILED, not run on any kernel\n", f.ImportPath)
		}
	}
	ok = ok && len(runs) == len(kernels)
	fmt.Println()
	for _, kr := range runs {
		kr.writeRecap(os.Stdout)
	}
	fmt.Printf("vmtest: %d kernel(s) in %s, logs in %s\n", len(runs), time.Since(start).Round(time.Second), runDir)
	fmt.Printf("vmtest: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if !ok {
		fmt.Println("vmtest: FAIL")
	}
	return ok, nil
}

// cleanRun deletes the bulky files of a finished run (test binaries,
// initramfs images), keeps its logs and points cache/last at it.
func cleanRun(cache, runDir string) {
	os.RemoveAll(filepath.Join(runDir, "bin"))
	images, _ := filepath.Glob(filepath.Join(runDir, "initramfs-*"))
	for _, img := range images {
		os.Remove(img)
	}
	tmp := filepath.Join(cache, fmt.Sprintf(".last-%d", os.Getpid()))
	os.Remove(tmp)
	if os.Symlink(filepath.Base(runDir), tmp) == nil {
		if os.Rename(tmp, filepath.Join(cache, "last")) != nil {
			os.Remove(tmp)
		}
	}
}

// pruneRuns removes the logs of runs older than age.
func pruneRuns(cache string, age time.Duration) {
	runs, _ := filepath.Glob(filepath.Join(cache, "run-*"))
	for _, r := range runs {
		if st, err := os.Stat(r); err == nil && time.Since(st.ModTime()) > age {
			os.RemoveAll(r)
		}
	}
}

// prepareModules resolves the kernel modules to load and returns the
// kernel config facts worth printing in the summary.
func prepareModules(k *kernel, want []string, ir *initramfs) ([]string, error) {
	var info []string
	if k.Config != "" {
		cfg, err := kernelConfig(k.Config)
		if err != nil {
			return nil, err
		}
		var facts []string
		for _, opt := range []string{"KPROBES", "KPROBE_EVENTS", "DEBUG_INFO_BTF", "BPF_LSM", "FPROBE",
			"FUNCTION_ERROR_INJECTION", "DYNAMIC_FTRACE_WITH_DIRECT_CALLS"} {
			v := cfg["CONFIG_"+opt]
			if v == "" {
				v = "n"
			}
			facts = append(facts, strings.ToLower(opt)+"="+v)
		}
		info = append(info, "config:"+strings.Join(facts, ","))
		if k.Release != "" {
			ir.HostFiles = map[string]string{"boot/config-" + k.Release: k.Config}
		}
	}
	if k.ModDir == "" {
		if len(want) > 0 {
			logf("%s: no modules directory beside the image; only built-in drivers are available", k.Label)
		}
		return info, nil
	}
	tree, err := openModuleTree(k.ModDir)
	if err != nil {
		return nil, err
	}
	mods, missing, err := tree.resolve(want)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", k.Label, err)
	}
	if len(missing) > 0 {
		logf("%s: has neither built in nor as a module: %s", k.Label, strings.Join(missing, " "))
	}
	ir.Modules = mods
	return info, nil
}

// retryHung runs the binaries that did not finish on hung, a boot whose
// guest hung, on a fresh boot (boot), and returns the two boots as one run:
// the first boot's finished binaries, then the second boot's. The summary
// names the hang (kernelRun.Hung): a flake of the emulator passes on the
// second boot, a test that hangs the kernel hangs it again.
func retryHung(hung *kernelRun, bins []testBinary, boot func(rest []testBinary) (*kernelRun, error)) (*kernelRun, error) {
	var done []*binaryResult
	for _, r := range hung.Results {
		if !r.Ended {
			break
		}
		done = append(done, r)
	}
	if len(done) == len(bins) {
		return hung, nil // it hung after the last binary: nothing to run again
	}
	at := bins[len(done)].Name // binaries run in manifest order
	logf("the guest of %s hung in %s (%v): booting it again for the %d binaries from there", hung.Kernel.Label, at, hung.Err, len(bins)-len(done))
	kr, err := boot(bins[len(done):])
	if err != nil {
		return nil, err
	}
	kr.Results = append(done, kr.Results...)
	kr.Duration += hung.Duration
	kr.Hung = append(hung.Hung, hungBoot{In: at, Err: hung.Err, ConsoleLog: hung.ConsoleLog, Trouble: hung.Trouble})
	return kr, nil
}

// bootKernel boots one kernel and collects its results. Under -accel auto
// the first boot tries KVM and falls back to TCG for good if the guest
// stays silent; *accel holds the decision for the kernels after it.
func bootKernel(ctx context.Context, cfg vmConfig, accel *string, k *kernel, initrd, tag string, o *options) *kernelRun {
	for {
		try := *accel
		wait := time.Duration(0)
		if try == "auto" {
			try, wait = "kvm", o.kvmWait
		}
		logf("booting %s under %s (%d vCPUs, %d MiB)", k.Label, try, cfg.SMP, cfg.MemMiB)
		p := newStreamParser()
		p.FailSkip = o.failSkip
		width := 0
		for _, b := range o.bins {
			width = max(width, len(b.Name))
		}
		p.OnEnd = func(r *binaryResult) {
			logf("  %-*s %-14s %3d passed %3d failed %3d skipped  %s", width, r.Name, r.status(),
				r.Passed, r.Failed, r.Skipped, r.Duration.Round(100*time.Millisecond))
		}
		if cfg.Verbose {
			p.OnLine = func(r *binaryResult, line string) {
				if line != "" { // the end marker's leading newline leaves one
					fmt.Printf("  %s: %s\n", r.Name, line)
				}
			}
		}
		start := time.Now()
		console, err := bootVM(ctx, cfg, try, k, initrd, tag+"-"+try, wait, p)
		if errors.Is(err, errNoConsole) && *accel == "auto" {
			logf("KVM guest printed nothing in %s: falling back to TCG", wait)
			*accel = "tcg"
			continue
		}
		if *accel == "auto" {
			*accel = try
		}
		kr := &kernelRun{
			Kernel: k, Accel: try, Results: p.Results, Info: p.Info, Done: p.Done,
			Err: err, Duration: time.Since(start),
		}
		if console != nil {
			kr.Console, kr.ConsoleLog = console.Tail, console.Log
			kr.Trouble, kr.TroubleReports = console.First, console.Reports
		}
		return kr
	}
}
