/* trace: prints each frame's length and first byte with bpf_printk (bpf_trace_printk) and hands it on (NEXT).
 * Built by the runtime tests; replay shows its lines per frame. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc/trace")
int trace(struct __sk_buff *skb)
{
	bpf_printk("frame len %u mark %u", skb->len, skb->mark);
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
