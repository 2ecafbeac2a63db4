package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Kernels from Debian's archive. A kernel is named by package, optionally
// prefixed by a suite: "linux-image-amd64" comes from the suites this
// machine's apt is configured for; "bookworm-backports/linux-image-amd64"
// or "trixie/linux-image-amd64" from that suite of the same archive,
// through a private apt state under cache/apt/SUITE so that the machine's
// own apt configuration is never changed. Packages are only downloaded
// (apt-get download) and unpacked (dpkg-deb -x), never installed.

// aptEnv runs apt-get and apt-cache, with the system's configuration or a
// private one for another suite.
type aptEnv struct {
	suite string   // "" for the system's configuration
	opts  []string // -o options selecting the private state
}

func (a *aptEnv) command(tool string, args ...string) *exec.Cmd {
	return exec.Command(tool, append(append([]string{}, a.opts...), args...)...)
}

// update refreshes the package lists the environment uses.
func (a *aptEnv) update() error {
	logf("apt-get update%s", map[bool]string{true: " for " + a.suite}[a.suite != ""])
	return run(a.command("apt-get", "update", "-q"))
}

// privateAptEnv prepares cache/apt/SUITE: a sources.list naming suite on
// the archive the system already uses, and its own lists and cache. The
// lists are refreshed when older than a day.
func privateAptEnv(cache, suite string) (*aptEnv, error) {
	if strings.ContainsAny(suite, "/ \t") || suite == "" || suite[0] == '.' {
		return nil, fmt.Errorf("bad Debian suite %q", suite)
	}
	uri, signedBy, err := systemArchive()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "apt", suite)
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	opt := "[signed-by=" + signedBy + "] "
	if signedBy == "" {
		opt = ""
	}
	list := fmt.Sprintf("deb %s%s %s main\n", opt, uri, suite)
	if err := os.WriteFile(filepath.Join(dir, "sources.list"), []byte(list), 0o644); err != nil {
		return nil, err
	}
	a := &aptEnv{suite: suite, opts: []string{
		"-o", "Dir::Etc::SourceList=" + filepath.Join(dir, "sources.list"),
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(dir, "none"),
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "APT::Sandbox::User=root",
	}}
	stamp := filepath.Join(dir, "updated")
	if st, err := os.Stat(stamp); err != nil || time.Since(st.ModTime()) > 24*time.Hour {
		if err := a.update(); err != nil {
			return nil, err
		}
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// systemArchive finds the Debian archive this machine's apt uses (its
// first deb source for a suite other than -security or -updates) and the
// keyring that entry trusts.
func systemArchive() (uri, signedBy string, err error) {
	var sources []aptSource
	if data, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		sources = append(sources, parseOneLineSources(string(data))...)
	}
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	sort.Strings(files)
	sort.Strings(lists)
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			sources = append(sources, parseDeb822Sources(string(data))...)
		}
	}
	for _, f := range lists {
		if data, err := os.ReadFile(f); err == nil {
			sources = append(sources, parseOneLineSources(string(data))...)
		}
	}
	if s, ok := pickArchive(sources); ok {
		return s.URI, s.SignedBy, nil
	}
	return "", "", fmt.Errorf("no Debian archive found in /etc/apt/sources.list{,.d}: give the kernel with -deb instead")
}

type aptSource struct {
	URI, Suite, SignedBy string
}

// pickArchive returns the first source of Debian's main archive: a suite
// that is not a security or updates pocket, with the main component.
func pickArchive(sources []aptSource) (aptSource, bool) {
	for _, s := range sources {
		if s.URI == "" || strings.HasSuffix(s.Suite, "-security") || strings.HasSuffix(s.Suite, "-updates") ||
			strings.Contains(s.Suite, "/") {
			continue
		}
		return s, true
	}
	return aptSource{}, false
}

// parseDeb822Sources reads the deb822 form (Types:, URIs:, Suites:,
// Signed-By:), one source per type deb, URI and suite.
func parseDeb822Sources(text string) []aptSource {
	var out []aptSource
	for _, para := range strings.Split(text, "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(para, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(k, " ") {
				fields[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		}
		if !containsWord(fields["types"], "deb") || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		for _, uri := range strings.Fields(fields["uris"]) {
			for _, suite := range strings.Fields(fields["suites"]) {
				out = append(out, aptSource{URI: uri, Suite: suite, SignedBy: fields["signed-by"]})
			}
		}
	}
	return out
}

