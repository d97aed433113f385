/* Differential test for helpers public tc programs call that came with 5.x/6.x kernels: bpf_map_lookup_percpu_elem
 * on the three per-CPU map types, bpf_strncmp against .rodata strings, bpf_snprintf (BPF_SNPRINTF) into a buffer
 * that is then written over the frame (so the output compares byte by byte), bpf_ktime_get_tai_ns, and
 * bpf_ringbuf_query. Each frame's length and bytes pick the arguments. The kernel runs a frame on whichever CPU
 * the test thread is on, the engine on slot 0: the programs only read the slot they wrote, or one past every CPU. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} per_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} per_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} per_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} notes SEC(".maps");

SEC("tc")
int percpu_slots(struct __sk_buff *skb)
{
	__u32 len = skb->len, cpu = bpf_get_smp_processor_id(), slot = len & 7, key = len & 15, ret = 0;
	__u32 far = (len & 1) ? 0xffffffff : 1000000;
	__u64 *own, *seen, *gone;
	__u32 *k, *kgone;

	/* Slots 4..7 are past the array: NULL for every CPU. */
	seen = bpf_map_lookup_percpu_elem(&per_slot, &slot, cpu);
	if (seen) {
		*seen += len;                   /* a writable pointer to this CPU's value */
		own = bpf_map_lookup_elem(&per_slot, &slot);
		ret |= (own && *own == *seen) ? 1 : 2;
	}
	gone = bpf_map_lookup_percpu_elem(&per_slot, &slot, far);
	ret |= gone ? 4 : 0;

	if (len & 2) {
		__u32 v = len;
		bpf_map_update_elem(&per_key, &key, &v, BPF_ANY);
	}
	k = bpf_map_lookup_percpu_elem(&per_key, &key, cpu);
	kgone = bpf_map_lookup_percpu_elem(&per_key, &key, far);
	ret |= (k ? 8 : 0) | (kgone ? 16 : 0);
	if (k)
		ret += *k << 8;

	if (len & 4) {
		__u64 v = (__u64)len << 32 | 7;
		bpf_map_update_elem(&per_flow, &key, &v, BPF_ANY);
	}
	seen = bpf_map_lookup_percpu_elem(&per_flow, &key, cpu);
	gone = bpf_map_lookup_percpu_elem(&per_flow, &key, far);
	ret |= (seen ? 32 : 0) | (gone ? 64 : 0);
	if (seen)
		ret += (__u32)(*seen >> 32) << 20;
	return ret;
}

SEC("tc")
int string_compare(struct __sk_buff *skb)
{
	static const char tenant[] = "tenant7";
	static const char empty[] = "";
	char buf[8] = "tenant7", raw[6];
	__u32 len = skb->len;
	long a, b, c, d, e;

	buf[6] = '5' + (len % 5);           /* "tenant5" .. "tenant9": below, equal, above */
	if (len & 8)
		buf[3] = 0;                     /* "ten": shorter than the constant */
	a = bpf_strncmp(buf, sizeof(buf), tenant);
	b = bpf_strncmp(buf, 3, tenant);    /* the first three bytes only: equal */
	c = bpf_strncmp(buf, sizeof(buf), empty);
	if (bpf_skb_load_bytes(skb, len & 31, raw, sizeof(raw)) < 0)
		return 9999;
	d = bpf_strncmp(raw, sizeof(raw), tenant);  /* frame bytes: any byte, 0x80 and up compare unsigned */
	if (len & 1)
		raw[2] = 0;                     /* shorter than the frame's bytes */
	e = bpf_strncmp(raw, sizeof(raw), empty);
	return (__u32)((a + 2) + (b + 2) * 4 + (c + 2) * 16 + (d + 2) * 64 + (e + 2) * 256);
}

SEC("tc")
int format_buf(struct __sk_buff *skb)
{
	static const char fmt[] = "len=%u id=%-5d|%05x|%+d|% d|%X|%lld|%llx|%c%%|%s|";
	static const char ips[] = "%pI4 %pi4 %pI6";
	static const char none[] = "no arguments";
	char out[96], word[8] = "frame";
	__u8 addr[16];
	__u64 args[12], ipargs[3];
	__u32 len = skb->len;
	long n1, n2, n3, n4;
	__u32 size = (len & 3) == 0 ? 7 : sizeof(out); /* truncated, or whole */

	__builtin_memset(addr, 0, sizeof(addr));
	__builtin_memset(out, 0, sizeof(out));  /* the bytes after a truncated string are written over the frame too */
	if (bpf_skb_load_bytes(skb, len > 40 ? 22 : 0, addr, sizeof(addr)) < 0)
		return 9999;
	if (len & 4)
		word[3] = 0;
	args[0] = len;
	args[1] = (__s32)(len * 37 - 2000);
	args[2] = len * 13;
	args[3] = (__s32)(len - 100);
	args[4] = len & 0x55;
	args[5] = (__u64)addr[0] << 24 | addr[1];
	args[6] = -(__s64)len * 1000000007LL;
	args[7] = (__u64)addr[2] << 40 | len;
	args[8] = 'a' + (len % 26);
	args[9] = (__u64)(long)word;
	n1 = bpf_snprintf(out, size, fmt, args, 10 * sizeof(__u64));
	if (n1 > 0 && bpf_skb_store_bytes(skb, 0, out, len > 60 ? sizeof(out) / 2 : 8, 0) < 0)
		return 9998;
	n2 = bpf_snprintf(0, 0, fmt, args, 10 * sizeof(__u64));  /* only the length */
	ipargs[0] = ipargs[1] = (__u64)(long)addr;
	ipargs[2] = (__u64)(long)addr;
	n3 = bpf_snprintf(out, sizeof(out), ips, ipargs, sizeof(ipargs));
	if (n3 > 0 && len > 60 && bpf_skb_store_bytes(skb, sizeof(out) / 2, out, 48, 0) < 0)
		return 9997;
	n4 = bpf_snprintf(out, sizeof(out), none, 0, 0);
	return (__u32)(n1 * 1000000 + n2 * 10000 + n3 * 100 + n4);
}

