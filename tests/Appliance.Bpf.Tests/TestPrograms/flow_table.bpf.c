/* A flow meter in the shape of a flow-logs agent's tc program: per 5-tuple and interface, packets, bytes and the TCP
 * flags seen, in two tables declared for 2^24 flows with BPF_F_NO_PREALLOC (the kernel allocates an element per flow;
 * preallocated, each would be gigabytes): a shared hash, updated in place, and a per-CPU hash. Returns TC_ACT_UNSPEC
 * (it only observes), or 1 when the flow is new, so a test sees which packets started one. */
#include "appliance_bpf.h"

#define FLOWS (1 << 24)

struct flow_key {
	__u32 src;
	__u32 dst;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
	__u32 ifindex;
	__u8 reserved[16]; /* room for IPv6 addresses, as a flow agent keeps */
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
	__u16 tcp_flags;
	__u16 pad[3];
	__u64 first_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(max_entries, FLOWS);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(max_entries, FLOWS);
} flows_percpu SEC(".maps");

static __always_inline void account(void *map, struct flow_key *key, __u64 len, __u16 flags, int *started)
{
	struct flow_stats *st = bpf_map_lookup_elem(map, key);

	if (st) {
		st->packets += 1;
		st->bytes += len;
		st->tcp_flags |= flags;
		return;
	}
	struct flow_stats init = { .packets = 1, .bytes = len, .tcp_flags = flags, .first_len = len };
	if (bpf_map_update_elem(map, key, &init, BPF_NOEXIST) == 0)
		*started = 1;
}

SEC("tc")
int meter_flow(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct flow_key key = {};
	__u16 flags = 0;
	int started = 0;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	key.src = ip->saddr;
	key.dst = ip->daddr;
	key.proto = ip->protocol;
	key.ifindex = skb->ifindex;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
		if ((void *)(tcp + 1) > end)
			return TC_ACT_UNSPEC;
		key.sport = tcp->source;
		key.dport = tcp->dest;
		flags = ((__u8 *)tcp)[13];
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)ip + ip->ihl * 4;
		if ((void *)(udp + 1) > end)
			return TC_ACT_UNSPEC;
		key.sport = udp->source;
		key.dport = udp->dest;
	}
	account(&flows, &key, skb->len, flags, &started);
	account(&flows_percpu, &key, skb->len, flags, &started);
	return started ? 1 : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
