/* Source NAT: TCP/UDP flows from 10.0.0.0/8 leave as 192.0.2.1 with a port allocated per flow (kept in an
 * LRU hash); addresses and ports are rewritten with checksum fixes (l3, l4 with pseudo header). */
#include "appliance_bpf.h"

struct flow { __be32 saddr; __be32 daddr; __be16 sport; __be16 dport; __u8 proto; __u8 pad[3]; };
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct flow); __type(value, __be16); __uint(max_entries, 1024); } nat_ports SEC(".maps");
__u32 next_port = 20000;

SEC("tc")
int snat(struct __sk_buff *skb)
{
	struct packet_info pi;
	__be16 ports[2];
	const __be32 public_addr = bpf_htonl(0xc0000201);

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || !pi.l4_offset ||
	    (pi.saddr4 & bpf_htonl(0xff000000)) != bpf_htonl(0x0a000000))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, pi.l4_offset, ports, sizeof(ports)) < 0)
		return TC_ACT_SHOT;
	struct flow f = { .saddr = pi.saddr4, .daddr = pi.daddr4, .sport = ports[0], .dport = ports[1], .proto = pi.l4_proto };
	__be16 *mapped = bpf_map_lookup_elem(&nat_ports, &f), port;
	if (mapped) {
		port = *mapped;
	} else {
		port = bpf_htons((__u16)next_port);
		next_port = next_port >= 20999 ? 20000 : next_port + 1;
		bpf_map_update_elem(&nat_ports, &f, &port, BPF_ANY);
	}
	__u32 csum_off = pi.l4_offset + (pi.l4_proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	__u64 mangled = pi.l4_proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	if (bpf_l4_csum_replace(skb, csum_off, pi.saddr4, public_addr, BPF_F_PSEUDO_HDR | 4 | mangled) < 0 ||
	    bpf_l4_csum_replace(skb, csum_off, ports[0], port, 2 | mangled) < 0 ||
	    bpf_l3_csum_replace(skb, pi.l3_offset + offsetof(struct iphdr, check), pi.saddr4, public_addr, 4) < 0 ||
	    bpf_skb_store_bytes(skb, pi.l3_offset + offsetof(struct iphdr, saddr), &public_addr, 4, 0) < 0 ||
	    bpf_skb_store_bytes(skb, pi.l4_offset, &port, 2, 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
