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

char LICENSE[] SEC("license") = "GPL";
