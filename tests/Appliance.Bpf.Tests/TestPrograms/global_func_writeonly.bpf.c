/* A global function handed a value write-only to programs (map_access_maps.h): the kernel checks the call's pointer
 * argument for a read too (check_mem_reg), so it refuses the call ("read from map forbidden") although the function
 * only writes. */
#include "appliance_bpf.h"
#include "map_access_maps.h"

__noinline int store_into(__u64 *v, __u32 x)
{
	if (v)
		*v = x;
	return 0;
}

SEC("tc")
int wo_to_global(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? store_into(v, skb->len) : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
