//go:build ignore

/* The smallest sched_ext scheduler: a struct_ops map with only a name.
 * Every callback left out takes sched_ext's default, a global FIFO. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* The loader matches members by name against the kernel's struct
 * sched_ext_ops (Linux 6.12, CONFIG_SCHED_CLASS_EXT). */
struct sched_ext_ops {
	char name[128];
};

/* .struct_ops.link: registered through a BPF link, so closing the link
 * (or exiting) unregisters the scheduler. */
SEC(".struct_ops.link")
struct sched_ext_ops bpfkit_minimal = {
	.name = "bpfkit_minimal",
};
