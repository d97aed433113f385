/* A prog array filled by libbpf's static initialiser (`__array(values, int (void *))` with
 * `.values = { [i] = &prog }`, no value_size given): the loader gives it 4-byte values and fills slots 1 and 3
 * with those programs; slots 0 and 2 stay empty, so the tail call falls through. */
#include "appliance_bpf.h"

int by_length_odd(struct __sk_buff *skb);
int by_length_three(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} dispatch SEC(".maps") = {
	.values = {
		[1] = (void *)&by_length_odd,
		[3] = (void *)&by_length_three,
	},
};

SEC("tc")
int by_length_odd(struct __sk_buff *skb)
{
	return 100 + skb->len;
}

SEC("tc")
int by_length_three(struct __sk_buff *skb)
{
	return 300 + skb->len;
}

SEC("tc")
int dispatch_by_length(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &dispatch, skb->len & 3);
	return skb->len;
}

char _license[] SEC("license") = "GPL";
