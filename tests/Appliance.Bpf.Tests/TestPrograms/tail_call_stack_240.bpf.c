/* See tail_call_stack.h: the caller holds 240 bytes, just inside the limit. */
#define PROGRAM_NAME tail_call_held_240
#define PROGRAM_STACK 240
#include "tail_call_stack.h"
