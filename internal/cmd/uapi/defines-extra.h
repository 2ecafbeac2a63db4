/* #define constants of linux/bpf.h that are newer than the system headers
 * extract.sh reads (Debian bookworm ships 6.1). Values are facts from the
 * kernel's UAPI; each line names the kernel that added it. */
#define BPF_F_BEFORE (1U << 3) /* 6.6 */
#define BPF_F_AFTER (1U << 4) /* 6.6 */
#define BPF_F_ID (1U << 5) /* 6.6 */
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6) /* 6.3 */
#define BPF_F_TEST_REG_INVARIANTS (1U << 7) /* 6.8 */
#define BPF_F_NETFILTER_IP_DEFRAG (1U << 0) /* 6.6 */
#define BPF_STORE_REL 0x110 /* 6.15 */
#define BPF_LOAD_ACQ 0x100 /* 6.15 */
#define BPF_MEMSX 0x80 /* 6.6 */
#define BPF_JCOND 0xe0 /* 6.9 */
