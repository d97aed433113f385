/* nested_tables: an array of maps filled statically (libbpf's `.values`: slot 0 table_a, slot 1 table_b) and a
 * program that counts each frame in the table slot 0 holds, and its length in by_length. Built twice with different VERDICTs, it is the same
 * object's maps under new code: a reload carries its maps over. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef VERDICT
#define VERDICT -1 /* NETKIT_NEXT */
#endif

/* Built with -DINNER_ENTRIES=8 the tables, and so the outer map's inner-map template, are of another shape. */
#ifndef INNER_ENTRIES
#define INNER_ENTRIES 4
#endif

struct table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, INNER_ENTRIES);
};

struct table table_a SEC(".maps"), table_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct table);
} tables SEC(".maps") = {
#ifdef SWAP_VALUES /* the static initialiser alone changed */
	.values = { [0] = &table_b, [1] = &table_a },
#else
	.values = { [0] = &table_a, [1] = &table_b },
#endif
};

/* Flows seen, by length: built with -DNO_PREALLOC the new object declares it BPF_F_NO_PREALLOC. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
#ifdef NO_PREALLOC
	__uint(map_flags, BPF_F_NO_PREALLOC);
#endif
} by_length SEC(".maps");

SEC("tc")
int count(struct __sk_buff *skb)
{
	__u32 key = 0;
	void *table = bpf_map_lookup_elem(&tables, &key);
	if (table) {
		__u64 *n = bpf_map_lookup_elem(table, &key);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	__u32 len = skb->len;
	__u64 one = 1;
	bpf_map_update_elem(&by_length, &len, &one, BPF_ANY);
	return VERDICT;
}

char LICENSE[] SEC("license") = "GPL";
