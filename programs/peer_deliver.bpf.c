/* Hands IPv4 frames for a tenant of this board straight to it, the way Cilium delivers from the NIC into a pod:
 * on the primary side of a frame a port received, a destination address found in map "tenants" (address → the
 * tenant pair's primary-end ifindex and the tenant's MAC) gets that MAC as its Ethernet destination and goes into
 * that tenant with bpf_redirect_peer, past that pair's own primary chain. Everything else passes. bpf_redirect_peer
 * works only there (the kernel's tc ingress): from a tenant's own frames the appliance drops it, as netkit does. */
#include "appliance_bpf.h"
#include <linux/ip.h>

struct tenant {
	__u32 ifindex;
	__u8 mac[6];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __be32);
	__type(value, struct tenant);
} tenants SEC(".maps");

SEC("tc")
int peer_deliver(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tenant *t;
	__be32 daddr;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return NETKIT_PASS;
	daddr = ip->daddr;
	t = bpf_map_lookup_elem(&tenants, &daddr);
	if (!t)
		return NETKIT_PASS;
	__builtin_memcpy(eth->h_dest, t->mac, sizeof(t->mac));
	return bpf_redirect_peer(t->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
