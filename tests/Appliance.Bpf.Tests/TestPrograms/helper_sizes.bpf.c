/* Constant sizes of the memory helpers take: the kernel refuses a size of 0 where the helper's prototype says
 * ARG_CONST_SIZE ("R4 invalid zero-sized read") and takes it where it says ARG_CONST_SIZE_OR_ZERO (with a NULL pointer
 * where the argument may be NULL). */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tc")
int load_nothing(struct __sk_buff *skb)
{
	char buf[8];

	return bpf_skb_load_bytes(skb, 0, buf, 0);
}

SEC("tc")
int store_nothing(struct __sk_buff *skb)
{
	char buf[8] = {};

	return bpf_skb_store_bytes(skb, 0, buf, 0, 0);
}

SEC("tc")
int print_nothing(struct __sk_buff *skb)
{
	char format[8] = "x";

	return bpf_trace_printk(format, 0);
}

SEC("tc")
int zero_sizes_taken(struct __sk_buff *skb)
{
	static const char format[] = "x";
	char buf[8] = {};

	return bpf_ringbuf_output(&events, buf, 0, 0) + bpf_csum_diff(0, 0, 0, 0, 1) + bpf_snprintf(0, 0, format, 0, 0) +
	       bpf_redirect_neigh(1, 0, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
