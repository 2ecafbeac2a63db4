#!/bin/sh
# Runs the wire-layout tests as a 32-bit (GOARCH=386) program. Everything
# must build for 386; running needs a kernel that executes i386 binaries
# (IA32 emulation). Where the kernel refuses them, the run is skipped and
# says why: that is the machine, not the library.
set -eu
GO=${GO:-go}
GOARCH=386 "$GO" vet ./...
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GOARCH=386 "$GO" test -c -o "$dir/sysenc.test" ./internal/sysenc
if ! out=$("$dir/sysenc.test" -test.run '^$' 2>&1); then
	case $out in
	*[Ee]"xec format error"*)
		echo "SKIP GOARCH=386 tests: this kernel does not run 32-bit binaries (exec format error; IA32 emulation is off or not built)"
		exit 0 ;;
	esac
	echo "$out"
	exit 1
fi
GOARCH=386 "$GO" test -count=1 ./internal/sys ./internal/sysenc
