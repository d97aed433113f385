/* Per-tenant rule tables chosen at run time, as multi-tenant load balancers and firewalls keep them: an
 * array of maps selects a tenant's port table (by the low bit of the destination address), a hash of maps
 * selects a per-protocol counter table. Both outer maps are filled statically (libbpf's `.values`). */
#include "appliance_bpf.h"

struct port_rule { __u32 mark; __u32 action; };

struct port_table {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, struct port_rule);
	__uint(max_entries, 16);
};

struct port_table ports_a SEC(".maps"), ports_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct port_table);
} tenants SEC(".maps") = {
	.values = { [0] = &ports_a, [1] = &ports_b },
};

struct counter_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
};

struct counter_table tcp_counts SEC(".maps"), udp_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct counter_table);
} by_proto SEC(".maps") = {
	.values = { [6] = &tcp_counts, [17] = &udp_counts },
};

SEC("tc")
int tenant_tables(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u32 tenant, proto, slot;
	void *table, *counters;
	struct port_rule *rule;
	__u64 *count;
	__u8 last;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || !pi.l4_offset)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, pi.l3_offset + offsetof(struct iphdr, daddr) + 3, &last, 1) < 0)
		return TC_ACT_OK;

	proto = pi.l4_proto;
	counters = bpf_map_lookup_elem(&by_proto, &proto);
	if (counters) {
		slot = last & 3;
		count = bpf_map_lookup_elem(counters, &slot);
		if (count)
			__sync_fetch_and_add(count, skb->len);
	}

	tenant = last & 3; /* slots 2 and 3 are empty: no table */
	table = bpf_map_lookup_elem(&tenants, &tenant);
	if (!table)
		return TC_ACT_UNSPEC;
	rule = bpf_map_lookup_elem(table, &pi.dport);
	if (!rule)
		return TC_ACT_OK;
	skb->mark = rule->mark;
	return rule->action;
}

char LICENSE[] SEC("license") = "GPL";
