#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(HY_ASAN)
#include <sanitizer/asan_interface.h>
#define RED_ZONE 64
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define RED_ZONE 0
#endif

static size_t round_up(size_t n) { return (n + HY_ALIGN - 1) & ~(size_t)(HY_ALIGN - 1); }

void hy_arena_init(hy_arena *a) { memset(a, 0, sizeof *a); }

void hy_arena_init_packed(hy_arena *a) {
  memset(a, 0, sizeof *a);
  a->packed = 1;
}

hy_status hy_arena_commit(hy_arena *a, hy_error *err) {
  size_t size = a->peak > a->used ? a->peak : a->used;
  if (size == 0) size = HY_ALIGN;
  void *p = NULL;
  if (posix_memalign(&p, HY_ALIGN, size))
    return hy_fail(err, HY_E_NOMEM, "cannot allocate %zu MiB of tensor memory",
                   size >> 20);
  memset(p, 0, size);
  if (!a->packed) ASAN_POISON_MEMORY_REGION(p, size);
  a->base = p;
  a->capacity = size;
  a->used = 0;
  return HY_OK;
}

void hy_arena_rewind(hy_arena *a) {
  if (a->used > a->peak) a->peak = a->used;
  a->used = 0;
  if (a->base && !a->packed && !a->reused) ASAN_POISON_MEMORY_REGION(a->base, a->capacity);
}

void *hy_arena_bytes(hy_arena *a, size_t n) {
  size_t start = a->used;
  size_t need = round_up(n) + (a->packed ? 0 : RED_ZONE);
  a->used += need;
  if (!a->base) {
    if (a->used > a->peak) a->peak = a->used;
    return NULL;
  }
  if (a->used > a->capacity) return NULL;
  void *p = a->base + start;
  if (!a->packed) ASAN_UNPOISON_MEMORY_REGION(p, n);
  return p;
}

float *hy_arena_floats(hy_arena *a, size_t n) {
  return hy_arena_bytes(a, n * sizeof(float));
}

#if !defined(HY_ASAN)
/* memset with non-temporal stores where the CPU has them: the gradient
 * arenas are hundreds of MB, which glibc's memset writes through the cache
 * (its streaming threshold scales with the L3), reading every line first. */
static void zero_stream(char *p, size_t n) {
#if defined(__SSE2__)
  size_t head = (size_t)(-(uintptr_t)p & 15);
  if (head > n) head = n;
  memset(p, 0, head);
  p += head, n -= head;
  __m128 z = _mm_setzero_ps();
  for (; n >= 64; p += 64, n -= 64) {
    _mm_stream_ps((float *)p, z);
    _mm_stream_ps((float *)(p + 16), z);
    _mm_stream_ps((float *)(p + 32), z);
    _mm_stream_ps((float *)(p + 48), z);
  }
  _mm_sfence();
#endif
  memset(p, 0, n);
}
#endif

void hy_arena_zero(hy_arena *a) {
  if (!a->base) return;
  size_t n = a->used < a->capacity ? a->used : a->capacity;
#if defined(HY_ASAN)
  char *p = a->base, *end = a->base + n;
  while (p < end) {
    char *bad = __asan_region_is_poisoned(p, (size_t)(end - p));
    if (!bad) bad = end;
    memset(p, 0, (size_t)(bad - p));
    p = bad;
    while (p < end && __asan_address_is_poisoned(p)) p++;
  }
#else
  zero_stream(a->base, n);
#endif
}

int hy_arena_overflowed(const hy_arena *a) { return a->base && a->used > a->capacity; }

void hy_arena_free(hy_arena *a) {
  int packed = a->packed;
  if (a->base && !a->packed) ASAN_UNPOISON_MEMORY_REGION(a->base, a->capacity);
  free(a->base);
  memset(a, 0, sizeof *a);
  a->packed = packed;
}
