/* libbpf's usual check for a helper, bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_x): the kernel answers
 * from its own BTF, the appliance from its helper table, so a helper the appliance lacks (bpf_get_socket_cookie, which
 * needs the kernel's sockets) sits in dead code there. The result does not depend on the answer for that helper (its
 * cookie is not used); a helper both have (ktime_get_ns) is found by both. */
#include "appliance_bpf.h"
#include <bpf/bpf_core_read.h>

SEC("tc")
int helper_probe(struct __sk_buff *skb)
{
	int result = 1;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_socket_cookie))
		bpf_get_socket_cookie(skb);
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ktime_get_ns))
		result |= 4;
	return result;
}

char LICENSE[] SEC("license") = "GPL";
