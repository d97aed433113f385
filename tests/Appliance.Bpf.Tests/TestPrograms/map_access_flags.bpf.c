/* Maps a program may only read (BPF_F_RDONLY_PROG) or only write (BPF_F_WRONLY_PROG): the kernel's verifier refuses
 * a program that writes into (or changes) the first, or reads the second, at load ("write into map forbidden",
 * "read from map forbidden"), itself or through a helper it hands the value to; map_access_kept.bpf.c keeps to the
 * flags. */
#include "appliance_bpf.h"
#include "map_access_maps.h"

SEC("tc")
int write_ro_value(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	if (v)
		*v = skb->len;
	return TC_ACT_OK;
}

SEC("tc")
int add_ro_value(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return TC_ACT_OK;
}

SEC("tc")
int update_ro(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 value = skb->len;

	return bpf_map_update_elem(&ro, &key, &value, BPF_ANY);
}

SEC("tc")
int delete_ro_hash(struct __sk_buff *skb)
{
	__u32 key = skb->len & 3;

	return bpf_map_delete_elem(&ro_hash, &key);
}

SEC("tc")
int push_ro_queue(struct __sk_buff *skb)
{
	__u64 value = skb->len;

	return bpf_map_push_elem(&ro_queue, &value, 0);
}

SEC("tc")
int pop_ro_queue(struct __sk_buff *skb)
{
	__u64 value = 0;

	return bpf_map_pop_elem(&ro_queue, &value) ?: (int)value;
}

SEC("tc")
int load_into_ro(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	return v ? bpf_skb_load_bytes(skb, 0, v, 8) : TC_ACT_OK;
}

/* The same write, through a pointer a static function picks: the kernel follows it, the engine's analysis does not
 * (a call's result is unknown to it), so only the run stops the write here. */
static __noinline __u64 *pick(__u64 *a, __u64 *b, __u32 which)
{
	return which ? a : b;
}

SEC("tc")
int load_into_ro_lost(struct __sk_buff *skb)
{
	__u32 key = 0, other = 1;
	__u64 *v = bpf_map_lookup_elem(&ro, &key), *w = bpf_map_lookup_elem(&ro, &other);

	return v && w ? bpf_skb_load_bytes(skb, 0, pick(v, w, skb->len & 1), 8) : TC_ACT_OK;
}

/* Helpers writing into a read-only value: each is refused at load ("write into map forbidden"). */
SEC("tc")
int load_relative_into_ro(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	return v ? bpf_skb_load_bytes_relative(skb, 0, v, 8, BPF_HDR_START_NET) : TC_ACT_OK;
}

/* A length known only by its bounds: the kernel checks the access type whatever the length. */
SEC("tc")
int load_some_into_ro(struct __sk_buff *skb)
{
	__u32 key = 0, length = skb->len & 31;
	struct params *p = bpf_map_lookup_elem(&ro_params, &key);

	return p && length ? bpf_skb_load_bytes(skb, 0, p, length) : TC_ACT_OK;
}

SEC("tc")
int peek_into_ro(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	return v ? bpf_map_peek_elem(&queue, v) : TC_ACT_OK;
}

SEC("tc")
int mtu_into_ro(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	return v ? bpf_check_mtu(skb, 0, (__u32 *)v, 0, 0) : TC_ACT_OK;
}

SEC("tc")
int fib_into_ro(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct params *p = bpf_map_lookup_elem(&ro_params, &key);

	return p ? bpf_fib_lookup(skb, (void *)p, sizeof(*p), 0) : TC_ACT_OK;
}

SEC("tc")
int snprintf_into_ro(struct __sk_buff *skb)
{
	static const char format[] = "%u";
	__u64 args[1] = { skb->len };
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	return v ? bpf_snprintf((char *)v, 8, format, args, sizeof(args)) : TC_ACT_OK;
}

/* .rodata is read-only to programs too: a global's address handed to a helper that writes it. */
const volatile __u64 constant = 7;

SEC("tc")
int load_into_rodata(struct __sk_buff *skb)
{
	return bpf_skb_load_bytes(skb, 0, (void *)&constant, 8);
}

/* Helpers reading a write-only value: each is refused at load ("read from map forbidden"). */
SEC("tc")
int csum_diff_wo(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? bpf_csum_diff(0, 0, (__be32 *)v, 8, 0) : TC_ACT_OK;
}

SEC("tc")
int ringbuf_output_wo(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? bpf_ringbuf_output(&events, v, 8, 0) : TC_ACT_OK;
}

SEC("tc")
int update_from_wo(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 hkey = skb->len, *v = bpf_map_lookup_elem(&wo, &key);

	return v ? bpf_map_update_elem(&plain, &hkey, v, BPF_ANY) : TC_ACT_OK;
}

SEC("tc")
int lookup_by_wo_key(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v && bpf_map_lookup_elem(&plain, v) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int push_from_wo(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? bpf_map_push_elem(&queue, v, 0) : TC_ACT_OK;
}

SEC("tc")
int store_bytes_from_wo(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? bpf_skb_store_bytes(skb, 0, v, 8, 0) : TC_ACT_OK;
}

SEC("tc")
int strncmp_wo(struct __sk_buff *skb)
{
	static const char word[] = "word";
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? bpf_strncmp((char *)v, 8, word) : TC_ACT_OK;
}

SEC("tc")
int redirect_neigh_wo(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct params *p = bpf_map_lookup_elem(&wo_params, &key);

	return p ? bpf_redirect_neigh(1, (void *)p, 20, 0) : TC_ACT_OK;
}

SEC("tc")
int read_wo_value(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	return v ? (int)*v : TC_ACT_OK;
}

SEC("tc")
int add_wo_value(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&wo, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
