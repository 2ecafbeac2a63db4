#!/bin/sh
# Builds the kernel's multi-file BPF programs that the static linker's oracle
# test (TestLinkKernelObjects, `make linktest`) links with bpftool and with
# LinkObjectFiles: the selftests that tools/testing/selftests/bpf/Makefile
# links with `bpftool gen object`, and the xdp_sample users of samples/bpf.
#
# The sources come from Debian's linux-source-6.1 package, fetched with
# apt-get download and unpacked with dpkg-deb -x (nothing is installed); only
# the directories the programs need are extracted. vmlinux.h is dumped from
# the running kernel's BTF. Everything goes to $CACHE (default .linktest/,
# gitignored); a second run reuses what is there.
#
# Usage: .ci/linktest-objs.sh [CACHE]
set -eu
cd "$(dirname "$0")/.."
CACHE=${1:-.linktest}
CLANG=${CLANG:-clang-19}
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
mkdir -p "$CACHE/obj"
CACHE=$(cd "$CACHE" && pwd)
SRC=$CACHE/linux-source-6.1

if [ ! -d "$SRC/tools/testing/selftests/bpf" ]; then
	# Without package lists (a fresh machine), update them once. Without
	# the archive, say so and stop: the test then skips, naming the
	# missing objects.
	if ! (cd "$CACHE" && rm -f linux-source-6.1_*.deb && apt-get download -q linux-source-6.1); then
		apt-get update -q || true
		if ! (cd "$CACHE" && apt-get download -q linux-source-6.1); then
			echo "linktest: can't download linux-source-6.1; TestLinkKernelObjects will skip" >&2
			exit 0
		fi
	fi
	rm -rf "$CACHE/pkg"
	dpkg-deb -x "$CACHE"/linux-source-6.1_*.deb "$CACHE/pkg"
	tar -C "$CACHE" -xf "$CACHE"/pkg/usr/src/linux-source-6.1.tar.xz \
		linux-source-6.1/tools/testing/selftests/bpf linux-source-6.1/tools/lib/bpf \
		linux-source-6.1/tools/include linux-source-6.1/samples/bpf
	rm -rf "$CACHE/pkg" "$CACHE"/linux-source-6.1_*.deb
fi

OBJ=$CACHE/obj
[ -s "$OBJ/vmlinux.h" ] || "$BPFTOOL" btf dump file /sys/kernel/btf/vmlinux format c > "$OBJ/vmlinux.h"

# The flags of the selftests' and the samples' Makefiles; bpf_helper_defs.h
# (generated in a kernel build) comes from libbpf-dev.
SYS="-idirafter /usr/include/bpf -idirafter /usr/local/include -idirafter /usr/include/x86_64-linux-gnu -idirafter /usr/include"
SELFTESTS=$SRC/tools/testing/selftests/bpf
for f in linked_funcs1 linked_funcs2 linked_vars1 linked_vars2 linked_maps1 linked_maps2 \
	test_static_linked1 test_static_linked2 test_subskeleton_lib2 test_subskeleton_lib \
	test_subskeleton test_usdt test_usdt_multispec; do
	[ -s "$OBJ/$f.bpf.o" ] && continue
	# shellcheck disable=SC2086
	$CLANG -g -Werror -D__TARGET_ARCH_x86 -mlittle-endian -I"$OBJ" -I"$SELFTESTS" \
		-I"$SRC/tools/include/uapi" -I"$SRC/tools/lib" $SYS \
		-Wno-compare-distinct-pointer-types -DENABLE_ATOMICS_TESTS \
		-O2 -target bpf -mcpu=v3 -c "$SELFTESTS/progs/$f.c" -o "$OBJ/$f.bpf.o"
done
SAMPLES=$SRC/samples/bpf
for f in xdp_sample xdp_redirect_cpu xdp_redirect_map_multi xdp_redirect_map xdp_redirect \
	xdp_monitor xdp_router_ipv4; do
	[ -s "$OBJ/$f.bpf.o" ] && continue
	# shellcheck disable=SC2086
	$CLANG -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wno-compare-distinct-pointer-types \
		-I"$OBJ" -I"$SAMPLES" -I"$SRC/tools/include" -I"$SRC/tools/lib" $SYS \
		-c "$SAMPLES/$f.bpf.c" -o "$OBJ/$f.bpf.o"
done
echo "linktest objects in $OBJ"
