/* Speed measurement for `hyatt bench` (never for tests): the sgemm peak and
 * memory bandwidth of this machine measured in the same process, each op at
 * the shapes of a network configuration, and whole-network passes. Times are
 * the median of `reps` runs after one warm-up, inputs warm in cache. */
#pragma once

#include "error.h"
#include "netconfig.h"
#include "pool.h"

typedef struct hy_bench_row {
  char name[128]; /* what ran, with its shape */
  char pass[8];   /* "fwd", "bwd", "step" */
  double ms;      /* median wall time */
  double gflop;   /* floating-point work of one run (0: memory-bound) */
  double gbyte;   /* bytes read + written by one run (memory-bound ops) */
  int dense;      /* 1: a dense convolution (the GEMM-bound kind) */
} hy_bench_row;

typedef void (*hy_bench_sink)(const hy_bench_row *row, void *ctx);

/* GFLOP/s of cblas_sgemm 2048³ at OpenBLAS's current thread count. */
double hy_bench_sgemm_peak(int reps);
/* GB/s (read + write) of memcpy over 64 MiB. */
double hy_bench_memcpy(int reps);

/* Every op HYATT-Net uses, forward and backward, at the shapes of cfg
 * (batch 1); rows go to sink as they are measured. */
hy_status hy_bench_ops(const hy_net_config *cfg, hy_pool *pool, int reps,
                       hy_bench_sink sink, void *ctx, hy_error *err);

enum { HY_BENCH_INFER = 1, HY_BENCH_TRAIN = 2 };

/* The whole network: with HY_BENCH_INFER in which, the inference forward
 * (BatchNorm folded, as hyatt predict runs it);
 * with HY_BENCH_TRAIN, training forward, backward, and a full step (forward
 * + loss + backward + AdamW). Reports the planned memory of each plan run in
 * *infer_mb and *train_mb (0 for a plan not run). */
hy_status hy_bench_net(const hy_net_config *cfg, int which, hy_pool *pool, int reps,
                       hy_bench_sink sink, void *ctx, double *infer_mb, double *train_mb,
                       hy_error *err);

/* Median of reps runs of fn(ctx) after one warm-up, in milliseconds.
 * HY_BENCH_CLOCK=cpu in the environment times the calling thread's CPU
 * time instead of the wall clock: with 1 thread, a measure that other
 * processes on a shared machine disturb much less. */
double hy_bench_time(void (*fn)(void *ctx), void *ctx, int reps);
