/* Thread pool and arena: every task runs exactly once on a valid thread;
 * the arena's measure/commit/rewind walk gives aligned, disjoint buffers. */
#include <stdatomic.h>

#include "hyatt.h"
#include "testutil.h"

typedef struct {
  atomic_int hits[1000];
  atomic_int bad_thread;
  int n_threads;
} pool_ctx;

static void count_task(void *p, int task, int thread) {
  pool_ctx *c = p;
  atomic_fetch_add(&c->hits[task], 1);
  if (thread < 0 || thread >= c->n_threads) atomic_store(&c->bad_thread, 1);
}

static void test_pool_runs_every_task_once(void) {
  for (int threads = 1; threads <= 4; threads++) {
    hy_pool *pool = NULL;
    hy_error err = {0};
    g_assert_cmpint(hy_pool_create(&pool, threads, &err), ==, HY_OK);
    g_assert_cmpint(hy_pool_threads(pool), ==, threads);
    for (int n = 0; n <= 1000; n += 97) {
      pool_ctx *c = g_new0(pool_ctx, 1);
      c->n_threads = threads;
      hy_pool_run(pool, n, count_task, c);
      for (int i = 0; i < 1000; i++) g_assert_cmpint(c->hits[i], ==, i < n ? 1 : 0);
      g_assert_cmpint(c->bad_thread, ==, 0);
      g_free(c);
    }
    hy_pool_destroy(pool);
  }
}

static void test_pool_rejects_bad_count(void) {
  hy_pool *pool = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_pool_create(&pool, 0, &err), ==, HY_E_ARG);
  g_assert_null(pool);
  g_assert_nonnull(strstr(err.msg, "thread count"));
}

static float *walk(hy_arena *a, float **b, float **c) {
  float *x = hy_arena_floats(a, 3);
  *b = hy_arena_floats(a, 100);
  *c = hy_arena_floats(a, 1);
  return x;
}

static void test_arena_plan(void) {
  hy_arena a;
  hy_arena_init(&a);
  float *b, *c;
  g_assert_null(walk(&a, &b, &c));
  g_assert_null(b);
  hy_error err = {0};
  g_assert_cmpint(hy_arena_commit(&a, &err), ==, HY_OK);
  float *x = walk(&a, &b, &c);
  g_assert_nonnull(x);
  g_assert_cmpuint((uintptr_t)x % HY_ALIGN, ==, 0);
  g_assert_cmpuint((uintptr_t)b % HY_ALIGN, ==, 0);
  g_assert_true(b >= x + 3 && c >= b + 100);
  g_assert_cmpfloat(b[99], ==, 0.0f); /* committed memory is zeroed */
  x[2] = b[99] = c[0] = 1.0f;
  g_assert_false(hy_arena_overflowed(&a));
  hy_arena_rewind(&a);
  float *x2 = walk(&a, &b, &c);
  g_assert_true(x2 == x);
  g_assert_null(hy_arena_floats(&a, 1 << 20)); /* beyond the plan */
  g_assert_true(hy_arena_overflowed(&a));
  hy_arena_free(&a);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pool/every-task-once", test_pool_runs_every_task_once);
  g_test_add_func("/pool/bad-count", test_pool_rejects_bad_count);
  g_test_add_func("/arena/plan", test_arena_plan);
  return g_test_run();
}
