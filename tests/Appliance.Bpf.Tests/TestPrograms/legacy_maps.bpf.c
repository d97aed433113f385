/* Loader test: legacy map definitions in SEC("maps") (struct bpf_map_def, before BTF maps). */
#include "appliance_bpf.h"

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 64,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = 16,
	.max_entries = 8,
	.map_flags = 0,
};

SEC("tc")
int use_legacy(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&legacy_hash, &key);
	void *a = bpf_map_lookup_elem(&legacy_array, &key);

	return (v ? 1 : 0) + (a ? 2 : 0);
}

char LICENSE[] SEC("license") = "GPL";
