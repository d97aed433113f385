/* bpf_printk as public programs use it for debugging: with up to three arguments it is bpf_trace_printk, with
 * more libbpf's macro packs them into a u64 array for bpf_trace_vprintk. Both return the length of the line they
 * formatted, which is what the verdict carries (the frame's length and bytes vary the numbers and their widths). */
#include "appliance_bpf.h"

SEC("tc")
int printk_many(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 len = skb->len;
	long few, many;

	if ((void *)(eth + 1) > end)
		return 0;
	few = bpf_printk("len %u proto %x", len, bpf_ntohs(eth->h_proto));
	many = bpf_printk("len %u proto %04x mac %x:%x last %d diff %lld", len, bpf_ntohs(eth->h_proto),
			  eth->h_dest[4], eth->h_dest[5], (int)eth->h_source[5] - 100, (long long)len - 1000);
	return (int)(few * 1000 + many);
}

char LICENSE[] SEC("license") = "GPL";
