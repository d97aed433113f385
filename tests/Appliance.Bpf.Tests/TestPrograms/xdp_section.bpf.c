/* An XDP program beside a tc one. The XDP program uses no XDP helper, so only its section can tell the
 * engine (which runs tc programs: struct __sk_buff, TC_ACT_* verdicts) that it must not run it: as tc it
 * would read xdp_md.data (offset 0) as __sk_buff.len, and its XDP_PASS (2) would mean TC_ACT_SHOT. */
#include "appliance_bpf.h"

SEC("xdp")
int short_frames(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	return data + 60 > data_end ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int long_frames(struct __sk_buff *skb)
{
	return skb->len > 60 ? TC_ACT_OK : TC_ACT_SHOT;
}

char _license[] SEC("license") = "GPL";
