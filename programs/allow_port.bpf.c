/* allow_port (netkit/peer): a tenant may send TCP/UDP only to destination ports on an allow-list.
 * Maps: `allowed_ports` HASH, key __u16 destination port (host order), value __u64 frames allowed
 * to that port (bumped atomically). Globals: `.rodata` pass_non_l4 (frames without a TCP/UDP header,
 * e.g. ARP, ICMP, fragments, pass when 1), `.bss` dropped_frames.
 * Verdicts: NETKIT_PASS for allowed frames, NETKIT_DROP otherwise (runt frames included). */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, __u64);
	__uint(max_entries, 256);
} allowed_ports SEC(".maps");

volatile const __u32 pass_non_l4 = 1;
__u64 dropped_frames = 0;

SEC("netkit/peer")
int allow_port(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u64 *hits;

	if (parse_packet(skb, &pi) < 0)
		goto drop;
	if (pi.l4_offset == 0) {
		if (pass_non_l4)
			return NETKIT_PASS;
		goto drop;
	}
	hits = bpf_map_lookup_elem(&allowed_ports, &pi.dport);
	if (!hits)
		goto drop;
	__sync_fetch_and_add(hits, 1);
	return NETKIT_PASS;
drop:
	__sync_fetch_and_add(&dropped_frames, 1);
	return NETKIT_DROP;
}

char LICENSE[] SEC("license") = "GPL";
