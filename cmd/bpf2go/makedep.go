package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// A rule of a make dependency file: target depends on prerequisites.
type dependency struct {
	target        string
	prerequisites []string
}

// maxDepLine bounds a logical line of clang's dependency output.
const maxDepLine = 1 << 20

// parseDependencies reads the rules clang writes with -MD -MP: lines
// "target: prereq prereq \" joined at backslash-newlines. Relative paths
// are made absolute against dir. Paths with spaces are not supported
// (neither does make support them).
func parseDependencies(dir string, r io.Reader) ([]dependency, error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	var (
		deps    []dependency
		logical strings.Builder
	)
	flush := func() error {
		text := strings.TrimSpace(logical.String())
		logical.Reset()
		if text == "" {
			return nil
		}
		target, prereqs, ok := strings.Cut(text, ":")
		if !ok {
			return fmt.Errorf("dependency line without a colon: %q", text)
		}
		d := dependency{target: abs(strings.TrimSpace(target))}
		for _, p := range strings.Fields(prereqs) {
			d.prerequisites = append(d.prerequisites, abs(p))
		}
		deps = append(deps, d)
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxDepLine)
	for sc.Scan() {
		line := sc.Text()
		if logical.Len()+len(line) > maxDepLine {
			return nil, errors.New("dependency line too long")
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			logical.WriteString(cont)
			logical.WriteByte(' ')
			continue
		}
		logical.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(deps) == 0 {
		return nil, errors.New("no dependencies in clang's output")
	}
	return deps, nil
}

// writeDependencies writes the rules with every path relative to base.
func writeDependencies(w io.Writer, base string, deps []dependency) error {
	rel := func(p string) (string, error) { return filepath.Rel(base, p) }
	for _, d := range deps {
		target, err := rel(d.target)
		if err != nil {
			return err
		}
		if len(d.prerequisites) == 0 {
			if _, err := fmt.Fprintf(w, "%s:\n\n", target); err != nil {
				return err
			}
			continue
		}
		prereqs := make([]string, len(d.prerequisites))
		for i, p := range d.prerequisites {
			if prereqs[i], err = rel(p); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "%s: \\\n %s\n\n", target, strings.Join(prereqs, " \\\n ")); err != nil {
			return err
		}
	}
	return nil
}
