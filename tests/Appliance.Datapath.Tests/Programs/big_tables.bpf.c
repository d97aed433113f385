/* big_tables: two preallocated maps of 2^20 64-byte values — a hash and an array, 64 MiB of values each, the managed
 * storage a reload that drops them leaves to the GC — and a program that counts each frame in both (by its length),
 * so its runs touch them (the JIT pins what it touches). Returns NETKIT_PASS. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ENTRIES (1 << 20)

struct counters {
	__u64 v[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct counters);
	__uint(max_entries, ENTRIES);
} by_length SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct counters);
	__uint(max_entries, ENTRIES);
} slots SEC(".maps");

SEC("tc")
int count(struct __sk_buff *skb)
{
	__u32 key = skb->len;
	struct counters *c = bpf_map_lookup_elem(&by_length, &key);
	if (c)
		__sync_fetch_and_add(&c->v[0], 1);
	else {
		struct counters first = { .v = { 1 } };
		bpf_map_update_elem(&by_length, &key, &first, BPF_NOEXIST);
	}
	c = bpf_map_lookup_elem(&slots, &key);
	if (c)
		__sync_fetch_and_add(&c->v[0], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
