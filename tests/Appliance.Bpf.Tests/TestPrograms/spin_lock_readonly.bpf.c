/* A value holding a struct bpf_spin_lock in a map read-only to programs: the kernel refuses the map when it checks the
 * value's BTF (map_check_btf: EACCES), so the program that locks it cannot load. */
#include "appliance_bpf.h"

struct locked {
	__u64 count;
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, __u32);
	__type(value, struct locked);
} ro_locked SEC(".maps");

SEC("tc")
int lock_read_only(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct locked *l = bpf_map_lookup_elem(&ro_locked, &key);

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock(&l->lock);
	bpf_spin_unlock(&l->lock);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
