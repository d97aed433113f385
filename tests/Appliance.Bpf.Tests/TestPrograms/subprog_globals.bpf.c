/* Loader test: bpf-to-bpf calls (a global and a static noinline function in .text, one calling the
 * other), two programs in one section sharing them, globals in .data, .rodata, .bss and a string
 * literal in .rodata.str1.1. Both programs return values the test can predict. */
#include "appliance_bpf.h"

volatile const __u32 scale = 3;          /* .rodata */
__u32 bias SEC(".data") = 5;             /* .data */
__u64 calls = 0;                         /* .bss */
__u32 table[4] SEC(".data") = { 10, 20, 30, 40 };

static __noinline __u32 pick(__u32 i)
{
	return table[i & 3];
}

__noinline int mix(__u32 x)
{
	__sync_fetch_and_add(&calls, 1);
	return x * scale + bias + pick(x);
}

SEC("tc")
int first(struct __sk_buff *skb)
{
	return mix(skb->len & 7);
}

SEC("tc")
int second(struct __sk_buff *skb)
{
	const char *greeting = "hello";
	return mix(2) + greeting[skb->len & 3];
}

SEC("classifier")
int lone(struct __sk_buff *skb)
{
	return pick(1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
