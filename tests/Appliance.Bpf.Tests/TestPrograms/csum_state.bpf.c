/* Differential test: bpf_csum_level's CHECKSUM_UNNECESSARY state machine (query, increments saturating at level
 * 3, decrement to CHECKSUM_NONE, reset, an unknown level), its reset by bpf_skb_adjust_room unless
 * BPF_F_ADJ_ROOM_NO_CSUM_RESET, and bpf_csum_update on a frame that is not CHECKSUM_COMPLETE. The frame length
 * picks the path; the verdict packs every answer. */
#include "appliance_bpf.h"

static __always_inline __u32 level(struct __sk_buff *skb)
{
	return (__u32)(bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY) + 16) & 0x1f;
}

SEC("tc")
int csum_levels(struct __sk_buff *skb)
{
	__u32 len = skb->len, verdict = level(skb);
	int i;

#pragma clang loop unroll(full)
	for (i = 0; i < 5; i++)
		if (i < (len & 7))
			bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
	verdict |= level(skb) << 5;
	if (len & 8)
		bpf_csum_level(skb, BPF_CSUM_LEVEL_DEC);
	verdict |= level(skb) << 10;
	if (len & 16)
		verdict |= (bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_NET, (len & 32) ? BPF_F_ADJ_ROOM_NO_CSUM_RESET : 0) == 0) << 25;
	verdict |= level(skb) << 15;
	if (len & 64)
		bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	verdict |= level(skb) << 20;
	verdict |= (bpf_csum_level(skb, 9) == -22) << 26;
	verdict |= (bpf_csum_update(skb, 0x1234) == -524) << 27;
	return verdict;
}

char _license[] SEC("license") = "GPL";
