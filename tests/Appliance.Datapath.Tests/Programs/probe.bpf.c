/* probe: three test programs (probe_a/b/c, ids 0..2) that do what the `actions` map tells them and record what
 * they saw in `seen`. Built by the runtime tests with clang -O2 -g -target bpf.
 * actions[id]: verdict to return (NETKIT_* or any other value), bpf_redirect target + flags (when the verdict is
 * NETKIT_REDIRECT), mark/priority/cb[0] to set (0 = leave).
 * seen[id]: frames seen, the last frame's mark, priority, ifindex, ingress_ifindex, pkt_type, len, cb[0], and
 * the global sequence number of its last run (which program ran first). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct action {
	__s32 verdict;
	__u32 redirect_ifindex;
	__u32 redirect_flags;
	__u32 set_mark;
	__u32 set_priority;
	__u32 set_cb0;
};

struct observation {
	__u64 count;
	__u32 mark;
	__u32 priority;
	__u32 ifindex;
	__u32 ingress_ifindex;
	__u32 pkt_type;
	__u32 len;
	__u32 cb0;
	__u32 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct action);
	__uint(max_entries, 4);
} actions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct observation);
	__uint(max_entries, 4);
} seen SEC(".maps");

__u32 sequence = 0;

static __always_inline int probe(struct __sk_buff *skb, __u32 id)
{
	struct action *a = bpf_map_lookup_elem(&actions, &id);
	struct observation *o = bpf_map_lookup_elem(&seen, &id);
	if (!a || !o)
		return 2;
	o->count++;
	o->mark = skb->mark;
	o->priority = skb->priority;
	o->ifindex = skb->ifindex;
	o->ingress_ifindex = skb->ingress_ifindex;
	o->pkt_type = skb->pkt_type;
	o->len = skb->len;
	o->cb0 = skb->cb[0];
	o->seq = ++sequence;
	if (a->set_mark)
		skb->mark = a->set_mark;
	if (a->set_priority)
		skb->priority = a->set_priority;
	if (a->set_cb0)
		skb->cb[0] = a->set_cb0;
	if (a->verdict == 7)
		bpf_redirect(a->redirect_ifindex, a->redirect_flags);
	return a->verdict;
}

SEC("tc/probe_a")
int probe_a(struct __sk_buff *skb) { return probe(skb, 0); }

SEC("tc/probe_b")
int probe_b(struct __sk_buff *skb) { return probe(skb, 1); }

SEC("tc/probe_c")
int probe_c(struct __sk_buff *skb) { return probe(skb, 2); }



/* fault: reads 4000 bytes past the start of the packet without a bounds check; the appliance's runtime checks
 * stop it (the kernel's verifier would have refused it). */
SEC("tc/fault")
int fault(struct __sk_buff *skb)
{
	return *(volatile __u32 *)((void *)(long)skb->data + 4000);
}
char LICENSE[] SEC("license") = "GPL";
