/* VLAN translation: an in-band 802.1Q tag whose VID has a rule is popped and the new VID pushed
 * (bpf_skb_vlan_pop / bpf_skb_vlan_push); untagged frames from a tagged tenant get its VID. */
#include "appliance_bpf.h"

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u16); __type(value, __u16); __uint(max_entries, 64); } vid_map SEC(".maps");
const volatile __u16 untagged_vid = 100;

SEC("tc")
int vlan_translate(struct __sk_buff *skb)
{
	__be16 tag[2];

	if (bpf_skb_load_bytes(skb, 12, tag, sizeof(tag)) < 0)
		return TC_ACT_OK;
	if (tag[0] != bpf_htons(ETH_P_8021Q))
		return bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), untagged_vid) < 0 ? TC_ACT_SHOT : TC_ACT_OK;
	__u16 vid = bpf_ntohs(tag[1]) & 0xfff;
	__u16 *to = bpf_map_lookup_elem(&vid_map, &vid);
	if (!to)
		return TC_ACT_SHOT;
	__u16 new_tci = (bpf_ntohs(tag[1]) & 0xf000) | *to;
	if (bpf_skb_vlan_pop(skb) < 0 || bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), new_tci) < 0)
		return TC_ACT_SHOT;
	return skb->vlan_present ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
