/* Differential test: context fields (read and write) and the packet helpers — skb_load_bytes,
 * skb_store_bytes, csum_diff, l3/l4_csum_replace, skb_change_tail, skb_adjust_room, skb_change_head,
 * skb_vlan_push/pop — on whatever frame it gets. The verdict mixes in helper results so that any
 * difference from the kernel shows. */
#include "appliance_bpf.h"

__u64 runs = 0;

SEC("tc")
int ctx_fields(struct __sk_buff *skb)
{
	__u32 len = skb->len;

	skb->mark = len * 3 + skb->protocol;
	skb->priority = skb->ifindex + 7 + skb->mark;
	skb->cb[0] = skb->mark ^ 0x5a5a;
	skb->cb[4] = skb->cb[0] + skb->priority;
	__sync_fetch_and_add(&runs, 1);
	return (skb->protocol == bpf_htons(ETH_P_IP)) + 4 * (len & 0xff);
}

SEC("tc")
int bytes_and_csum(struct __sk_buff *skb)
{
	__u8 buf[16];
	__s64 d;

	if (bpf_skb_load_bytes(skb, 0, buf, sizeof(buf)) < 0)
		return 100;
	d = bpf_csum_diff(0, 0, (__be32 *)buf, sizeof(buf), 0x1234);
	if (bpf_skb_store_bytes(skb, 0, buf + 6, 6, 0) < 0 || bpf_skb_store_bytes(skb, 6, buf, 6, 0) < 0)
		return 101;
	if (bpf_l3_csum_replace(skb, 14 + 10, 0, (__u32)d, 0) < 0)   /* csum diff form (size 0) */
		return 102;
	if (bpf_l4_csum_replace(skb, 14 + 20 + 16, bpf_htons(0x1111), bpf_htons(0x2222), 2) < 0)
		return 103 + ((__u32)d & 0xff00);
	return (__u32)d & 0xffff;
}

SEC("tc")
int resize(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	long r;

	if (len & 1) {
		r = bpf_skb_change_tail(skb, len + 5, 0);
		if (r < 0)
			return 200;
	} else if (len > 40) {
		r = bpf_skb_change_tail(skb, len - 3, 0);
		if (r < 0)
			return 201;
	}
	if (skb->protocol == bpf_htons(ETH_P_IP) || skb->protocol == bpf_htons(ETH_P_IPV6)) {
		r = bpf_skb_adjust_room(skb, (len & 2) ? 8 : -4 * (len & 1), BPF_ADJ_ROOM_MAC, 0);
		if (r < 0)
			return 300 + (int)(-r);
	}
	return skb->len;
}

SEC("tc")
int vlan_push_pop(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	int r = 0;

	if (len & 1)
		r = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), len & 0xfff);
	if (r < 0)
		return 400;
	if (len & 2)
		r = bpf_skb_vlan_pop(skb);
	if (r < 0)
		return 401;
	if (len & 4)
		r = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), 77);
	if (r < 0)
		return 402;
	return skb->len * 2 + skb->vlan_present + skb->vlan_tci * 1000;
}

char LICENSE[] SEC("license") = "GPL";
