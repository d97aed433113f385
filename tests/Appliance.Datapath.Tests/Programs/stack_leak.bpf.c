/* stack_leak: two programs for the "no reads across programs" test (Runtime/StackIsolationTests).
 * secret_writer fills the top 64 bytes of its stack with SECRET; stack_reader reads the top 64 bytes of its own
 * stack without writing them first (inline asm, so clang cannot drop the reads) and counts the 8-byte words
 * that hold SECRET. Each runs on another pair, on the same forwarding worker (one eBPF VM).
 * leak[0]: frames secret_writer ran on; leak[1]: frames stack_reader ran on; leak[2]: SECRET words it found. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SECRET 0x5EC2E7C0FFEE4242ULL

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} leak SEC(".maps");

static __always_inline void add(__u32 key, __u64 n)
{
	__u64 *slot = bpf_map_lookup_elem(&leak, &key);
	if (slot)
		__sync_fetch_and_add(slot, n);
}

SEC("tc/secret_writer")
int secret_writer(struct __sk_buff *skb)
{
	asm volatile(
		"r1 = %[secret] ll\n"
		"*(u64 *)(r10 - 8) = r1\n"
		"*(u64 *)(r10 - 16) = r1\n"
		"*(u64 *)(r10 - 24) = r1\n"
		"*(u64 *)(r10 - 32) = r1\n"
		"*(u64 *)(r10 - 40) = r1\n"
		"*(u64 *)(r10 - 48) = r1\n"
		"*(u64 *)(r10 - 56) = r1\n"
		"*(u64 *)(r10 - 64) = r1\n"
		:
		: [secret] "i"(SECRET)
		: "r1", "memory");
	add(0, 1);
	return 0;
}

#define CHECK(off) "r2 = *(u64 *)(r10 - " #off ")\n if r2 != r1 goto +1\n %[hits] += 1\n"

SEC("tc/stack_reader")
int stack_reader(struct __sk_buff *skb)
{
	__u64 hits;
	/* One asm block: clang places nothing of its own on the stack before these reads. */
	asm volatile(
		"%[hits] = 0\n"
		"r1 = %[secret] ll\n"
		CHECK(8) CHECK(16) CHECK(24) CHECK(32) CHECK(40) CHECK(48) CHECK(56) CHECK(64)
		: [hits] "=&r"(hits)
		: [secret] "i"(SECRET)
		: "r1", "r2");
	add(2, hits);
	add(1, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
