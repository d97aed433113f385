/* Hash maps whose keys are far larger than the 512-byte stack (the kernel takes any key_size whose key + value stays
 * below 4 MiB - 48 bytes): a program builds such a key in a per-CPU array's value and passes that pointer. A 4096-byte
 * key in a hash that holds 4 of the 6 keys the frames pick (update with each flag, delete, lookup and a write through
 * the value, a bad flag, a walk with bpf_for_each_map_elem reading the key's last word), a 1028-byte key (not a
 * multiple of 8) in an LRU hash that never fills and in a per-CPU hash. The frame's length picks the key and the
 * operation. */
#include "appliance_bpf.h"

#define BIG_WORDS 512  /* 4096 bytes */
#define MID_WORDS 257  /* 1028 bytes */

struct big_key { __u64 w[BIG_WORDS]; };
struct mid_key { __u32 w[MID_WORDS]; };

struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, struct big_key); __uint(max_entries, 1); } scratch SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct big_key); __type(value, __u64); __uint(max_entries, 4); } big SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct mid_key); __type(value, __u64); __uint(max_entries, 128); } mid_lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __type(key, struct mid_key); __type(value, __u32); __uint(max_entries, 8); } mid_percpu SEC(".maps");

struct walk { __u64 sum; __u32 visits; };

static long walk_big(void *map, struct big_key *key, __u64 *value, void *data)
{
	struct walk *w = data;

	w->visits++;
	w->sum += key->w[0] + (key->w[BIG_WORDS - 1] >> 32) + *value;
	if (key->w[0] == 5)
		(*value)++;
	return 0;
}

SEC("tc")
int big_key_ops(struct __sk_buff *skb)
{
	__u32 len = skb->len, zero = 0, id = (len >> 2) % 6, op = len & 3;
	struct walk w = {};
	struct big_key *k = bpf_map_lookup_elem(&scratch, &zero);
	struct mid_key *m;
	__u64 v = len, *found, *seen;
	__u32 pv = len, *pfound;
	long r, bad, lr, pr;

	if (!k)
		return 0;
	/* The key differs in its first, middle and last words (the last word's high half is what the walk reads). */
	k->w[0] = id;
	k->w[BIG_WORDS / 2] = id * 0x0101010101010101ULL;
	k->w[BIG_WORDS - 1] = (__u64)(id + 0x100) << 32 | 0xfeed;
	/* Its first 1028 bytes are the other maps' key, a size that is not a multiple of 8. */
	m = (struct mid_key *)k;
	m->w[MID_WORDS - 1] = id ^ 0x55;
	switch (op) {
	case 0: r = bpf_map_update_elem(&big, k, &v, BPF_ANY); break;
	case 1: r = bpf_map_update_elem(&big, k, &v, BPF_NOEXIST); break;
	case 2: r = bpf_map_update_elem(&big, k, &v, BPF_EXIST); break;
	default: r = bpf_map_delete_elem(&big, k); break;
	}
	found = bpf_map_lookup_elem(&big, k);
	if (found)
		*found += 1 << 16;
	bad = bpf_map_update_elem(&big, k, &v, BPF_F_LOCK); /* no spin lock in the value: -EINVAL */
	bpf_for_each_map_elem(&big, walk_big, &w, 0);

	lr = bpf_map_update_elem(&mid_lru, m, &v, (len & 16) ? BPF_NOEXIST : BPF_ANY);
	seen = bpf_map_lookup_elem(&mid_lru, m);
	if (seen)
		*seen += 1;
	pr = (len & 32) ? bpf_map_delete_elem(&mid_percpu, m) : bpf_map_update_elem(&mid_percpu, m, &pv, BPF_ANY);
	pfound = bpf_map_lookup_elem(&mid_percpu, m);

	return (int)((r & 0xff) | (bad & 0xff) << 8 | (found ? 1 << 16 : 0) | (w.visits & 7) << 17 | (lr & 3) << 20 |
		     (seen ? 1 << 22 : 0) | (pr & 3) << 23 | (pfound ? 1 << 25 : 0) | ((__u32)w.sum & 0x3f) << 26);
}

char LICENSE[] SEC("license") = "GPL";
