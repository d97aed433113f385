/* Maps a program may only read (BPF_F_RDONLY_PROG) or only write (BPF_F_WRONLY_PROG): the kernel's verifier refuses
 * a program that writes into (or changes) the first, or reads the second, at load ("write into map forbidden",
 * "read from map forbidden"); map_access_kept.bpf.c keeps to the flags. */
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
