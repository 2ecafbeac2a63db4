#!/bin/sh
# Installs what `make test`, `make testdata` and `make vmtest` need from
# Debian's archive, when it is missing. Idempotent; needs root to install.
set -eu
need=""
for pair in clang-19:clang-19 llvm-objdump-19:llvm-19 bpftool:bpftool \
	qemu-system-x86_64:qemu-system-x86 busybox:busybox-static gcc:gcc xz:xz-utils make:make; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/bin/$cmd" ] || need="$need $pkg"
done
[ -f /usr/include/bpf/bpf_helpers.h ] || need="$need libbpf-dev"
if [ -n "$need" ]; then
	echo "deps: installing$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q $need
fi
