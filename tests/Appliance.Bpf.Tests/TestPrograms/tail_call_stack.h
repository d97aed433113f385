/* A tail call in a called function is allowed only while its callers hold less than 256 bytes of stack
 * (check_max_stack_depth). The kernel takes tail calls in called functions only with the object's BTF, so
 * this object is loaded by libbpf; PROGRAM_STACK (set by the including file) is what the caller holds. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);
} jumps SEC(".maps");

static __noinline int jump(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, 0);
	return 1;
}

SEC("tc")
int PROGRAM_NAME(struct __sk_buff *skb)
{
	volatile char buf[PROGRAM_STACK];
	buf[0] = skb->len;
	buf[PROGRAM_STACK - 1] = skb->len;
	return jump(skb) + buf[skb->len & 1];
}

char LICENSE[] SEC("license") = "GPL";
