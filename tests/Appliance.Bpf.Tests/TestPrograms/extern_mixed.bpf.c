/* Externs libbpf resolves from the running kernel: a kfunc (declared __ksym) and a typeless __ksym kernel symbol,
 * which the appliance does not have, and a __kconfig value, which it has. The kernel, through libbpf, loads all four
 * programs; the appliance refuses the two that use a __ksym, naming it, and loads the others. */
#include "appliance_bpf.h"

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr) __ksym;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern const void bpf_prog_put __ksym;

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
int uses_ksym(struct __sk_buff *skb)
{
	const void *at = &bpf_prog_put;

	asm volatile("" : "+r"(at)); /* its address, as the program sees it */
	return at ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int plain_len(struct __sk_buff *skb)
{
	return skb->len > 100 ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
