/* One static function handed different constant strings: a static const array in .rodata and string literals
 * in .rodata.str1.1. The kernel verifies a static function at each call with what that call passes, so every
 * string is a constant there (bpf_strncmp's third argument, bpf_snprintf's format). */
#include "appliance_bpf.h"

static __attribute__((noinline)) int compare(const char *buf, const char *want)
{
	return bpf_strncmp(buf, 8, want);
}

static __attribute__((noinline)) long format(char *out, const char *fmt, __u64 value)
{
	__u64 args[1] = { value };

	return bpf_snprintf(out, 16, fmt, args, sizeof(args));
}

SEC("tc")
int strings_through_static(struct __sk_buff *skb)
{
	static const char tenant[] = "tenant";
	char buf[8] = {};
	char out[16] = {};
	int a, b, c;
	long n1, n2;

	if (bpf_skb_load_bytes(skb, 6, buf, 6))
		return TC_ACT_OK;
	a = compare(buf, tenant);
	b = compare(buf, "peer");
	c = compare(buf, "");
	n1 = format(out, "len=%u", skb->len);
	skb->cb[0] = out[4] | out[5] << 8;
	n2 = format(out, "%x!", skb->len);
	skb->cb[1] = out[0] | out[1] << 8 | out[2] << 16;
	return (a & 3) | (b & 3) << 2 | (c & 3) << 4 | (int)(n1 & 0xf) << 8 | (int)(n2 & 0xf) << 12;
}

char LICENSE[] SEC("license") = "GPL";
