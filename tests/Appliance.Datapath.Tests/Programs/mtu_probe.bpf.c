/* mtu_probe: asks bpf_check_mtu for the MTU of the frame's own device (ifindex 0) and of ifindex 4242 (no such
 * interface: -ENODEV) and prints both; replay shows the MTUs the datapath gives programs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int mtu_probe(struct __sk_buff *skb)
{
	__u32 own = 0, other = 0;
	long fits = bpf_check_mtu(skb, 0, &own, 0, 0);
	long missing = bpf_check_mtu(skb, 4242, &other, 0, 0);

	bpf_printk("mtu %u fits %ld missing %ld", own, fits, missing);
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
