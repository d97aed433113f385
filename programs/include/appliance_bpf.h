/* Shared definitions for the example programs: netkit verdicts (Debian 12's uapi headers predate
 * netkit) and a bounds-checked parser for Ethernet (+ one 802.1Q tag) / IPv4 / IPv6 / TCP / UDP. */
#ifndef APPLIANCE_BPF_H
#define APPLIANCE_BPF_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* enum netkit_action from include/uapi/linux/if_link.h (kernel 6.7+). */
#define NETKIT_NEXT     -1
#define NETKIT_PASS     0
#define NETKIT_DROP     2
#define NETKIT_REDIRECT 7

struct vlan_hdr_802_1q {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* What parse_packet found. Offsets are from the start of the frame. */
struct packet_info {
	__u16 l3_proto;   /* host order: ETH_P_IP, ETH_P_IPV6, or whatever else the frame carries */
	__u16 l3_offset;
	__u16 l4_offset;  /* 0 when there is no TCP/UDP header in the frame */
	__u8  l4_proto;   /* IPPROTO_TCP / IPPROTO_UDP / other / 0 */
	__u16 dport;      /* host order, valid when l4_offset != 0 */
	__be32 saddr4;    /* IPv4 only */
	__be32 daddr4;
};

/* Parses the frame; returns 0 when the Ethernet header is there, -1 for a runt frame. */
static __always_inline int parse_packet(struct __sk_buff *skb, struct packet_info *pi)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 off = sizeof(*eth);

	__builtin_memset(pi, 0, sizeof(*pi));
	if ((void *)(eth + 1) > data_end)
		return -1;
	pi->l3_proto = bpf_ntohs(eth->h_proto);
	if (pi->l3_proto == ETH_P_8021Q || pi->l3_proto == ETH_P_8021AD) {
		struct vlan_hdr_802_1q *vh = data + off;
		if ((void *)(vh + 1) > data_end)
			return 0;
		pi->l3_proto = bpf_ntohs(vh->encapsulated_proto);
		off += sizeof(*vh);
	}
	pi->l3_offset = off;

	if (pi->l3_proto == ETH_P_IP) {
		struct iphdr *ip = data + off;
		if ((void *)(ip + 1) > data_end)
			return 0;
		pi->saddr4 = ip->saddr;
		pi->daddr4 = ip->daddr;
		pi->l4_proto = ip->protocol;
		if (ip->ihl < 5 || (ip->frag_off & bpf_htons(0x1fff)))
			return 0;
		off += ip->ihl * 4;
	} else if (pi->l3_proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > data_end)
			return 0;
		pi->l4_proto = ip6->nexthdr;
		off += sizeof(*ip6);
	} else {
		return 0;
	}

	/* The L4 header sits at a variable offset (IPv4 options): read it with bpf_skb_load_bytes at a
	 * scalar offset rather than through a packet pointer the verifier would have to re-check. */
	__u32 need = pi->l4_proto == IPPROTO_TCP ? sizeof(struct tcphdr)
		   : pi->l4_proto == IPPROTO_UDP ? sizeof(struct udphdr) : 0;
	__be16 dport;
	if (need == 0 || (__u64)off + need > (__u64)(data_end - data))
		return 0;
	if (bpf_skb_load_bytes(skb, off + offsetof(struct udphdr, dest), &dport, sizeof(dport)) < 0)
		return 0;
	pi->dport = bpf_ntohs(dport);
	pi->l4_offset = off;
	return 0;
}

#endif
