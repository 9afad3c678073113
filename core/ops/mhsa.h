/* Global multi-head self-attention of HYATT-Net's stage 5 (NETWORK.md §2,
 * "Stage-5 attention"), channels last, T = H*W tokens per image:
 *
 *   qkv = Linear(C -> 3C, no bias) per token, split [q | k | v];
 *   heads heads of d = C/heads channels: softmax(q.k^T * d^-1/2) . v over
 *     all T tokens, heads concatenated;
 *   + LePE: depthwise 5x5 conv (bias, zero padding 2) of the attention
 *     INPUT x as an H x W map (not of v);
 *   y = Linear(C -> C, bias).
 *
 * Parameters keep PyTorch's layouts: qkv_w [3C][C], lepe_w [C][1][5][5],
 * lepe_b [C], proj_w [C][C], proj_b [C].
 *
 * Every phase runs on `pool` with OpenBLAS at 1 thread (restored
 * afterwards): the token linears split rows (hy_bra_linear_*), the per-head
 * sgemm products split the N*heads (image, head) pairs. Forward and
 * backward results do not depend on the thread count.
 *
 * Saved for backward (the cache, hy_mhsa_cache_size floats, in this order):
 *   qkv   [N][T][3C]        q | k | v
 *   prob  [N][heads][T][T]  attention probabilities
 *   opre  [N][T][C]         attention output + LePE (proj input)
 * Backward also reads x.
 *
 * Constraints (unchecked): N, H, W, C, heads >= 1; C % heads == 0; all
 * buffers distinct. */
#pragma once

#include <stddef.h>

#include "pool.h"

typedef struct hy_mhsa_dims {
  int N, H, W, C, heads;
} hy_mhsa_dims;

/* Sizes in floats; the scratch size depends on the pool's thread count. */
size_t hy_mhsa_cache_size(hy_mhsa_dims d);
size_t hy_mhsa_scratch_size(hy_mhsa_dims d, int n_threads);

/* Multiply-adds x 2 of one forward pass (backward costs about twice that). */
double hy_mhsa_flops(hy_mhsa_dims d);

void hy_mhsa_forward(float *y,            /* [N][H][W][C] */
                     float *cache,        /* hy_mhsa_cache_size */
                     const float *x,      /* [N][H][W][C] */
                     const float *qkv_w,  /* [3C][C] */
                     const float *lepe_w, /* [C][1][5][5] */
                     const float *lepe_b, /* [C] */
                     const float *proj_w, /* [C][C] */
                     const float *proj_b, /* [C] */
                     hy_mhsa_dims d, float *scratch, hy_pool *pool);

/* Accumulates into every non-NULL gradient. */
void hy_mhsa_backward(float *dx,           /* [N][H][W][C] or NULL */
                      float *dqkv_w,       /* [3C][C] or NULL */
                      float *dlepe_w,      /* [C][1][5][5] or NULL */
                      float *dlepe_b,      /* [C] or NULL */
                      float *dproj_w,      /* [C][C] or NULL */
                      float *dproj_b,      /* [C] or NULL */
                      const float *dy,     /* [N][H][W][C] */
                      const float *cache,  /* from hy_mhsa_forward */
                      const float *x,      /* [N][H][W][C] */
                      const float *qkv_w,  /* [3C][C] */
                      const float *lepe_w, /* [C][1][5][5] */
                      const float *proj_w, /* [C][C] */
                      hy_mhsa_dims d, float *scratch, hy_pool *pool);

/* Plain loops (double accumulation): the specification, used by tests.
 * Scratch: hy_mhsa_naive_scratch_size floats. */
size_t hy_mhsa_naive_scratch_size(hy_mhsa_dims d);
void hy_mhsa_forward_naive(float *y, const float *x, const float *qkv_w,
                           const float *lepe_w, const float *lepe_b,
                           const float *proj_w, const float *proj_b,
                           hy_mhsa_dims d, float *scratch);
void hy_mhsa_backward_naive(float *dx, float *dqkv_w, float *dlepe_w,
                            float *dlepe_b, float *dproj_w, float *dproj_b,
                            const float *dy, const float *x,
                            const float *qkv_w, const float *lepe_w,
                            const float *lepe_b, const float *proj_w,
                            hy_mhsa_dims d, float *scratch);
