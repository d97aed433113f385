/* Maps on either side of the kernel's creation limits (kernel 6.18, 4 KiB pages; map_alloc_check of each type):
 * each *_over map is refused by the kernel and the engine, each *_largest / *_ok one is made by both. */
#include "appliance_bpf.h"

#define MAP(name, map_type, key, value, flags)          \
	struct {                                         \
		__uint(type, map_type);                  \
		__uint(key_size, key);                   \
		__uint(value_size, value);               \
		__uint(max_entries, 1);                  \
		__uint(map_flags, flags);                \
	} name SEC(".maps")

/* A per-CPU value, rounded up to 8, is at most PCPU_MIN_UNIT_SIZE (32 KiB). */
MAP(percpu_array_largest, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32768, 0);
MAP(percpu_array_over, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 0);
MAP(percpu_hash_over, BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 0);
MAP(lru_percpu_hash_largest, BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 32768, 0);
MAP(lru_percpu_hash_over, BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 32769, 0);

/* A hash element's key + value stay below KMALLOC_MAX_SIZE (4 MiB) minus its 48-byte header. */
MAP(hash_largest, BPF_MAP_TYPE_HASH, 4, 4194251, 0);
MAP(hash_over, BPF_MAP_TYPE_HASH, 4, 4194252, 0);

/* Keys have no cap of their own (512 was ours): key_size at least 1, and key + value below the same 4 MiB - 48 bytes,
 * for every hash type and a hash of maps (whose value is a 4-byte map reference). */
MAP(hash_key_none, BPF_MAP_TYPE_HASH, 0, 8, 0);
MAP(hash_key_513, BPF_MAP_TYPE_HASH, 513, 8, 0);
MAP(hash_key_largest, BPF_MAP_TYPE_HASH, 4194247, 8, 0);
MAP(hash_key_over, BPF_MAP_TYPE_HASH, 4194248, 8, 0);
MAP(percpu_hash_key_largest, BPF_MAP_TYPE_PERCPU_HASH, 4194247, 8, 0);
MAP(percpu_hash_key_over, BPF_MAP_TYPE_PERCPU_HASH, 4194248, 8, 0);
MAP(lru_hash_key_largest, BPF_MAP_TYPE_LRU_HASH, 4194247, 8, 0);
MAP(lru_hash_key_over, BPF_MAP_TYPE_LRU_HASH, 4194248, 8, 0);
MAP(lru_percpu_hash_key_largest, BPF_MAP_TYPE_LRU_PERCPU_HASH, 4194247, 8, 0);
MAP(lru_percpu_hash_key_over, BPF_MAP_TYPE_LRU_PERCPU_HASH, 4194248, 8, 0);

struct small_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 1);
};

#define HASH_OF_MAPS(name, key)                          \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); \
		__uint(key_size, key);                   \
		__uint(max_entries, 1);                  \
		__array(values, struct small_inner);     \
	} name SEC(".maps")

HASH_OF_MAPS(hash_of_maps_key_513, 513);
HASH_OF_MAPS(hash_of_maps_key_largest, 4194251);
HASH_OF_MAPS(hash_of_maps_key_over, 4194252);

/* An LPM trie value is at most KMALLOC_MAX_SIZE - 256 - 24 bytes (the largest one takes more than the engine's
 * 1 GiB storage bound with its spare slots, so only the refusal is compared). */
MAP(lpm_over, BPF_MAP_TYPE_LPM_TRIE, 8, 4194025, BPF_F_NO_PREALLOC);

/* A queue or stack value is at most KMALLOC_MAX_SIZE. */
MAP(queue_largest, BPF_MAP_TYPE_QUEUE, 0, 4194304, 0);
MAP(stack_over, BPF_MAP_TYPE_STACK, 0, 4194305, 0);

/* Flags a type does not take. */
MAP(array_mmapable_ok, BPF_MAP_TYPE_ARRAY, 4, 8, BPF_F_MMAPABLE);
MAP(array_no_prealloc_over, BPF_MAP_TYPE_ARRAY, 4, 8, BPF_F_NO_PREALLOC);
MAP(hash_mmapable_over, BPF_MAP_TYPE_HASH, 4, 8, BPF_F_MMAPABLE);
MAP(lru_hash_no_prealloc_over, BPF_MAP_TYPE_LRU_HASH, 4, 8, BPF_F_NO_PREALLOC);
MAP(hash_read_write_only_over, BPF_MAP_TYPE_HASH, 4, 8, BPF_F_RDONLY | BPF_F_WRONLY);

SEC("tc")
int uses_none(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
