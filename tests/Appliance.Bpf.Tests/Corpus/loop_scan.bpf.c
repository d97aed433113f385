/* Bounded scans with callbacks, as programs that outgrew unrolled loops write them: bpf_loop walks the
 * IPv4 options / payload words of a frame and folds them into a checksum-like digest, and
 * bpf_for_each_map_elem sums a rule table and finds the first rule that matches the frame's port. */
#include "appliance_bpf.h"

struct rule { __u16 port; __u16 weight; __u32 hits; };

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct rule); __uint(max_entries, 8); } rules SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64); __uint(max_entries, 16); } seen SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 4); } results SEC(".maps");

struct scan_ctx {
	struct __sk_buff *skb;
	__u32 offset;
	__u32 digest;
	__u32 words;
};

static long fold_word(__u32 index, void *data)
{
	struct scan_ctx *c = data;
	__u32 word;

	if (bpf_skb_load_bytes(c->skb, c->offset + index * 4, &word, sizeof(word)) < 0)
		return 1; /* past the end: stop */
	c->digest = (c->digest << 5 | c->digest >> 27) ^ word;
	c->words++;
	return 0;
}

struct match_ctx {
	__u16 port;
	__u32 weight_sum;
	__s32 first_match;
	__u32 visited;
};

static long match_rule(void *map, __u32 *key, struct rule *r, void *data)
{
	struct match_ctx *m = data;

	m->visited++;
	m->weight_sum += r->weight;
	if (r->port && r->port == m->port && m->first_match < 0) {
		m->first_match = *key;
		r->hits++;
		return 1;
	}
	return 0;
}

static long count_seen(void *map, __u32 *key, __u64 *value, void *data)
{
	__u64 *total = data;

	*total += *value;
	if (*key & 1)
		(*value)++;
	return 0;
}

SEC("tc")
int loop_scan(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct scan_ctx sc = { .skb = skb };
	struct match_ctx mc = { .first_match = -1 };
	__u32 k;
	__u64 v, *slot, total = 0;
	long n;

	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_OK;
	sc.offset = pi.l3_offset;
	n = bpf_loop((skb->len - pi.l3_offset) / 4 + 1, fold_word, &sc, 0);
	k = 0;
	slot = bpf_map_lookup_elem(&results, &k);
	if (slot)
		*slot += (__u64)n << 32 | sc.words;
	k = 1;
	slot = bpf_map_lookup_elem(&results, &k);
	if (slot)
		*slot ^= sc.digest;

	mc.port = pi.l4_offset ? pi.dport : 0;
	n = bpf_for_each_map_elem(&rules, match_rule, &mc, 0);
	k = 2;
	slot = bpf_map_lookup_elem(&results, &k);
	if (slot)
		*slot += (__u64)n << 40 | (__u64)mc.visited << 32 | mc.weight_sum;

	k = skb->len & 15;
	v = 1;
	if (bpf_map_update_elem(&seen, &k, &v, BPF_NOEXIST) < 0) {
		__u64 *old = bpf_map_lookup_elem(&seen, &k);
		if (old)
			__sync_fetch_and_add(old, 1);
	}
	n = bpf_for_each_map_elem(&seen, count_seen, &total, 0);
	k = 3;
	slot = bpf_map_lookup_elem(&results, &k);
	if (slot)
		*slot += total << 8 | n;

	/* An invalid request, as the kernel answers it: flags must be 0. */
	if (bpf_loop(1, fold_word, &sc, 1) != -22)
		return TC_ACT_SHOT;
	skb->mark = mc.first_match < 0 ? 0 : 0x100 + mc.first_match;
	return mc.first_match < 0 ? TC_ACT_OK : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
