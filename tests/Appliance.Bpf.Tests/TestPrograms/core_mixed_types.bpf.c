/* One object, two program types: an XDP program whose context reads are CO-RE relocations on xdp_md (a type
 * the appliance does not have) and a tc program. The kernel, through libbpf, loads both; the appliance refuses
 * the XDP program and must still load the tc one. */
#include "appliance_bpf.h"

struct xdp_md___core {
	__u32 data;
	__u32 data_end;
} __attribute__((preserve_access_index));

SEC("xdp")
int xdp_short_drop(struct xdp_md *ctx)
{
	struct xdp_md___core *c = (void *)ctx;
	void *data = (void *)(long)c->data, *end = (void *)(long)c->data_end;

	return data + 60 > end ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int tc_by_proto(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return TC_ACT_SHOT;
	skb->mark = bpf_ntohs(eth->h_proto);
	return eth->h_proto == bpf_htons(ETH_P_IP) ? TC_ACT_OK : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
