/* map_arena: a BPF_MAP_TYPE_ARENA map (Linux 6.9) and a syscall program
 * that allocates a page of it and writes through an arena pointer
 * (address_space(1): clang emits addr_space_cast instructions).
 *
 * ELF reader: map "arena" is ARENA, key/value size 0, max_entries 2 (pages),
 * flags BPF_F_MMAPABLE, map_extra 0x100000000000 (1<<44, the user-space
 * address of the arena; written with __ulong because it does not fit the
 * 32-bit __uint encoding). "arena_alloc" calls the kfunc
 * bpf_arena_alloc_pages (a .ksyms extern function).
 *
 * Test (syscall program, BPF_PROG_TEST_RUN without context): returns 0;
 * afterwards .bss "result" == 42. With max_entries 2, a third run fails to
 * allocate and returns 1 (each run takes a page).
 * Verified here: libbpf 1.1 reads only __uint map_extra, so a throwaway copy
 * with map_extra set through bpf_map__set_map_extra(1<<44) was loaded and
 * run with a libbpf loader (returned 0, result 42).
 */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt, int node_id,
				    __u64 flags) __ksym;

__u64 result;

SEC("syscall")
int arena_alloc(void *ctx)
{
	__u64 __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, -1 /* any node */, 0);

	if (!p)
		return 1;
	*p = 42;
	result = *p;
	return 0;
}

BPF_LICENSE("GPL");
