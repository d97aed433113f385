/* Differential test: legacy packet loads (LD_ABS / LD_IND, from clang's llvm.bpf.load.* builtins), as old tc
 * programs use them: constant and variable offsets, offsets relative to the MAC header (SKF_LL_OFF) and the
 * network header (SKF_NET_OFF), and loads past the end, which end the current function with 0 — the whole
 * program in the first case, only the sub-program in the second. */
#include "appliance_bpf.h"
#include <linux/filter.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("tc")
int absolute_loads(struct __sk_buff *skb)
{
	__u32 type = load_half(skb, 12);
	__u32 src_mac = load_word(skb, SKF_LL_OFF + 6);
	__u32 ttl = load_byte(skb, SKF_NET_OFF + 8);
	__u32 hdr = load_word(skb, ETH_HLEN + 16);
	__u32 far = load_byte(skb, 90); /* past the end of short frames: the program returns 0 */

	return (type ^ src_mac ^ (ttl << 8) ^ hdr ^ (far << 16)) | 1;
}

static __attribute__((noinline)) int word_at(struct __sk_buff *skb, __u32 off)
{
	return (load_word(skb, off) & 0xffff) + 1;
}

SEC("tc")
int indirect_loads(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u32 ihl = (load_byte(skb, SKF_NET_OFF) & 0xf) * 4;
	__u32 l4 = load_half(skb, ETH_HLEN + ihl + 2); /* the destination port behind IPv4 options */
	__u32 tail = word_at(skb, len - (len & 7)); /* 0 when fewer than 4 bytes remain */

	return l4 + (tail << 16) + (len & 0xff);
}

char _license[] SEC("license") = "GPL";
