/* Externs libbpf resolves from the running kernel, which the appliance does not have: a kfunc (declared __ksym)
 * and a __kconfig value. The kernel, through libbpf, loads all three programs; the appliance refuses the two that
 * use an extern, naming it, and loads the third. */
#include "appliance_bpf.h"

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr) __ksym;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("tc")
int uses_kfunc(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;

	return bpf_dynptr_from_skb(skb, 0, &ptr) == 0 ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int uses_kconfig(struct __sk_buff *skb)
{
	return LINUX_KERNEL_VERSION >= 0x060100 ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int plain_len(struct __sk_buff *skb)
{
	return skb->len > 100 ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
