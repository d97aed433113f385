/* A kfunc declared __weak and called without asking bpf_ksym_exists() first: the kernel refuses the program where
 * it lacks the kfunc (libbpf poisons the call), and so does the appliance, which has no kfuncs, naming it. */
#include "appliance_bpf.h"

extern int bpf_appliance_made_up_kfunc(struct __sk_buff *skb, __u64 flags) __ksym __weak;

SEC("tc")
int weak_unguarded(struct __sk_buff *skb)
{
	return bpf_appliance_made_up_kfunc(skb, 0) + 7;
}

char LICENSE[] SEC("license") = "GPL";
