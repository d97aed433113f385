/* A kfunc declared __weak, called only where bpf_ksym_exists() says the kernel has it, as programs built for several
 * kernels do. libbpf leaves a kfunc the kernel lacks unresolved: its address is 0 and its call poisoned, never
 * reached. The appliance has no kfuncs, so the address is 0 here too and the program loads and agrees with the
 * kernel. (The kfunc's name is made up, so no kernel has it.) */
#include "appliance_bpf.h"

extern int bpf_appliance_made_up_kfunc(struct __sk_buff *skb, __u64 flags) __ksym __weak;

#define ksym_exists(sym) (!!(sym))

SEC("tc")
int weak_guarded(struct __sk_buff *skb)
{
	int v = skb->len & 0xff;

	if (ksym_exists(bpf_appliance_made_up_kfunc))
		v += bpf_appliance_made_up_kfunc(skb, 0) + 1000;
	return v + 7;
}

char LICENSE[] SEC("license") = "GPL";
