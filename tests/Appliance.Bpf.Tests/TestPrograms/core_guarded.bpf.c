/* CO-RE reads guarded by existence checks, as programs built for several kernels write them: a field this
 * kernel's __sk_buff lacks, and a kernel-internal type. libbpf gives the checks 0 and poisons the guarded
 * reads, which the kernel never reaches; the appliance's own __sk_buff lacks the same field and has no kernel
 * types, so the same branches are dead and the program loads and agrees with the kernel. */
#include "appliance_bpf.h"
#include <bpf/bpf_core_read.h>

struct __sk_buff___future {
	__u32 len;
	__u32 mark;
	__u32 future_field;
} __attribute__((preserve_access_index));

struct kernel_internal {
	int refcount;
	unsigned int flags;
} __attribute__((preserve_access_index));

SEC("tc")
int core_guarded(struct __sk_buff *skb)
{
	struct __sk_buff___future *f = (void *)skb;
	__u32 v = skb->len;

	if (bpf_core_field_exists(f->future_field))
		v += f->future_field;
	if (bpf_core_type_exists(struct kernel_internal)) {
		struct kernel_internal *k = (void *)(long)skb->mark;

		v += BPF_CORE_READ(k, flags);
	}
	if (bpf_core_field_exists(f->mark))
		v ^= f->mark * 3;
	return v & 0xff;
}

char LICENSE[] SEC("license") = "GPL";
