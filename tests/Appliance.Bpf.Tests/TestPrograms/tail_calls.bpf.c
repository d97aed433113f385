/* Differential test: bpf_tail_call through a PROG_ARRAY. `entry` jumps to slot (len % 4) of `jumps`;
 * slots 0 and 1 hold `mark_even`/`mark_odd` (set by the test), slot 2 holds `entry_again`, which
 * tail-calls slot 0; slot 3 stays empty, so the call falls through and entry returns 99. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} jumps SEC(".maps");

SEC("tc")
int entry(struct __sk_buff *skb)
{
	skb->cb[0] = 1;
	bpf_tail_call(skb, &jumps, skb->len % 4);
	return 99;
}

SEC("tc")
int mark_even(struct __sk_buff *skb)
{
	skb->mark = 0xe0 + skb->cb[0];
	return 10;
}

SEC("tc")
int mark_odd(struct __sk_buff *skb)
{
	skb->mark = 0x0d + skb->cb[0];
	return 11;
}

SEC("tc")
int entry_again(struct __sk_buff *skb)
{
	skb->cb[0] += 5;
	bpf_tail_call(skb, &jumps, 0);
	return 12;
}

char LICENSE[] SEC("license") = "GPL";
