/* CO-RE against types the appliance does not have: a kernel-internal struct (as vmlinux.h would declare it,
 * relocatable) exists only as far as bpf_core_field_exists / bpf_core_type_exists ask — both give 0 here —
 * while the same checks on __sk_buff and iphdr give 1. */
#include "appliance_bpf.h"
#include <bpf/bpf_core_read.h>

struct kernel_internal {
	int refcount;
	unsigned int flags;
} __attribute__((preserve_access_index));

struct __sk_buff___local {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
} __attribute__((preserve_access_index));

SEC("tc")
int core_exists(struct __sk_buff *skb)
{
	struct kernel_internal *k = 0;
	struct __sk_buff___local *local = (void *)skb;

	return bpf_core_field_exists(k->flags) * 1000 + bpf_core_type_exists(struct kernel_internal) * 100
	       + bpf_core_field_exists(local->mark) * 10 + (local->mark == skb->mark);
}

char LICENSE[] SEC("license") = "GPL";
