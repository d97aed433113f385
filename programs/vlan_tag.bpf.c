/* vlan_tag (tc): tags untagged frames with 802.1Q VLAN `vlan_id` using bpf_skb_vlan_push; frames that
 * already carry a tag (offloaded in skb->vlan_tci, or in the frame) pass unchanged.
 * Globals: `.rodata` vlan_id (set before loading), `.bss` tagged_frames. No maps.
 * Verdicts: TC_ACT_OK, or TC_ACT_SHOT when the push fails. */
#include "appliance_bpf.h"

volatile const __u16 vlan_id = 100;
__u64 tagged_frames = 0;

SEC("tc")
int vlan_tag(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if (skb->vlan_present)
		return TC_ACT_OK;
	if ((void *)(eth + 1) <= data_end &&
	    (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD)))
		return TC_ACT_OK;
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vlan_id & 0x0fff) < 0)
		return TC_ACT_SHOT;
	__sync_fetch_and_add(&tagged_frames, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
