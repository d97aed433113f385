/* vlan_tag: puts a tenant into VLAN `vlan_id` of its uplink's trunk, one program a direction.
 *  - vlan_tag (tc; on the peer side, out of the tenant): tags untagged frames with 802.1Q VLAN `vlan_id` using
 *    bpf_skb_vlan_push; frames that already carry a tag (offloaded in skb->vlan_tci, or in the frame) are left as
 *    they are (the appliance's tenant checks drop a tag the tenant put on itself).
 *  - vlan_untag (netkit/primary; on the primary side, into the tenant): frames of VLAN `vlan_id` lose their tag
 *    (bpf_skb_vlan_pop); frames of another VLAN are dropped, untagged ones too (they are the trunk's native VLAN:
 *    the appliance hands the chain every frame as it came in, flooded broadcasts with their tags, and drops a frame
 *    still tagged after it before a tenant that does not trunk VLANs).
 * Both return NETKIT_NEXT for the frames they let through, so the rest of the chain (a filter after the tag) and,
 * at its end, PASS decide; NETKIT_DROP when the push or pop fails and for another VLAN's frames (untagged ones
 * coming in).
 * Globals: `.rodata` vlan_id (set from the config's maps: ".rodata": [{ "key": 0, "value": 30 }]),
 * `.bss` tagged_frames, untagged_frames, other_vlan_frames. No maps. */
#include "appliance_bpf.h"

volatile const __u16 vlan_id = 100;
__u64 tagged_frames = 0;
__u64 untagged_frames = 0;
__u64 other_vlan_frames = 0;

SEC("tc")
int vlan_tag(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if (skb->vlan_present)
		return NETKIT_NEXT;
	if ((void *)(eth + 1) <= data_end &&
	    (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD)))
		return NETKIT_NEXT;
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vlan_id & 0x0fff) < 0)
		return NETKIT_DROP;
	__sync_fetch_and_add(&tagged_frames, 1);
	return NETKIT_NEXT;
}

SEC("netkit/primary")
int vlan_untag(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 tci;

	if (skb->vlan_present) {
		tci = skb->vlan_tci;
	} else {
		struct vlan_hdr_802_1q *vh = (void *)(eth + 1);

		if ((void *)(eth + 1) > data_end)
			return NETKIT_DROP;
		if (eth->h_proto != bpf_htons(ETH_P_8021Q) && eth->h_proto != bpf_htons(ETH_P_8021AD)) {
			__sync_fetch_and_add(&other_vlan_frames, 1);
			return NETKIT_DROP;
		}
		if ((void *)(vh + 1) > data_end)
			return NETKIT_DROP;
		tci = bpf_ntohs(vh->tci);
	}
	if ((tci & 0x0fff) != (vlan_id & 0x0fff)) {
		__sync_fetch_and_add(&other_vlan_frames, 1);
		return NETKIT_DROP;
	}
	if (bpf_skb_vlan_pop(skb) < 0)
		return NETKIT_DROP;
	__sync_fetch_and_add(&untagged_frames, 1);
	return NETKIT_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
