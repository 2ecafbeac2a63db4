// Package exampletest runs the examples in their tests the way a user runs
// them: as a separate process, waiting for the lines they print while the
// test triggers the events they count.
//
// An example's test binary is its own program: Main runs the example
// instead of the tests when Start launches the binary, so the VM tests,
// which have no Go toolchain, run the examples too. It sits beside the
// examples, above every package of the module; only tests import it.
package exampletest
