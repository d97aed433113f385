/* redirect_map (tc): sends IPv4 frames to the interface the map names for their destination address
 * (bpf_redirect, egress). Frames without a route get `fallback_verdict` (`.data`, TC_ACT_OK unless
 * changed before loading). Maps: `routes` HASH, key __be32 destination address, value __u32 ifindex.
 * Globals: `.data` fallback_verdict, `.bss` redirected_frames.
 * Verdicts: TC_ACT_REDIRECT, or fallback_verdict. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __be32);
	__type(value, __u32);
	__uint(max_entries, 4096);
} routes SEC(".maps");

int fallback_verdict SEC(".data") = TC_ACT_OK;
__u64 redirected_frames = 0;

SEC("tc")
int redirect_by_daddr(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u32 *ifindex;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP)
		return fallback_verdict;
	ifindex = bpf_map_lookup_elem(&routes, &pi.daddr4);
	if (!ifindex)
		return fallback_verdict;
	__sync_fetch_and_add(&redirected_frames, 1);
	return bpf_redirect(*ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
