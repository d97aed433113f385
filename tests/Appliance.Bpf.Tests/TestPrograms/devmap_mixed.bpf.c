/* An object an XDP tutorial would ship: an XDP program redirecting through a DEVMAP and an XSKMAP, beside tc
 * programs. The kernel loads them all. The appliance has no device or socket maps: the object loads, its
 * tc program that never touches them runs, and the programs that use them are refused, each with its reason. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;

	if (bpf_map_lookup_elem(&xsks, &q))
		return bpf_redirect_map(&xsks, q, 0);
	return bpf_redirect_map(&tx_port, 0, 0);
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 slot = skb->len & 3;
	__u64 *v = bpf_map_lookup_elem(&seen, &slot);

	if (v)
		__sync_fetch_and_add(v, skb->len);
	return skb->len > 100 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
