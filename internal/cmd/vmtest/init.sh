#!/bin/busybox sh
# /init of the vmtest initramfs, run by busybox sh as PID 1.
#
# It mounts what kernel tests expect (proc, sys, devtmpfs, bpffs, tracefs,
# debugfs, securityfs, cgroup2), loads the kernel modules listed in
# /vmtest/modules in that order, brings up loopback, then runs every test
# binary listed in /vmtest/manifest ("NAME DIR" per line) with its working
# directory set to its package directory in the source tree, which sits at
# its host path ($VMTEST_SRC, also reachable as /src). Everything the host
# parses goes to the second serial port, ttyS1, as lines:
#
#   @@vmtest info KEY=VALUE
#   @@vmtest begin NAME
#   ...the test binary's own output...
#   @@vmtest end NAME rc=EXIT_CODE
#   @@vmtest done
#
# The kernel console (ttyS0) only carries kernel messages and this
# script's own errors. At the end the VM powers off; if this script dies,
# the kernel panics and qemu exits (panic=-1, -no-reboot).

/bin/busybox --install -s /bin
set -f # VMTEST_FLAGS is split on spaces below, never globbed
export PATH=/bin HOME=/root TMPDIR=/tmp
. /vmtest/config

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm

exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo
info() { echo "@@vmtest info $*" >&3; }

for m in securityfs:/sys/kernel/security bpf:/sys/fs/bpf tracefs:/sys/kernel/tracing \
	debugfs:/sys/kernel/debug cgroup2:/sys/fs/cgroup; do
	mkdir -p "${m#*:}"
	mount -t "${m%%:*}" "${m%%:*}" "${m#*:}" || info "mount_failed=${m%%:*}"
done

while read -r m; do
	insmod "/lib/modules/$m.ko" || info "insmod_failed=$m"
done </vmtest/modules
ip link set lo up || info "loopback_failed=1"

info "release=$(uname -r)"
info "cmdline=$(cat /proc/cmdline)"
info "cpus=$(grep -c ^processor /proc/cpuinfo)"
info "lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"
for f in btf:/sys/kernel/btf/vmlinux kprobe_events:/sys/kernel/tracing/kprobe_events \
	uprobe_events:/sys/kernel/tracing/uprobe_events; do
	if [ -e "${f#*:}" ]; then info "${f%%:*}=yes"; else info "${f%%:*}=no"; fi
done

export BPFKIT_VMTEST="$(uname -r)"
while read -r name dir; do
	echo "@@vmtest begin $name" >&3
	(cd "$VMTEST_SRC/$dir" && exec "/vmtest/bin/$name" -test.v -test.timeout="$VMTEST_TIMEOUT" $VMTEST_FLAGS) \
		</dev/null >&3 2>&3
	rc=$?
	printf '\n@@vmtest end %s rc=%d\n' "$name" "$rc" >&3
done </vmtest/manifest
echo "@@vmtest done" >&3
# Closing the tty waits until its output has drained.
exec 3>&-
sync
poweroff -f
