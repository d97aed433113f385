/* Routes a tenant's IPv4 and IPv6 traffic with the board's own tables, the way Cilium sends pod traffic out on
 * netkit's peer side: bpf_fib_lookup (SKIP_NEIGH) finds the port and next hop, the TTL / hop limit goes down by one
 * as a router's would, and bpf_redirect_neigh sends the frame out of that port with the next hop's MAC from the
 * board's neighbour table (unknown: the appliance asks the kernel to resolve it and drops this frame). The lookup's
 * input interface is the frame's (ctx->ifindex, the pair's primary end on the peer side), which needs forwarding
 * on (net.ipv4.conf.IF.forwarding, net.ipv6.conf.IF.forwarding). Frames that are not IP pass; IP frames that cannot
 * be routed (no route, blackhole, TTL 1, too big) are dropped. Attach to a pair's peer side. */
#include "appliance_bpf.h"
#include <linux/ip.h>
#include <linux/ipv6.h>

#define AF_INET 2
#define AF_INET6 10

SEC("tc")
int fib_forward(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib = {};
	long rc;

	if ((void *)(eth + 1) > end)
		return NETKIT_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 check;

		if ((void *)(ip + 1) > end || ip->ttl <= 1)
			return NETKIT_DROP;
		fib.family = AF_INET;
		fib.tos = ip->tos;
		fib.l4_protocol = ip->protocol;
		fib.tot_len = bpf_ntohs(ip->tot_len);
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
		/* ip_decrease_ttl: TTL is the high byte of its 16-bit word, so the checksum grows by 0x0100. */
		check = ip->check + bpf_htons(0x0100);
		ip->check = (__u16)(check + (check >= 0xffff));
		ip->ttl--;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->hop_limit <= 1)
			return NETKIT_DROP;
		fib.family = AF_INET6;
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
		ip6->hop_limit--;
	} else {
		return NETKIT_PASS;
	}
	fib.ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return NETKIT_DROP;
	return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
}

char _license[] SEC("license") = "GPL";
