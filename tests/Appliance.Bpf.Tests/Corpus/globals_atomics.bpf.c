/* Globals and atomics: configuration in .rodata, state in .data and .bss, updated with the atomic
 * operations clang emits for __sync builtins (fetch-and-add everywhere; or/and/xor/xchg/cmpxchg with
 * -mcpu=v3); the verdict reports what the atomics returned. */
#include "appliance_bpf.h"

const volatile __u32 threshold = 200;
const volatile __u64 salt = 0x5bd1e995;
__u64 total_bytes = 0;
__u32 big_frames = 0, flags_seen = 0, last_len = 0;
__u64 checksum = 1;

SEC("tc")
int globals_atomics(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u32 ret = 0;

	__sync_fetch_and_add(&total_bytes, len);
	if (len > threshold)
		__sync_fetch_and_add(&big_frames, 1);
#if __BPF_CPU_VERSION__ >= 3
	ret = __sync_fetch_and_or(&flags_seen, 1u << (len & 31));
	__sync_fetch_and_and(&flags_seen, ~(1u << ((len >> 5) & 31)));
	__sync_fetch_and_xor(&checksum, salt * len);
	ret ^= __sync_lock_test_and_set(&last_len, len);
	ret += __sync_val_compare_and_swap(&big_frames, len & 7, 1000);
#else
	flags_seen |= 1u << (len & 31);
	checksum ^= salt * len;
	ret = last_len;
	last_len = len;
#endif
	return ret & 0xffff;
}

char LICENSE[] SEC("license") = "GPL";
