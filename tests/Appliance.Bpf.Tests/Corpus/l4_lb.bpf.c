/* L4 load balancer: packets to a virtual IP:port pick a backend by a hash of the flow, get the backend's
 * address and MAC, fixed IPv4 and TCP/UDP checksums, and are redirected to the backend's interface. */
#include "appliance_bpf.h"

struct vip_key { __be32 addr; __be16 port; __u8 proto; __u8 pad; };
struct vip_info { __u32 first_backend; __u32 backend_count; };
struct backend { __be32 addr; __u8 mac[ETH_ALEN]; __u16 ifindex; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct vip_key); __type(value, struct vip_info); __uint(max_entries, 64); } vips SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct backend); __uint(max_entries, 16); } backends SEC(".maps");

static __always_inline __u32 flow_hash(__be32 s, __be32 d, __u32 ports, __u8 proto)
{
	__u32 h = 0x9e3779b9 ^ proto;
	h = (h ^ s) * 0x85ebca6b;
	h = (h ^ d) * 0xc2b2ae35;
	h = (h ^ ports) * 0x27d4eb2f;
	return h ^ (h >> 15);
}

SEC("tc")
int l4_lb(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u32 ports;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || !pi.l4_offset)
		return TC_ACT_OK;
	struct vip_key key = { .addr = pi.daddr4, .port = bpf_htons(pi.dport), .proto = pi.l4_proto };
	struct vip_info *vip = bpf_map_lookup_elem(&vips, &key);
	if (!vip || vip->backend_count == 0)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, pi.l4_offset, &ports, sizeof(ports)) < 0)
		return TC_ACT_SHOT;
	__u32 index = vip->first_backend + flow_hash(pi.saddr4, pi.daddr4, ports, pi.l4_proto) % vip->backend_count;
	struct backend *be = bpf_map_lookup_elem(&backends, &index);
	if (!be)
		return TC_ACT_SHOT;
	__be32 new_addr = be->addr;
	__u32 csum_off = pi.l4_offset + (pi.l4_proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	__u64 flags = BPF_F_PSEUDO_HDR | sizeof(new_addr) | (pi.l4_proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0);

	if (bpf_l4_csum_replace(skb, csum_off, pi.daddr4, new_addr, flags) < 0 ||
	    bpf_l3_csum_replace(skb, pi.l3_offset + offsetof(struct iphdr, check), pi.daddr4, new_addr, sizeof(new_addr)) < 0 ||
	    bpf_skb_store_bytes(skb, pi.l3_offset + offsetof(struct iphdr, daddr), &new_addr, sizeof(new_addr), 0) < 0 ||
	    bpf_skb_store_bytes(skb, 0, be->mac, ETH_ALEN, 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(be->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
