/* One 64-byte-aligned allocation per buffer category, sized by a planning
 * pass (llm.c style). A plan walks its tensors twice: once with a measuring
 * arena (no memory, pointers NULL) to learn the size, then, after
 * hy_arena_commit(), again with hy_arena_rewind() to hand out the pointers.
 * In sanitizer builds (HY_ASAN) a poisoned red zone separates tensors, so a
 * write past one tensor is caught instead of landing in the next. */
#pragma once

#include <stddef.h>

#include "error.h"

#define HY_ALIGN 64

typedef struct hy_arena {
  char *base;      /* owned; NULL while measuring */
  int packed;      /* no red zones: tensors are back to back (64-byte aligned),
                      so the arena can be swept as one flat array (Adam) */
  int reused;      /* rewound between users that share its memory: rewinding
                      must not poison what an earlier user was handed */
  size_t capacity; /* bytes allocated at commit */
  size_t used;     /* bytes handed out (or measured) so far */
  size_t peak;     /* largest `used` seen while measuring */
} hy_arena;

/* A measuring arena: hands out NULL pointers and records the size. */
void hy_arena_init(hy_arena *a);
void hy_arena_init_packed(hy_arena *a);

/* Allocates (zeroed) the measured size; the arena then hands out real memory. */
hy_status hy_arena_commit(hy_arena *a, hy_error *err);

/* Starts handing out from the beginning again (same layout). */
void hy_arena_rewind(hy_arena *a);

/* n floats, 64-byte aligned; NULL while measuring or if the plan outgrows
 * the committed size (a planning bug: check hy_arena_overflowed()). */
float *hy_arena_floats(hy_arena *a, size_t n);
void *hy_arena_bytes(hy_arena *a, size_t n);

int hy_arena_overflowed(const hy_arena *a);

/* Zeroes everything handed out (in sanitizer builds, around the red zones). */
void hy_arena_zero(hy_arena *a);

void hy_arena_free(hy_arena *a);
