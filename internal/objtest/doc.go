// Package objtest checks the committed test objects in testdata/: every C
// source has both byte orders committed, no object outlives its source, and
// rebuilding with the Makefile's own rules reproduces every object byte for
// byte.
//
// It sits beside the pipeline, not in it: it has no code of its own, only
// tests. It may import the standard library and the test helpers; it must
// never import another package of this module, so that it keeps working
// while the stages it guards are being rewritten.
package objtest
