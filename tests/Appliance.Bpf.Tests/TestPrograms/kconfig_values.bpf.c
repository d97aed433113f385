/* __kconfig externs, as libbpf fills them from the running kernel: its version (uname's release), the virtual
 * LINUX_HAS_* values, and CONFIG_* values from /boot/config-$(uname -r) or /proc/config.gz in each type libbpf takes
 * (bool, char, enum libbpf_tristate, integers of 2, 4 and 8 bytes, char arrays, one cut short), and a weak one no
 * kernel has (0). The program writes them into a map and, where the frame is long enough, into the frame; a branch on
 * the kernel's version calls a helper (live on any kernel since 5.8), another one a helper the appliance does not have
 * (dead on any kernel since 3.0: the kernel's verifier, and the appliance's, read the frozen map's value at load). */
#include "appliance_bpf.h" /* bpf_helpers.h: __kconfig, enum libbpf_tristate */

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig __weak;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig __weak;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern char CONFIG_BPF_JIT __kconfig __weak;
extern int CONFIG_HZ __kconfig;
extern unsigned short CONFIG_LOG_BUF_SHIFT __kconfig __weak;
extern __u64 CONFIG_NR_CPUS __kconfig __weak;
extern enum libbpf_tristate CONFIG_IPV6 __kconfig __weak;
extern enum libbpf_tristate CONFIG_KPROBES __kconfig __weak;
extern char CONFIG_LOCALVERSION[32] __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[4] __kconfig; /* "(none)" cut to "(no" as libbpf cuts it */
extern int CONFIG_DOES_NOT_EXIST __kconfig __weak;

struct kconfig_seen {
	__u32 version;
	__u32 hz;
	__u64 nr_cpus;
	__u32 ipv6;
	__u32 kprobes;
	__u16 log_buf_shift;
	__u8 syscall;
	__u8 jit;
	__u8 cookie;
	__u8 wrapper;
	__u8 missing;
	__u8 pad;
	char localversion[32];
	char hostname[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kconfig_seen);
} seen SEC(".maps");

SEC("tc")
int kconfig_values(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct kconfig_seen *s = bpf_map_lookup_elem(&seen, &zero);
	int verdict = TC_ACT_OK;

	if (!s)
		return TC_ACT_SHOT;
	s->version = LINUX_KERNEL_VERSION;
	s->hz = CONFIG_HZ;
	s->nr_cpus = CONFIG_NR_CPUS;
	s->ipv6 = CONFIG_IPV6;
	s->kprobes = CONFIG_KPROBES;
	s->log_buf_shift = CONFIG_LOG_BUF_SHIFT;
	s->syscall = CONFIG_BPF_SYSCALL;
	s->jit = CONFIG_BPF_JIT;
	s->cookie = LINUX_HAS_BPF_COOKIE;
	s->wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	s->missing = CONFIG_DOES_NOT_EXIST;
	__builtin_memcpy(s->localversion, CONFIG_LOCALVERSION, sizeof(s->localversion));
	__builtin_memcpy(s->hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(s->hostname));

	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(3, 0, 0))
		bpf_get_socket_cookie(skb); /* no kernel runs this: both verifiers fold the branch away */
	if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 8, 0) && skb->len >= 14 + sizeof(*s))
		bpf_skb_store_bytes(skb, 14, s, sizeof(*s), 0);
	if (CONFIG_DOES_NOT_EXIST)
		verdict = TC_ACT_SHOT;
	if (CONFIG_IPV6 == TRI_YES && CONFIG_HZ > 100)
		verdict += 10;
	return verdict + (CONFIG_BPF_SYSCALL ? 1 : 0) + (skb->len & 3);
}

char LICENSE[] SEC("license") = "GPL";
