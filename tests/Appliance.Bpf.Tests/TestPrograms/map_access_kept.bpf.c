/* A program that keeps to its maps' flags (map_access_maps.h): the kernel and the engine load it and run it alike. */
#include "appliance_bpf.h"
#include "map_access_maps.h"

/* Keeping to the flags: read what is read-only, peek at a read-only queue, look up a read-only hash, write what is
 * write-only (with a store and as a helper's output), update a write-only map. */
SEC("tc")
int keeps_to_the_flags(struct __sk_buff *skb)
{
	__u32 key = 0, hkey = 1;
	__u64 *r = bpf_map_lookup_elem(&ro, &key), *w = bpf_map_lookup_elem(&wo, &key), peeked = 0, value = skb->len;
	__u64 *h = bpf_map_lookup_elem(&ro_hash, &hkey);

	if (!r || !w)
		return TC_ACT_SHOT;
	*w = *r + 5;
	key = 1;
	w = bpf_map_lookup_elem(&wo, &key);
	if (w)
		bpf_skb_load_bytes(skb, 0, w, 8);
	bpf_map_update_elem(&wo, &key, &value, BPF_ANY);
	bpf_map_peek_elem(&ro_queue, &peeked);
	return (int)(*r + peeked + (h ? *h : 0));
}

/* A write into a read-only value behind a branch on a .rodata constant that is 0: the kernel reads the frozen value at
 * load, never visits the write, and loads the program. */
const volatile int write_enabled = 0;

SEC("tc")
int dead_write(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	if (!v)
		return TC_ACT_OK;
	if (write_enabled)
		*v = skb->len;
	return (int)*v;
}

/* The same switch in front of a helper writing into the read-only value: the kernel never checks the call. */
SEC("tc")
int dead_helper_write(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	if (!v)
		return TC_ACT_OK;
	if (write_enabled)
		bpf_skb_load_bytes(skb, 0, v, 8);
	return (int)*v;
}

/* The same switch in front of an update of the read-only map, and of a bpf_loop whose callback writes its value: the
 * kernel never verifies the call or the callback. */
SEC("tc")
int dead_update(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 value = skb->len;

	return write_enabled ? bpf_map_update_elem(&ro, &key, &value, BPF_ANY) : TC_ACT_OK;
}

static long poke(__u32 index, void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	if (v)
		*v = index;
	return 1;
}

SEC("tc")
int dead_callback(struct __sk_buff *skb)
{
	if (write_enabled)
		bpf_loop(1, poke, 0, 0);
	return TC_ACT_OK;
}

/* Helpers keeping to the flags: they read read-only values (a lookup's and .rodata's) and write write-only ones, so
 * both load the program. bpf_fib_lookup reads its parameters too, but the kernel checks only the write it declares. */

SEC("tc")
int helpers_keep_to_the_flags(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *r = bpf_map_lookup_elem(&ro, &key), *w = bpf_map_lookup_elem(&wo, &key);
	struct params *p = bpf_map_lookup_elem(&wo_params, &key);
	__u32 sum;

	if (!r || !w || !p)
		return TC_ACT_SHOT;
	sum = bpf_csum_diff((__be32 *)&write_enabled, 4, (__be32 *)r, 8, 0);
	bpf_ringbuf_output(&events, r, 8, 0);
	bpf_map_update_elem(&plain, r, r, BPF_ANY);
	bpf_map_push_elem(&queue, r, 0);
	bpf_map_pop_elem(&queue, w);
	bpf_check_mtu(skb, 0, (__u32 *)w, 0, 0);
	bpf_fib_lookup(skb, (void *)p, sizeof(*p), 0);
	return sum & 0xff;
}

/* A plain value handed to a global function, which the kernel verifies on its own: both load it. */
__noinline int add_to(__u64 *v, __u32 x)
{
	if (!v)
		return 0;
	*v += x;
	return (int)*v;
}

SEC("tc")
int plain_to_global(struct __sk_buff *skb)
{
	__u64 key = 0, *v = bpf_map_lookup_elem(&plain, &key);

	return v ? add_to(v, skb->len) : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
