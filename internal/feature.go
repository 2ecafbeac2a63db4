package internal

import (
	"errors"
	"fmt"
	"sync"
)

// FeatureTestFn probes the running kernel for one feature. It returns nil
// when the feature is present, an error wrapping ErrNotSupported when it is
// absent, and any other error when the probe itself failed (the result is
// then not memoized, so a later call probes again).
type FeatureTestFn func() error

// NewFeatureTest returns a function that runs fn at most once successfully
// and remembers the outcome. name and version make up the error message:
// a missing feature reads "<name> not supported (requires >= <version>)".
// version may be "" when the first kernel with the feature is unknown.
//
// The returned function is safe for concurrent use.
func NewFeatureTest(name string, fn FeatureTestFn, version string) func() error {
	ft := &featureTest{name: name, fn: fn}
	if version != "" {
		v, err := NewVersion(version)
		if err != nil {
			// A bad version string is a programming error in this module;
			// report it from every call instead of panicking.
			ft.done, ft.result = true, fmt.Errorf("feature %s: %w", name, err)
			return ft.run
		}
		ft.version = v
	}
	return ft.run
}

type featureTest struct {
	name    string
	fn      FeatureTestFn
	version Version

	mu     sync.Mutex
	done   bool
	result error
}

func (ft *featureTest) run() error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.done {
		return ft.result
	}

	err := ft.fn()
	switch {
	case err == nil:
	case errors.Is(err, ErrNotSupported):
		// Keep the probe's own detail, but present it as the named feature.
		var ufe *UnsupportedFeatureError
		if !errors.As(err, &ufe) {
			err = &UnsupportedFeatureError{Name: ft.name, MinimumVersion: ft.version}
		}
	default:
		return fmt.Errorf("detect support for %s: %w", ft.name, err)
	}
	ft.done, ft.result = true, err
	return err
}

// FeatureMatrix memoizes one feature test per key, e.g. one per map type.
type FeatureMatrix[K comparable] map[K]*FeatureTest

// FeatureTest describes a keyed feature test for a FeatureMatrix.
type FeatureTest struct {
	// Name of the feature, e.g. "map type ringbuf".
	Name string
	// Version is the first kernel with the feature, or "".
	Version string
	// Fn probes the kernel; see FeatureTestFn.
	Fn FeatureTestFn

	once sync.Once
	run  func() error
}

// Result runs (at most once successfully) the test registered for key.
// Unknown keys give an error that does not wrap ErrNotSupported.
func (fm FeatureMatrix[K]) Result(key K) error {
	ft, ok := fm[key]
	if !ok {
		return fmt.Errorf("no feature test for %v", key)
	}
	ft.once.Do(func() { ft.run = NewFeatureTest(ft.Name, ft.Fn, ft.Version) })
	return ft.run()
}
