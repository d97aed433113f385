/* Static functions returning void, called for their side effects: clang leaves r0 unset on their way out,
 * which the kernel accepts in a sub-program. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __attribute__((noinline)) void tag(struct __sk_buff *skb, __u32 by)
{
	skb->mark += by;
	skb->priority = by * 3;
}

static __attribute__((noinline)) void stamp(struct __sk_buff *skb)
{
	skb->cb[1] = skb->len ^ 0x5a;
}

static __attribute__((noinline)) void note(__u32 slot, __u64 amount)
{
	__u64 *v = bpf_map_lookup_elem(&seen, &slot);

	if (v)
		__sync_fetch_and_add(v, amount);
}

SEC("tc")
int void_calls(struct __sk_buff *skb)
{
	tag(skb, skb->len & 7);
	stamp(skb);
	note(skb->len & 3, skb->len);
	return (skb->mark & 1) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
