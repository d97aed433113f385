/* MTU guard: bpf_check_mtu against the egress device; frames that would not fit after a planned
 * encapsulation are truncated to fit (bpf_skb_change_tail) and flagged in cb[], as PMTU probes do. */
#include "appliance_bpf.h"

const volatile __u32 encap_overhead = 50;
const volatile __u32 probe_mtu = 300;

SEC("tc")
int mtu_guard(struct __sk_buff *skb)
{
	__u32 mtu_len = 0;
	long r = bpf_check_mtu(skb, 0, &mtu_len, encap_overhead, 0);

	skb->cb[0] = mtu_len;
	if (r < 0)
		return TC_ACT_SHOT;
	/* Against a small path MTU given as an L3 length (as a route's MTU would be). */
	__u32 l3_len = skb->len - ETH_HLEN;
	__u32 want = probe_mtu;
	r = bpf_check_mtu(skb, 0, &want, (__s32)l3_len - (__s32)probe_mtu + (__s32)encap_overhead, 0);
	skb->cb[1] = r;
	if (r == BPF_MTU_CHK_RET_FRAG_NEEDED && skb->len > probe_mtu) {
		if (bpf_skb_change_tail(skb, probe_mtu, 0) < 0)
			return TC_ACT_SHOT;
		skb->cb[2] = 1;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
