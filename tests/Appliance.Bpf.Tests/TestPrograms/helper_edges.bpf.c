/* Differential test: helper edge cases against the 6.x kernel — bpf_csum_diff over any byte lengths (6.13+),
 * change_tail / change_head / adjust_room at and past the kernel's largest skb (BPF_SKB_MAX_LEN = 16064)
 * and their argument checks, load_bytes / store_bytes at the last valid offsets and one past, and
 * 64-bit offsets (the kernel takes u32). Each frame's length picks the case, so a few hundred frames
 * cover every branch; the verdict packs the helpers' return codes. */
#include "appliance_bpf.h"

#define SKB_MAX_LEN 16064
#define ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7) /* Debian 12's uapi headers predate it */

SEC("tc")
int csum_any_length(struct __sk_buff *skb)
{
	__u8 buf[48];
	__u32 len = skb->len;
	__u32 a = len & 15, b = (len >> 1) & 31;
	__s64 d1, d2, d3, d4;

	__builtin_memset(buf, 0, sizeof(buf));
	if (bpf_skb_load_bytes(skb, 0, buf, len < sizeof(buf) ? 14 : sizeof(buf)) < 0)
		return 1000;
	d1 = bpf_csum_diff((__be32 *)buf, a, (__be32 *)(buf + 17), b, len * 7919);  /* diff */
	d2 = bpf_csum_diff(0, 0, (__be32 *)(buf + 1), b, 0);                       /* push only, odd start */
	d3 = bpf_csum_diff((__be32 *)(buf + 3), a, 0, 0, 0xfffffff0 + a);          /* pull only */
	d4 = bpf_csum_diff(0, 0, 0, 0, len * 0x10001);                              /* neither: folded seed */
	return (__u32)(d1 ^ (d2 << 16) ^ (d3 << 3) ^ (d4 << 9));
}

SEC("tc")
int tail_limits(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	long r;

	switch (len & 7) {
	case 0: r = bpf_skb_change_tail(skb, SKB_MAX_LEN, 0); break;        /* up to the limit: ok */
	case 1: r = bpf_skb_change_tail(skb, SKB_MAX_LEN + 1, 0); break;    /* past it: -EINVAL */
	case 2: r = bpf_skb_change_tail(skb, 13, 0); break;                 /* below the L2 header: -EINVAL */
	case 3: r = bpf_skb_change_tail(skb, 14, 0); break;                 /* exactly the L2 header */
	case 4: r = bpf_skb_change_tail(skb, len + 1000, 1); break;         /* flags: -EINVAL */
	case 5: r = bpf_skb_change_tail(skb, len + 2001, 0); break;         /* past a small buffer's tailroom */
	case 6: r = bpf_skb_change_head(skb, SKB_MAX_LEN - len, 0); break;  /* head up to the limit */
	default: r = bpf_skb_change_head(skb, SKB_MAX_LEN - len + 1, 0); break;
	}
	if ((len & 15) == 15)
		r = r * 100 + bpf_skb_change_head(skb, 0x80000000u, 0);        /* (int)room < 0: -EINVAL */
	return (__u32)r + skb->len * 1000;
}

SEC("tc")
int room_limits(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	long r1, r2 = 0;
	__u64 udp = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP;

	switch (len % 9) {
	case 0: r1 = bpf_skb_adjust_room(skb, 0xfff, BPF_ADJ_ROOM_MAC, 0); break;      /* largest diff */
	case 1: r1 = bpf_skb_adjust_room(skb, 0x1000, BPF_ADJ_ROOM_MAC, 0); break;     /* -EFAULT */
	case 2: r1 = bpf_skb_adjust_room(skb, 28, BPF_ADJ_ROOM_MAC, udp);              /* encap, then again */
		r2 = bpf_skb_adjust_room(skb, 28, BPF_ADJ_ROOM_MAC, udp); break;       /* -EALREADY */
	case 3: r1 = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, udp);
		r2 = bpf_skb_change_tail(skb, len + 8, 0); break;                       /* encapsulated: -ENOTSUPP */
	case 4: r1 = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET,
			BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP); break; /* no L3 flag: not checked */
	case 5: r1 = bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC,
			BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 | BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(14)); break;
	case 6: r1 = bpf_skb_adjust_room(skb, 10, BPF_ADJ_ROOM_MAC,
			BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L2(14)); break; /* inner L2 > diff: -EINVAL */
	case 7: r1 = bpf_skb_adjust_room(skb, -(int)(len - 14 - 20), BPF_ADJ_ROOM_MAC, 0); break; /* shrink to the minimum */
	default: r1 = bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_NET,
			ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_NO_CSUM_RESET); break;
	}
	return (__u32)(r1 * 1000 + r2) ^ (skb->len << 20) ^ (skb->protocol << 8);
}

SEC("tc")
int bytes_edges(struct __sk_buff *skb)
{
	__u8 buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	__u32 len = skb->len;
	volatile __u64 wide = 0x100000000ULL;
	long r1, r2, r3, r4;

	r1 = bpf_skb_load_bytes(skb, len - 4, buf, 4);                 /* the last four bytes */
	r2 = bpf_skb_load_bytes(skb, len - 3, buf + 4, 4);             /* one past: -EFAULT, zeroed */
	r3 = bpf_skb_store_bytes(skb, len - 2, buf, 2, (len & 1) ? BPF_F_INVALIDATE_HASH : 0);
	r4 = bpf_skb_store_bytes(skb, len - 1, buf, 2, 0);            /* one past: -EFAULT */
	if (len & 2)
		r4 += 10 * bpf_skb_store_bytes(skb, 0, buf, 1, 4);        /* unknown flag: -EINVAL */
	r4 += 100 * bpf_skb_load_bytes(skb, wide + 6, buf, 4);        /* u32 offset: 6 */
	r4 += 1000 * bpf_skb_load_bytes(skb, 0xffffffffu, buf, 1);    /* > INT_MAX: -EFAULT */
	return (__u32)(r1 + 3 * r2 + 9 * r3 + 27 * r4) ^ (buf[0] << 24 | buf[4] << 16 | buf[5] << 8 | buf[7]);
}

char LICENSE[] SEC("license") = "GPL";
