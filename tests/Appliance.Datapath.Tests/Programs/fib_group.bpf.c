/* fib_group: runs bpf_fib_lookup (SKIP_NEIGH) on the query in map "query" for every frame it sees and records the
 * return code and the out ifindex in map "answers": slot 0 for group frames (the flooder's copies), slot 1 for
 * unicast frames (the forwarding worker's path). Both paths must answer alike. Always NETKIT_NEXT. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct answer {
	__s64 rc;
	__u32 ifindex;
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
	__uint(max_entries, 1);
} query SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct answer);
	__uint(max_entries, 2);
} answers SEC(".maps");

SEC("tc")
int fib_group(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 zero = 0, slot;
	struct bpf_fib_lookup p;
	struct bpf_fib_lookup *q = bpf_map_lookup_elem(&query, &zero);
	struct answer *a;

	if (data + 14 > end || !q)
		return -1;
	slot = (((__u8 *)data)[0] & 1) ? 0 : 1;
	a = bpf_map_lookup_elem(&answers, &slot);
	if (!a)
		return -1;
	__builtin_memcpy(&p, q, sizeof(p));
	a->rc = bpf_fib_lookup(skb, &p, sizeof(p), BPF_FIB_LOOKUP_SKIP_NEIGH);
	a->ifindex = p.ifindex;
	a->count++;
	return -1;
}

char _license[] SEC("license") = "GPL";
