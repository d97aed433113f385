/* workers: programs for the multi-worker tests. Built by the runtime tests with clang -O2 -g -target bpf.
 * count: counts its runs in the per-CPU array `runs` and records bpf_get_smp_processor_id() + 1 in the per-CPU
 *   array `cpu_seen` (so slot c holds c + 1 once a worker ran on CPU c); returns NEXT.
 * old_first/old_second, new_first/new_second: two two-program chains. The first program of a chain marks the
 *   frame with its chain's tag; the second counts in the per-CPU array `chain` whether the frame carries its own
 *   chain's tag ([0] old, [1] new) or not ([2] old_second saw another tag, [3] new_second did): a frame that ran half
 *   of one chain and half of the other lands in [2] or [3]. All return NEXT (the last NEXT means PASS). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} runs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cpu_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} chain SEC(".maps");

#define OLD_TAG 0xA1
#define NEW_TAG 0xB1

static __always_inline void bump(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&chain, &k);
	if (v)
		(*v)++;
}

SEC("tc/count")
int count(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *r = bpf_map_lookup_elem(&runs, &k);
	if (r)
		(*r)++;
	__u32 *c = bpf_map_lookup_elem(&cpu_seen, &k);
	if (c)
		*c = bpf_get_smp_processor_id() + 1;
	return -1;
}

SEC("tc/old_first")
int old_first(struct __sk_buff *skb) { skb->mark = OLD_TAG; return -1; }

SEC("tc/old_second")
int old_second(struct __sk_buff *skb) { bump(skb->mark == OLD_TAG ? 0 : 2); return -1; }

SEC("tc/new_first")
int new_first(struct __sk_buff *skb) { skb->mark = NEW_TAG; return -1; }

SEC("tc/new_second")
int new_second(struct __sk_buff *skb) { bump(skb->mark == NEW_TAG ? 1 : 3); return -1; }

char LICENSE[] SEC("license") = "GPL";