SEC("tc")
int format_wide(struct __sk_buff *skb)
{
	/* Widths far past the buffer: 10000, and 99999999999, which the kernel wraps to a 32-bit int and keeps in a
	 * 24-bit field. Once the eight bytes are full, bstr_printf neither counts the dereferenced %pI4 nor steps past
	 * its text, so the %c and %s after it print that text (the length depends on the frame's address bytes). */
	static const char wide[] = "%10000d|%99999999999d|%-12s|%20pI4|%5c|%s|";
	/* Everything fits: %pI4 is copied without its width; %px pads to its width, or to 16 zero digits without one. */
	static const char fits[] = "%-12s|%20pI4|%-20px|%px|%5c|%020lld|";
	char small[8], out[96], word[8] = "wide";
	__u8 addr[4];
	__u64 args[6], more[6];
	__u32 len = skb->len;
	long n1, n2;

	__builtin_memset(small, 'Z', sizeof(small));
	__builtin_memset(out, 0, sizeof(out));
	if (bpf_skb_load_bytes(skb, len > 40 ? 26 : 0, addr, sizeof(addr)) < 0)
		return 9999;
	args[0] = len;
	args[1] = (__s32)(len * 37 - 2000);
	args[2] = (__u64)(long)word;
	args[3] = (__u64)(long)addr;
	args[4] = 'a' + (len % 26);
	args[5] = (__u64)(long)word;
	n1 = bpf_snprintf(small, sizeof(small), wide, args, sizeof(args));
	more[0] = (__u64)(long)word;
	more[1] = (__u64)(long)addr;
	more[2] = len * 7;
	more[3] = (__u64)len << 33 | 0xabc;
	more[4] = 'A' + (len % 26);
	more[5] = -(__s64)len;
	n2 = bpf_snprintf(out, sizeof(out), fits, more, sizeof(more));
	if (n1 > 0 && bpf_skb_store_bytes(skb, 0, small, sizeof(small), 0) < 0)
		return 9998;
	if (n2 > 0 && len > 60 && bpf_skb_store_bytes(skb, 8, out, sizeof(out) / 2, 0) < 0)
		return 9997;
	if (n2 > 0 && len > 110 && bpf_skb_store_bytes(skb, 56, out + sizeof(out) / 2, sizeof(out) / 2, 0) < 0)
		return 9996;
	return (__u32)(n1 | n2 << 24);
}

SEC("tc")
int format_errors(struct __sk_buff *skb)
{
	static const char fmt[] = "%d %d";
	char out[16];
	__u64 args[16] = {};
	__u32 len = skb->len;

	/* The verifier checks the format against the length's known bits (16: two arguments); at run time the
	 * length is 16 .. 124: more than 12 arguments, or not whole u64s, is -EINVAL. */
	args[0] = len;
	args[1] = len >> 2;
	return (__u32)bpf_snprintf(out, sizeof(out), fmt, args, (len & 0x6c) | 0x10);
}

SEC("tc")
int tai_clock(struct __sk_buff *skb)
{
	__u64 mono = bpf_ktime_get_ns();
	__u64 tai = bpf_ktime_get_tai_ns();
	__u64 later = bpf_ktime_get_tai_ns();
	__u64 year2024 = 1704067200ULL * 1000000000ULL;

	/* TAI counts from 1970 (a wall clock), far past the monotonic clock's boot-relative count. */
	return (tai > mono) + 2 * (later >= tai) + 4 * (tai > year2024) + 8 * (later - tai < 1000000000ULL);
}

SEC("tc")
int numa_node(struct __sk_buff *skb)
{
	/* One memory node: 0, in the kernel's test run on a single-node machine and here. */
	return bpf_get_numa_node_id() + 7;
}

SEC("tc")
int ring_query(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u64 note = len;
	long out = 0;

	if (len & 1)
		out = bpf_ringbuf_output(&notes, &note, (len & 2) ? 8 : 4, 0);
	return (__u32)(bpf_ringbuf_query(&notes, BPF_RB_AVAIL_DATA) * 3 + bpf_ringbuf_query(&notes, BPF_RB_RING_SIZE) * 5
		+ bpf_ringbuf_query(&notes, BPF_RB_CONS_POS) * 7 + bpf_ringbuf_query(&notes, BPF_RB_PROD_POS) * 11
		+ bpf_ringbuf_query(&notes, 99) * 13 + out);
}

char LICENSE[] SEC("license") = "GPL";
