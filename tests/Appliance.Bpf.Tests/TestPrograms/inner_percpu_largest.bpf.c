/* See inner_map_limits.h: the inner template is a per-CPU array with a 32 KiB value, which both take. */
#define INNER_TYPE BPF_MAP_TYPE_PERCPU_ARRAY
#define INNER_VALUE 32768
#include "inner_map_limits.h"
