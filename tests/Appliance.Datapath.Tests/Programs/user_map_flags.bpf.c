/* Maps user space may only read (BPF_F_RDONLY) or only write (BPF_F_WRONLY); programs may do both with them. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_RDONLY);
	__type(key, __u32);
	__type(value, __u64);
} user_ro SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_WRONLY);
	__type(key, __u32);
	__type(value, __u64);
} user_wo SEC(".maps");

/* Counts frames in user_ro[0] (user space reads it) and returns what user space put in user_wo[0]. */
SEC("tc")
int touch(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&user_ro, &key), *told = bpf_map_lookup_elem(&user_wo, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return told ? (int)*told : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
