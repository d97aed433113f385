/* A caller that reads r0 after calling a static function that returns void. C cannot say it, so the call is
 * written in assembly: the function leaves r0 unset, and the kernel refuses the read ("R0 !read_ok"). */
#include "appliance_bpf.h"

static __attribute__((noinline, used)) void stamp(struct __sk_buff *skb)
{
	skb->mark = skb->len;
}

SEC("tc")
int reads_void_result(struct __sk_buff *skb)
{
	long result;

	asm volatile("r1 = %[skb]; call stamp; %[result] = r0"
		     : [result] "=r"(result)
		     : [skb] "r"(skb)
		     : "r0", "r1", "r2", "r3", "r4", "r5");
	return result ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