// parseOneLineSources reads "deb [opts] URI SUITE COMPONENTS..." lines.
func parseOneLineSources(text string) []aptSource {
	var out []aptSource
	s := bufio.NewScanner(strings.NewReader(text))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		var signedBy string
		if strings.HasPrefix(f[0], "[") {
			for len(f) > 0 {
				opt := strings.Trim(f[0], "[]")
				if v, ok := strings.CutPrefix(opt, "signed-by="); ok {
					signedBy = v
				}
				end := strings.HasSuffix(f[0], "]")
				f = f[1:]
				if end {
					break
				}
			}
		}
		if len(f) >= 2 {
			out = append(out, aptSource{URI: f[0], Suite: f[1], SignedBy: signedBy})
		}
	}
	return out
}

func containsWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if w == word {
			return true
		}
	}
	return false
}

// kernelFromDebian fetches a kernel package with apt-get download (once;
// cached under cache/debs) and unpacks it. spec is PACKAGE or
// SUITE/PACKAGE; a metapackage such as linux-image-amd64 is resolved to the
// image package it depends on.
func kernelFromDebian(cache, spec string) (*kernel, error) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return nil, fmt.Errorf("package %s: apt-get not found; pass a kernel with -kernel or -deb instead", spec)
	}
	a := &aptEnv{opts: []string{"-o", "APT::Sandbox::User=root"}}
	pkg := spec
	if suite, p, ok := strings.Cut(spec, "/"); ok {
		var err error
		if a, err = privateAptEnv(cache, suite); err != nil {
			return nil, err
		}
		pkg = p
	}
	concrete, show, err := a.lookup(pkg)
	if err != nil && os.Geteuid() == 0 && a.suite == "" {
		// A fresh machine may have no package lists yet.
		logf("%v", err)
		if uerr := a.update(); uerr != nil {
			return nil, uerr
		}
		concrete, show, err = a.lookup(pkg)
	}
	if err != nil {
		return nil, err
	}
	debs := filepath.Join(cache, "debs")
	deb := filepath.Join(debs, filepath.Base(aptField(show, "Filename")))
	if !fileExists(deb) {
		if err := os.MkdirAll(debs, 0o755); err != nil {
			return nil, err
		}
		// Download into a directory of our own and rename, so that a
		// concurrent run never reads half a file.
		tmp, err := os.MkdirTemp(debs, "download-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		logf("downloading %s", concrete)
		cmd := a.command("apt-get", "download", "-q", concrete)
		cmd.Dir = tmp
		if err := run(cmd); err != nil {
			return nil, err
		}
		got, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
		if len(got) != 1 {
			return nil, fmt.Errorf("package %s: apt-get download left %d .deb files, want 1", concrete, len(got))
		}
		if filepath.Base(got[0]) != filepath.Base(deb) {
			// apt-get escapes some characters of the version; keep its name.
			deb = filepath.Join(debs, filepath.Base(got[0]))
		}
		if err := os.Rename(got[0], deb); err != nil {
			return nil, err
		}
	}
	k, err := kernelFromDeb(cache, deb)
	if err != nil {
		return nil, err
	}
	k.Label = fmt.Sprintf("%s (%s %s)", k.Label, concrete, aptField(show, "Version"))
	return k, nil
}

// lookup resolves pkg and returns apt-cache show's record of the image
// package.
func (a *aptEnv) lookup(pkg string) (string, []byte, error) {
	concrete, err := a.resolve(pkg)
	if err != nil {
		return "", nil, err
	}
	show, err := output(a.command("apt-cache", "show", "--no-all-versions", concrete))
	if err != nil {
		return "", nil, fmt.Errorf("package %s: %w", concrete, err)
	}
	if aptField(show, "Filename") == "" {
		return "", nil, fmt.Errorf("package %s: apt-cache show gives no Filename", concrete)
	}
	return concrete, show, nil
}

// resolve follows a metapackage (linux-image-amd64) to the versioned image
// package it depends on (linux-image-6.1.0-56-amd64).
func (a *aptEnv) resolve(pkg string) (string, error) {
	deps, err := output(a.command("apt-cache", "depends", pkg))
	if err != nil {
		return "", fmt.Errorf("package %s: %w", pkg, err)
	}
	s := bufio.NewScanner(bytes.NewReader(deps))
	for s.Scan() {
		dep, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "Depends: ")
		if ok && strings.HasPrefix(dep, "linux-image-") && !strings.HasPrefix(dep, "<") {
			return dep, nil
		}
	}
	return pkg, nil
}

// aptField returns the first "Name: value" field of apt-cache show output.
func aptField(show []byte, name string) string {
	s := bufio.NewScanner(bytes.NewReader(show))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
