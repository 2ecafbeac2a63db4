/* globals: global variables in every data section libbpf knows.
 *
 * Sections and what the ELF reader should find (name, size in bytes):
 *   .data           data_u64 (8) = 0x0102030405060708, data_u32 (4) = 42,
 *                   data_bytes (5) = {1,2,3,4,5}, data_pair (4) = {7, -7}
 *   .bss            bss_u64 (8), bss_arr (16), static_counter (4, a static)
 *   .rodata         ret_value (4) = 7, rodata_u64 (8) = 0x1122334455667788,
 *                   rodata_str (8) = "abc"; all const volatile: load-time
 *                   configuration a test may change before loading
 *   .data.custom    custom_u32 (4) = 0xcafe
 *   .rodata.custom  custom_ro_u16 (2) = 0xbeef
 *
 * Test (tc, BPF_PROG_TEST_RUN with any 14-byte or longer packet): set
 * ret_value to V in the .rodata spec before loading, run "read_globals":
 *   - returns V (7 when unchanged);
 *   - afterwards .bss: bss_u64 == rodata_u64 (0x1122334455667788),
 *     bss_arr == {0xbeef, 42 + runs, 'a', 5}, static_counter == runs;
 *   - .data: data_u32 == 42 + runs; .data.custom: custom_u32 == 0xcafe + runs.
 * Verified here: bpftool prog loadall; libbpf loader with ret_value set to
 * 1234 before load, run twice: returned 1234, maps as above.
 */
#include "common.h"

__u64 data_u64 = 0x0102030405060708ULL;
__u32 data_u32 = 42;
__u8 data_bytes[5] = {1, 2, 3, 4, 5};
struct pair {
	__u16 a;
	__s16 b;
} data_pair = {7, -7};

__u64 bss_u64;
__u32 bss_arr[4];
static __u32 static_counter;

const volatile __u32 ret_value = 7;
const volatile __u64 rodata_u64 = 0x1122334455667788ULL;
const volatile char rodata_str[8] = "abc";

__u32 custom_u32 SEC(".data.custom") = 0xcafe;
const volatile __u16 custom_ro_u16 SEC(".rodata.custom") = 0xbeef;

SEC("tc")
int read_globals(struct __sk_buff *skb)
{
	static_counter++;
	data_u32++;
	custom_u32++;
	bss_u64 = rodata_u64;
	bss_arr[0] = custom_ro_u16;
	bss_arr[1] = data_u32;
	bss_arr[2] = rodata_str[0];
	bss_arr[3] = data_bytes[4];
	return ret_value;
}

BPF_LICENSE("GPL");
