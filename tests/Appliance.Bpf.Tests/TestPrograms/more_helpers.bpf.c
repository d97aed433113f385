/* Differential test for the helpers added for fidelity: skb_ecn_set_ce, skb_change_proto (NAT64 style),
 * skb_change_type, set_hash / set_hash_invalid, skb_pull_data, check_mtu, the clocks, queue and stack maps
 * (push / pop / peek), and perf_event_output's argument checks. Each frame's length picks the arguments. */
#include "appliance_bpf.h"

#define F_CURRENT_CPU 0xffffffffULL

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 5);
	__type(value, __u64);
} lifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tc")
int ecn_mark(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u8 b;

	/* Give IP packets each ECN codepoint in turn, then mark CE. */
	if (bpf_skb_load_bytes(skb, 15, &b, 1) < 0)
		return 900;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		b = (b & ~3) | (len & 3);
	else
		b = (b & ~0x30) | ((len & 3) << 4);
	if ((len & 4) && bpf_skb_store_bytes(skb, 15, &b, 1, 0) < 0)
		return 901;
	return bpf_skb_ecn_set_ce(skb) + 10 * (len & 7);
}

SEC("tc")
int nat64(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	long r;

	if ((len & 7) == 1)
		return 1000 - bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 1);   /* flags: -EINVAL */
	if ((len & 7) == 2)
		return 2000 - bpf_skb_change_proto(skb, bpf_htons(ETH_P_ARP), 0);    /* -ENOTSUPP */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		struct ipv6hdr ip6 = {};

		if (bpf_skb_load_bytes(skb, 14, &ip, sizeof(ip)) < 0)
			return 3;
		r = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0);
		if (r < 0)
			return 3000 - r;
		ip6.version = 6;
		ip6.payload_len = bpf_htons(bpf_ntohs(ip.tot_len) - 20);
		ip6.nexthdr = ip.protocol;
		ip6.hop_limit = ip.ttl;
		ip6.saddr.in6_u.u6_addr32[0] = bpf_htonl(0x0064ff9b);
		ip6.saddr.in6_u.u6_addr32[3] = ip.saddr;
		ip6.daddr.in6_u.u6_addr32[0] = bpf_htonl(0x0064ff9b);
		ip6.daddr.in6_u.u6_addr32[3] = ip.daddr;
		__be16 type = bpf_htons(ETH_P_IPV6);
		if (bpf_skb_store_bytes(skb, 14, &ip6, sizeof(ip6), 0) < 0 ||
		    bpf_skb_store_bytes(skb, 12, &type, sizeof(type), 0) < 0)
			return 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		struct iphdr ip = {};

		if (bpf_skb_load_bytes(skb, 14, &ip6, sizeof(ip6)) < 0)
			return 5;
		r = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
		if (r < 0)
			return 5000 - r;
		ip.version = 4;
		ip.ihl = 5;
		ip.tot_len = bpf_htons(bpf_ntohs(ip6.payload_len) + 20);
		ip.ttl = ip6.hop_limit;
		ip.protocol = ip6.nexthdr;
		ip.saddr = ip6.saddr.in6_u.u6_addr32[3];
		ip.daddr = ip6.daddr.in6_u.u6_addr32[3];
		ip.check = ~bpf_csum_diff(0, 0, (__be32 *)&ip, sizeof(ip), 0);
		__be16 type = bpf_htons(ETH_P_IP);
		if (bpf_skb_store_bytes(skb, 14, &ip, sizeof(ip), 0) < 0 ||
		    bpf_skb_store_bytes(skb, 12, &type, sizeof(type), 0) < 0)
			return 6;
	} else {
		return 7000 - bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
	}
	return skb->len * 16 + (skb->protocol == bpf_htons(ETH_P_IPV6)) + 2 * (skb->hash == 0);
}

SEC("tc")
int metadata(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	long t = bpf_skb_change_type(skb, len & 7);       /* 4..7: -EINVAL */
	__u32 type = skb->pkt_type;
	long p = bpf_skb_pull_data(skb, (len & 1) ? len : len + 1);  /* one past: -ENOMEM */
	long h;

	if (len & 2) {
		bpf_set_hash(skb, len * 2654435761u);
		h = skb->hash == len * 2654435761u;
	} else {
		bpf_set_hash(skb, 77);
		bpf_set_hash_invalid(skb);
		h = 2 + (skb->hash == 0);
	}
	return (__u32)(t * 1000 + type * 100 + p * 10 + h);
}

SEC("tc")
int mtu(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u32 mtu_len = (len & 1) ? 0 : len * 200;
	__u32 ifindex = (len & 6) == 6 ? 9999 : (len & 2) ? 1 : 0;
	__s32 diff = (len & 8) ? 65000 : -(__s32)(len & 0x30);
	__u64 flags = (len & 0x40) ? BPF_MTU_CHK_SEGS : 0;
	long r;

	if ((len & 0x180) == 0x180)
		flags = 4;
	r = bpf_check_mtu(skb, ifindex, &mtu_len, diff, flags);
	return (__u32)(r * 100000 + mtu_len);
}

SEC("tc")
int clocks(struct __sk_buff *skb)
{
	__u64 mono = bpf_ktime_get_ns();
	__u64 boot = bpf_ktime_get_boot_ns();
	__u64 coarse = bpf_ktime_get_coarse_ns();
	__u64 jiffies = bpf_jiffies64();
	__u64 later = bpf_ktime_get_ns();

	return (boot >= mono) + 2 * (later >= mono) + 4 * (coarse > 0) + 8 * (jiffies > 0)
	       + 16 * (coarse <= later);
}

SEC("tc")
int queues(struct __sk_buff *skb)
{
	__u32 len = skb->len, v32 = len;
	__u64 v64 = (__u64)len << 32 | len;
	long r1, r2, r3 = 0, r4 = 0;

	switch (len & 3) {
	case 0:
	case 1:
		r1 = bpf_map_push_elem(&fifo, &v32, (len & 4) ? BPF_EXIST : 0);
		r2 = bpf_map_push_elem(&lifo, &v64, (len & 8) ? BPF_EXIST : 0);
		break;
	case 2:
		r1 = bpf_map_pop_elem(&fifo, &v32);
		r2 = bpf_map_peek_elem(&lifo, &v64);
		break;
	default:
		r1 = bpf_map_peek_elem(&fifo, &v32);
		r2 = bpf_map_pop_elem(&lifo, &v64);
		r3 = bpf_map_push_elem(&fifo, &v32, BPF_NOEXIST);           /* -EINVAL */
		break;
	}
	/* perf_event_output's argument checks (a valid call's result is not compared: the kernel's test
	 * run has no perf event open, -ENOENT, where the appliance logs the record and returns 0). */
	bpf_perf_event_output(skb, &events, F_CURRENT_CPU, &v32, sizeof(v32));
	r4 = bpf_perf_event_output(skb, &events, (len & 1) ? 1ULL << 60 : 9, &v32, sizeof(v32)); /* -EINVAL, -E2BIG */
	r4 = r4 * 100 + bpf_perf_event_output(skb, &events, ((__u64)(len + 1) << 32) | 0, &v32, sizeof(v32)); /* -EFAULT */
	return (__u32)(r1 * 1000000 + r2 * 10000 + r3 * 100 + r4) ^ v32 ^ (__u32)(v64 >> 16);
}

char LICENSE[] SEC("license") = "GPL";
