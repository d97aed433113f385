/* See tail_call_stack.h: the caller holds 256 bytes, so the kernel refuses the tail call. */
#define PROGRAM_NAME tail_call_held_256
#define PROGRAM_STACK 256
#include "tail_call_stack.h"
