/* See inner_map_limits.h: the inner template is a per-CPU array with a value over 32 KiB (E2BIG). */
#define INNER_TYPE BPF_MAP_TYPE_PERCPU_ARRAY
#define INNER_VALUE 32769
#include "inner_map_limits.h"
