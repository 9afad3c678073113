#include "pool.h"

#include "blas.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A wake-up through a condition variable takes ~60 us on this project's
 * 2-core VMs, and a forward pass hands the pool hundreds of jobs a few
 * hundred microseconds apart. So a worker spins this long for the next job
 * (and the caller for the workers' end) before it sleeps. Short enough not
 * to hold a core from OpenBLAS's threads for long (blas.c makes those
 * sleep at once). */
#define SPIN_NS 40000

struct hy_pool {
  int n_threads;
  pthread_t *workers; /* owned: n_threads - 1 */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done;
  /* the current job: written before generation is bumped (release) */
  hy_task_fn fn;
  void *ctx;
  int n_tasks;
  atomic_ulong generation;
  atomic_int busy; /* workers still on the current job */
  atomic_int quit;
  int sleepers;    /* guarded by lock: workers waiting on wake */
  int waiting;     /* guarded by lock: the caller waits on done */
};

typedef struct {
  hy_pool *pool;
  int thread;
} worker_arg;

static void run_block(hy_task_fn fn, void *ctx, int n_tasks, int thread,
                      int n_threads) {
  int begin = (int)((long long)n_tasks * thread / n_threads);
  int end = (int)((long long)n_tasks * (thread + 1) / n_threads);
  for (int t = begin; t < end; t++) fn(ctx, t, thread);
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Spins up to SPIN_NS while ready(pool, arg) is false; returns ready's last answer. */
static int spin_until(int (*ready)(hy_pool *, unsigned long), hy_pool *pool, unsigned long arg) {
  long long end = now_ns() + SPIN_NS;
  for (int i = 0;; i++) {
    if (ready(pool, arg)) return 1;
    if ((i & 63) == 63 && now_ns() > end) return 0;
    cpu_relax();
  }
}

static int new_job(hy_pool *pool, unsigned long seen) {
  return atomic_load_explicit(&pool->generation, memory_order_acquire) != seen ||
         atomic_load(&pool->quit);
}

static int all_done(hy_pool *pool, unsigned long unused) {
  (void)unused;
  return atomic_load_explicit(&pool->busy, memory_order_acquire) == 0;
}

static void *worker_main(void *p) {
  worker_arg arg = *(worker_arg *)p;
  free(p);
  hy_pool *pool = arg.pool;
  unsigned long seen = 0;
  for (;;) {
    if (!spin_until(new_job, pool, seen)) {
      pthread_mutex_lock(&pool->lock);
      pool->sleepers++;
      while (!new_job(pool, seen)) pthread_cond_wait(&pool->wake, &pool->lock);
      pool->sleepers--;
      pthread_mutex_unlock(&pool->lock);
    }
    if (atomic_load(&pool->quit)) break;
    seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
    run_block(pool->fn, pool->ctx, pool->n_tasks, arg.thread, pool->n_threads);
    if (atomic_fetch_sub_explicit(&pool->busy, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&pool->lock);
      if (pool->waiting) pthread_cond_signal(&pool->done);
      pthread_mutex_unlock(&pool->lock);
    }
  }
  return NULL;
}

hy_status hy_pool_create(hy_pool **out, int n_threads, hy_error *err) {
  *out = NULL;
  if (n_threads < 1 || n_threads > 256)
    return hy_fail(err, HY_E_ARG, "thread count %d is not in 1..256", n_threads);
  hy_pool *pool = calloc(1, sizeof *pool);
  if (!pool) return hy_fail(err, HY_E_NOMEM, "cannot allocate a thread pool");
  hy_blas_init(); /* its workers must not spin beside ours */
  pool->n_threads = n_threads;
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->busy, 0);
  atomic_init(&pool->quit, 0);
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  if (n_threads > 1) {
    pool->workers = calloc((size_t)n_threads - 1, sizeof *pool->workers);
    if (!pool->workers) {
      hy_pool_destroy(pool);
      return hy_fail(err, HY_E_NOMEM, "cannot allocate a thread pool");
    }
  }
  for (int i = 1; i < n_threads; i++) {
    worker_arg *arg = malloc(sizeof *arg);
    if (arg) *arg = (worker_arg){pool, i};
    if (!arg || pthread_create(&pool->workers[i - 1], NULL, worker_main, arg)) {
      free(arg);
      pool->n_threads = i; /* only the workers started so far get joined */
      hy_pool_destroy(pool);
      return hy_fail(err, HY_E_NOMEM, "cannot start worker thread %d", i);
    }
  }
  *out = pool;
  return HY_OK;
}

void hy_pool_destroy(hy_pool *pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->lock);
  atomic_store(&pool->quit, 1);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->workers[i - 1], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->lock);
  free(pool->workers);
  free(pool);
}

int hy_pool_threads(const hy_pool *pool) { return pool ? pool->n_threads : 1; }

void hy_pool_run(hy_pool *pool, int n_tasks, hy_task_fn fn, void *ctx) {
  if (n_tasks <= 0) return;
  if (!pool || pool->n_threads == 1 || n_tasks == 1) {
    for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
    return;
  }
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n_tasks = n_tasks;
  atomic_store_explicit(&pool->busy, pool->n_threads - 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&pool->generation, 1, memory_order_acq_rel);
  /* a worker past its spin either saw the new generation under the lock or
   * is counted in sleepers by now */
  pthread_mutex_lock(&pool->lock);
  if (pool->sleepers) pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);

  run_block(fn, ctx, n_tasks, 0, pool->n_threads);

  if (spin_until(all_done, pool, 0)) return;
  pthread_mutex_lock(&pool->lock);
  pool->waiting = 1;
  while (!all_done(pool, 0)) pthread_cond_wait(&pool->done, &pool->lock);
  pool->waiting = 0;
  pthread_mutex_unlock(&pool->lock);
}

void hy_pool_run_sgemm(hy_pool *pool, int n_tasks, hy_task_fn fn, void *ctx) {
  int prev = hy_blas_threads();
  if (prev != 1) hy_blas_set_threads(1);
  hy_pool_run(pool, n_tasks, fn, ctx);
  if (prev != 1) hy_blas_set_threads(prev);
}
