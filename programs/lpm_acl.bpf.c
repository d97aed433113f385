/* lpm_acl (netkit/primary): an access list on the source IPv4 address of frames going to the tenant.
 * The most specific matching prefix decides: its value is the verdict (NETKIT_PASS 0 or NETKIT_DROP 2).
 * Frames matching no prefix, and non-IPv4 frames, get `default_verdict` (`.rodata`).
 * Maps: `acl_v4` LPM_TRIE (BPF_F_NO_PREALLOC), key struct acl_key { __u32 prefixlen; __u8 addr[4]; },
 * value __u32 verdict; `acl_hits` ARRAY[2] counting frames passed (0) and dropped (1). */
#include "appliance_bpf.h"

struct acl_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct acl_key);
	__type(value, __u32);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} acl_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} acl_hits SEC(".maps");

volatile const __u32 default_verdict = NETKIT_PASS;

static __always_inline int account(int verdict)
{
	__u32 slot = verdict == NETKIT_DROP ? 1 : 0;
	__u64 *hits = bpf_map_lookup_elem(&acl_hits, &slot);

	if (hits)
		__sync_fetch_and_add(hits, 1);
	return verdict;
}

SEC("netkit/primary")
int lpm_acl(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct acl_key key = { .prefixlen = 32 };
	__u32 *verdict;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || !pi.saddr4)
		return account(default_verdict);
	__builtin_memcpy(key.addr, &pi.saddr4, sizeof(key.addr));
	verdict = bpf_map_lookup_elem(&acl_v4, &key);
	if (!verdict)
		return account(default_verdict);
	return account(*verdict == NETKIT_DROP ? NETKIT_DROP : NETKIT_PASS);
}

char LICENSE[] SEC("license") = "GPL";
