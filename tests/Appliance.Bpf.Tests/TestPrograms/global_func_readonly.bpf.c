/* A global function handed a value read-only to programs (map_access_maps.h): the kernel verifies a global function
 * on its own, where a pointer argument is memory it may read and write, and checks each call's arguments for both
 * (check_mem_reg), so it refuses the call ("write into map forbidden") although the function only reads. */
#include "appliance_bpf.h"
#include "map_access_maps.h"

__noinline int sum_of(__u64 *v)
{
	return v ? (int)*v : 0;
}

SEC("tc")
int ro_to_global(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	return v ? sum_of(v) : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
