/* 200 bytes of stack here and 400 in a static function that only a CO-RE existence check this kernel answers 0
 * calls: the kernel never verifies that call, counts the function's stack as 0 and loads the program (the chain
 * would be 600 bytes, over the 512 it allows, if it counted). */
#include "appliance_bpf.h"
#include <bpf/bpf_core_read.h>

struct __sk_buff___future {
	__u32 len;
	__u32 future_field;
} __attribute__((preserve_access_index));

static __noinline int uses_400(int x)
{
	volatile char buf[400];

	buf[0] = x;
	buf[399] = x;
	return buf[x & 1] + buf[399];
}

SEC("tc")
int dead_call_stack(struct __sk_buff *skb)
{
	struct __sk_buff___future *f = (void *)skb;
	volatile char mine[200];

	mine[0] = skb->len;
	mine[199] = skb->len;
	if (bpf_core_field_exists(f->future_field))
		return uses_400(mine[1]);
	return mine[skb->len & 1] & 1;
}

char LICENSE[] SEC("license") = "GPL";
