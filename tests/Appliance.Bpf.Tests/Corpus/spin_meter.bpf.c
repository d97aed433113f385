/* A policer and per-protocol accounting whose values span several fields, kept consistent with
 * bpf_spin_lock as multi-CPU programs must: a token bucket (refilled by a fixed amount per packet) decides
 * pass or drop, and a hash of per-protocol records tracks packets, bytes and the smallest/largest frame. */
#include "appliance_bpf.h"

struct bucket {
	__u64 tokens;
	struct bpf_spin_lock lock;
	__u32 dropped;
	__u64 passed_bytes;
};

struct proto_stats {
	struct bpf_spin_lock lock;
	__u32 packets;
	__u64 bytes;
	__u32 min_len;
	__u32 max_len;
};

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct bucket); __uint(max_entries, 1); } meter SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, struct proto_stats); __uint(max_entries, 32); } by_proto SEC(".maps");

#define REFILL 90
#define BURST 400

static __always_inline void account(__u32 proto, __u32 len)
{
	struct proto_stats *s = bpf_map_lookup_elem(&by_proto, &proto);

	if (!s) {
		struct proto_stats fresh = { .min_len = 0xffffffff };
		bpf_map_update_elem(&by_proto, &proto, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&by_proto, &proto);
		if (!s)
			return;
	}
	bpf_spin_lock(&s->lock);
	s->packets++;
	s->bytes += len;
	if (len < s->min_len)
		s->min_len = len;
	if (len > s->max_len)
		s->max_len = len;
	bpf_spin_unlock(&s->lock);
}

SEC("tc")
int spin_meter(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u32 zero = 0, len = skb->len;
	struct bucket *b;
	int verdict = TC_ACT_OK;

	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_OK;
	account(pi.l3_proto << 8 | pi.l4_proto, len);

	b = bpf_map_lookup_elem(&meter, &zero);
	if (!b)
		return TC_ACT_OK;
	bpf_spin_lock(&b->lock);
	b->tokens += REFILL;
	if (b->tokens > BURST)
		b->tokens = BURST;
	if (b->tokens >= len) {
		b->tokens -= len;
		b->passed_bytes += len;
	} else {
		b->dropped++;
		verdict = TC_ACT_SHOT;
	}
	bpf_spin_unlock(&b->lock);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
