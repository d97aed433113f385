/* See inner_map_limits.h: the inner template is a perf buffer declared without max_entries. libbpf gives the template
 * one entry per possible CPU before creating it, as it does a top-level perf buffer, so the kernel takes the object. */
#define INNER_TYPE BPF_MAP_TYPE_PERF_EVENT_ARRAY
#define INNER_VALUE 4
#define INNER_NO_MAX_ENTRIES
#include "inner_map_limits.h"
