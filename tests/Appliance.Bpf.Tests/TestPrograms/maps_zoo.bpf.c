/* Loader test: one map of every supported type, with keys and values declared through typedefs,
 * const/volatile, structs, unions, enums, arrays and pointers, and key_size/value_size members. */
#include "appliance_bpf.h"

typedef __u32 tenant_id;
typedef const volatile tenant_id cv_tenant;
enum colour { RED, GREEN, BLUE };
struct pair_val { __u64 a; __u32 b[3]; };          /* 24 bytes */
union either { __u64 wide; __u8 bytes[12]; };       /* 16 bytes */
typedef struct pair_val pair_t;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, cv_tenant);
	__type(value, pair_t);
	__uint(max_entries, 100);
} z_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, union either);
	__uint(max_entries, 7);
} z_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, enum colour);
	__type(value, __u8[5]);
	__uint(max_entries, 3);
} z_percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 40);
	__uint(max_entries, 2);
} z_percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u64);
	__type(value, void *);
	__uint(max_entries, 16);
} z_lru SEC(".maps");

struct lpm6 { __u32 prefixlen; __u8 addr[16]; };

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm6);
	__type(value, __u16);
	__uint(max_entries, 32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} z_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} z_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} z_ring SEC(".maps");

SEC("tc")
int zoo(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 k64 = 1;
	enum colour c = GREEN;
	struct lpm6 lk = { .prefixlen = 128 };
	int found = 0;

	found += bpf_map_lookup_elem(&z_hash, &k) != 0;
	found += bpf_map_lookup_elem(&z_array, &k) != 0;
	found += bpf_map_lookup_elem(&z_percpu_hash, &c) != 0;
	found += bpf_map_lookup_elem(&z_percpu_array, &k) != 0;
	found += bpf_map_lookup_elem(&z_lru, &k64) != 0;
	found += bpf_map_lookup_elem(&z_lpm, &lk) != 0;
	bpf_ringbuf_output(&z_ring, &k, sizeof(k), 0);
	bpf_tail_call(skb, &z_progs, 0);
	return found;
}

char LICENSE[] SEC("license") = "GPL";
