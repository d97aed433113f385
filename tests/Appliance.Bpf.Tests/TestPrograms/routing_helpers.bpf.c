/* Differential test for the routing helpers. fib_probe runs bpf_fib_lookup on the query in map "query" (the
 * struct, the flags and which plen to pass) and stores the return code and the struct afterwards in map "answer";
 * fib_in_map passes the map value itself. neigh_probe and peer_probe call bpf_redirect_neigh / bpf_redirect_peer
 * with arguments picked by the frame's length. */
#include "appliance_bpf.h"
#include <linux/if_ether.h>

#define AF_INET 2
#define AF_INET6 10

struct fib_query {
	struct bpf_fib_lookup params;
	__u32 flags;
	__s32 plen;
};

struct fib_answer {
	__s64 rc;
	struct bpf_fib_lookup params;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fib_query);
} query SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fib_answer);
} answer SEC(".maps");

SEC("tc")
int fib_probe(struct __sk_buff *skb)
{
	struct {
		struct bpf_fib_lookup p;
		__u8 more[16];
	} buf = {};
	__u32 zero = 0;
	struct fib_query *q = bpf_map_lookup_elem(&query, &zero);
	struct fib_answer *a;
	long rc;

	if (!q)
		return 1;
	__builtin_memcpy(&buf.p, &q->params, sizeof(buf.p));
	if (q->plen == 64)
		rc = bpf_fib_lookup(skb, &buf.p, sizeof(buf.p), q->flags);
	else if (q->plen == 80)
		rc = bpf_fib_lookup(skb, (void *)&buf, sizeof(buf), q->flags);
	else
		rc = bpf_fib_lookup(skb, (void *)&buf, 40, q->flags);
	a = bpf_map_lookup_elem(&answer, &zero);
	if (!a)
		return 1;
	a->rc = rc;
	__builtin_memcpy(&a->params, &buf.p, sizeof(buf.p));
	return 0;
}

SEC("tc")
int fib_in_map(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct fib_query *q = bpf_map_lookup_elem(&query, &zero);
	struct fib_answer *a = bpf_map_lookup_elem(&answer, &zero);

	if (!q || !a)
		return 1;
	a->rc = bpf_fib_lookup(skb, &q->params, sizeof(q->params), q->flags);
	__builtin_memcpy(&a->params, &q->params, sizeof(q->params));
	return 0;
}

SEC("tc")
int neigh_probe(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	struct bpf_redir_neigh nh = { .nh_family = (len & 8) ? AF_INET6 : AF_INET, .ipv4_nh = bpf_htonl(0x0a140005) };
	__u64 flags = (len & 2) ? 1 : 0;

	if (len & 1)
		return bpf_redirect_neigh(5, &nh, sizeof(nh), flags);
	if (len & 4)
		return bpf_redirect_neigh(5, &nh, 8, flags);
	return bpf_redirect_neigh(5, 0, 0, flags);
}

SEC("tc")
int peer_probe(struct __sk_buff *skb)
{
	return bpf_redirect_peer(5, skb->len & 2);
}

char _license[] SEC("license") = "GPL";
