/* A perf buffer declared the way most tracing-style programs declare it: no max_entries, which libbpf turns
 * into one entry per possible CPU. The frame's length picks the index perf_event_output writes to; an index at
 * or past max_entries is -E2BIG in the kernel and here, so the verdicts agree only when both sized the map
 * alike (a valid index is not compared: the kernel's test run has no reader and answers -ENOENT). */
#include "appliance_bpf.h"

#define E2BIG 7

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

SEC("tc")
int sample_by_length(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u64 index = len & 63;
	long r = bpf_perf_event_output(skb, &samples, index, &len, sizeof(len));

	return r == -E2BIG ? 100 + (int)index : (int)index;
}

char LICENSE[] SEC("license") = "GPL";
