/* The kernel's limits on bpf-to-bpf calls: at most 8 frames (MAX_CALL_FRAMES) and 512 bytes of stack
 * summed over a call chain (MAX_BPF_STACK; each function's stack rounded up to 16 bytes, as with the JIT).
 * Each program is one side of a limit: the kernel and the engine refuse the ones past it and accept the
 * ones just inside. */
#include "appliance_bpf.h"

#define LINK(name, next)                                 \
	static __noinline int name(int x)                \
	{                                                \
		return next(x + 1) + 1;                  \
	}

static __noinline int leaf(int x)
{
	return x * 3;
}

LINK(c7, leaf)
LINK(c6, c7)
LINK(c5, c6)
LINK(c4, c5)
LINK(c3, c4)
LINK(c2, c3)
LINK(c1, c2)

/* main + c1..c7 + leaf: 9 frames. */
SEC("tc")
int nine_frames(struct __sk_buff *skb)
{
	return c1(skb->len) & 1;
}

/* main + c2..c7 + leaf: 8 frames. */
SEC("tc")
int eight_frames(struct __sk_buff *skb)
{
	return c2(skb->len) & 1;
}

/* Touches N bytes of its own stack: a buffer the verifier cannot prove unused. */
#define STACK_USER(name, bytes)                                        \
	static __noinline int name(int x)                              \
	{                                                              \
		volatile char buf[bytes];                              \
		buf[0] = x;                                            \
		buf[bytes - 1] = x;                                    \
		return buf[x & 1];                                     \
	}

STACK_USER(uses_256, 256)
STACK_USER(uses_272, 272)

static __noinline int holds_256(int x)
{
	volatile char buf[256];
	buf[0] = x;
	buf[255] = x;
	return uses_256(buf[x & 1]) + buf[1];
}

/* 256 + 256 = 512 bytes over the chain: the most the kernel allows. */
SEC("tc")
int stack_512(struct __sk_buff *skb)
{
	return holds_256(skb->len) & 1;
}

static __noinline int holds_256_more(int x)
{
	volatile char buf[256];
	buf[0] = x;
	buf[255] = x;
	return uses_272(buf[x & 1]) + buf[1];
}

/* 256 + 272 = 528 bytes over the chain. */
SEC("tc")
int stack_528(struct __sk_buff *skb)
{
	return holds_256_more(skb->len) & 1;
}

char LICENSE[] SEC("license") = "GPL";
