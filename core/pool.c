#include "pool.h"

#include "blas.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct hy_pool {
  int n_threads;
  pthread_t *workers; /* owned: n_threads - 1 */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done;
  /* the current job, guarded by lock */
  hy_task_fn fn;
  void *ctx;
  int n_tasks;
  unsigned long generation;
  int busy;
  int quit;
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

static void *worker_main(void *p) {
  worker_arg arg = *(worker_arg *)p;
  free(p);
  hy_pool *pool = arg.pool;
  unsigned long seen = 0;
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    while (!pool->quit && pool->generation == seen)
      pthread_cond_wait(&pool->wake, &pool->lock);
    if (pool->quit) break;
    seen = pool->generation;
    hy_task_fn fn = pool->fn;
    void *ctx = pool->ctx;
    int n_tasks = pool->n_tasks;
    pthread_mutex_unlock(&pool->lock);
    run_block(fn, ctx, n_tasks, arg.thread, pool->n_threads);
    pthread_mutex_lock(&pool->lock);
    if (--pool->busy == 0) pthread_cond_signal(&pool->done);
  }
  pthread_mutex_unlock(&pool->lock);
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
  pool->quit = 1;
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
  pthread_mutex_lock(&pool->lock);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n_tasks = n_tasks;
  pool->busy = pool->n_threads - 1;
  pool->generation++;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);

  run_block(fn, ctx, n_tasks, 0, pool->n_threads);

  pthread_mutex_lock(&pool->lock);
  while (pool->busy > 0) pthread_cond_wait(&pool->done, &pool->lock);
  pthread_mutex_unlock(&pool->lock);
}
