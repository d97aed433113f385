/* bpf_map_update_elem from a program on maps whose values hold a bpf_spin_lock, with every flags value 0-7: BPF_F_LOCK
 * (4) is an update under the element's lock there, alone or with BPF_NOEXIST/BPF_EXIST, and a bad flag is -EINVAL.
 * The frame's length picks the flags and the key (array keys 4-7 are past its end). */
#include "appliance_bpf.h"

struct locked { __u64 count; struct bpf_spin_lock lock; __u32 pad; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, struct locked); __uint(max_entries, 8); } locked_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct locked); __uint(max_entries, 4); } locked_array SEC(".maps");

SEC("tc")
int locked_updates(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u64 flags = len & 7;
	__u32 key = (len >> 3) & 7;
	struct locked v = { .count = len, .pad = len >> 6 };
	long h = bpf_map_update_elem(&locked_hash, &key, &v, flags);
	long a = bpf_map_update_elem(&locked_array, &key, &v, flags);

	return (int)(((h & 0xff) << 8) | (a & 0xff));
}

char LICENSE[] SEC("license") = "GPL";
