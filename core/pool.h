/* A small pthread pool for the non-GEMM ops (NNPACK style: handed to each op
 * explicitly; NULL means "run on the caller's thread").
 * The calling thread takes part as thread 0, so a pool of n threads starts
 * n - 1 workers. Never run a pool job while a threaded sgemm runs. */
#pragma once

#include "error.h"

typedef struct hy_pool hy_pool;

/* fn is called once for every task in [0, n_tasks), on thread `thread`
 * (0 .. hy_pool_threads() - 1); each thread runs its tasks in order. */
typedef void (*hy_task_fn)(void *ctx, int task, int thread);

hy_status hy_pool_create(hy_pool **out, int n_threads, hy_error *err);
void hy_pool_destroy(hy_pool *pool);

/* 1 for a NULL pool. */
int hy_pool_threads(const hy_pool *pool);

/* Runs all tasks and returns when every one has finished. Tasks are handed
 * out in contiguous blocks, one block per thread, so which thread runs a task
 * depends only on (n_tasks, thread count): results are reproducible. */
void hy_pool_run(hy_pool *pool, int n_tasks, hy_task_fn fn, void *ctx);

/* hy_pool_run for tasks that call sgemm: OpenBLAS runs on one thread
 * meanwhile (its own workers would compete with the pool's) and gets its
 * thread count back after. */
void hy_pool_run_sgemm(hy_pool *pool, int n_tasks, hy_task_fn fn, void *ctx);
