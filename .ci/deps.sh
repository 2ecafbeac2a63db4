#!/bin/sh
# Installs what `make test`, `make testdata` and `make vmtest` need from
# Debian's archive, when it is missing. Idempotent; needs root to install.
set -eu
need=""
for pair in clang-19:clang-19 llvm-objdump-19:llvm-19 bpftool:bpftool \
	qemu-system-x86_64:qemu-system-x86 busybox:busybox-static gcc:gcc g++:g++ xz:xz-utils make:make; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/bin/$cmd" ] || need="$need $pkg"
done
[ -f /usr/include/bpf/bpf_helpers.h ] || need="$need libbpf-dev"
# <sys/sdt.h>, for the USDT test program the link tests build.
[ -f /usr/include/sys/sdt.h ] || [ -f "/usr/include/$(gcc -print-multiarch 2>/dev/null)/sys/sdt.h" ] ||
	need="$need systemtap-sdt-dev"
# Debian's python3.11 has USDT probes the link tests attach to; releases
# after bookworm don't ship it, and those tests skip there.
optional=""
[ -x /usr/bin/python3.11 ] || optional="$optional python3.11"
if [ -n "$need$optional" ]; then
	echo "deps: installing$need$optional"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	[ -z "$need" ] || apt-get install -y -q $need
	for pkg in $optional; do
		apt-get install -y -q "$pkg" || echo "deps: $pkg is not available here; the tests that need it skip"
	done
fi
