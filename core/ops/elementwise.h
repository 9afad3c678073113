/* Elementwise add and multiply of NCHW tensors, y = a ∘ b, where the second
 * operand b is either the same shape as a or broadcast:
 *
 *   HY_BCAST_NONE     b is [N][C][H][W]
 *   HY_BCAST_CHANNEL  b is [N][C][1][1]  (CBAM's channel attention u·a)
 *   HY_BCAST_PIXEL    b is [N][1][H][W]  (CBAM's spatial attention u·m)
 *
 * plus the in-place accumulation y += x of residuals. Backward accumulates
 * (+=) into da and db (either may be NULL); for a broadcast b, db sums over
 * the broadcast axis. Multiply's backward reads both inputs again (nothing
 * else is saved). Work splits over the pool in fixed chunks, planes or pixel
 * bands; every output and every reduction is computed by one task in a
 * fixed order, so results do not depend on the thread count.
 * Constraints (not checked): dims >= 1; y may be the same array as a (not
 * as a broadcast b); gradients must not alias dy or each other. */
#pragma once

#include <stddef.h>

#include "pool.h"

typedef enum hy_bcast {
  HY_BCAST_NONE = 0,
  HY_BCAST_CHANNEL,
  HY_BCAST_PIXEL,
} hy_bcast;

/* Elements of b for the given broadcast mode. */
size_t hy_bcast_size(hy_bcast bc, int N, int C, int H, int W);

void hy_add_forward(float *y,       /* [N][C][H][W] */
                    const float *a, /* [N][C][H][W] */
                    const float *b, /* see hy_bcast */
                    hy_bcast bc, int N, int C, int H, int W, hy_pool *pool);
/* da += dy; db += dy summed over the broadcast axis */
void hy_add_backward(float *da,       /* [N][C][H][W] */
                     float *db,       /* see hy_bcast */
                     const float *dy, /* [N][C][H][W] */
                     hy_bcast bc, int N, int C, int H, int W, hy_pool *pool);

void hy_mul_forward(float *y,       /* [N][C][H][W] */
                    const float *a, /* [N][C][H][W] */
                    const float *b, /* see hy_bcast */
                    hy_bcast bc, int N, int C, int H, int W, hy_pool *pool);
/* da += dy·b; db += dy·a summed over the broadcast axis */
void hy_mul_backward(float *da,       /* [N][C][H][W] */
                     float *db,       /* see hy_bcast */
                     const float *dy, /* [N][C][H][W] */
                     const float *a,  /* [N][C][H][W] */
                     const float *b,  /* see hy_bcast */
                     hy_bcast bc, int N, int C, int H, int W, hy_pool *pool);

/* y = max(0, a·s + r), s per pixel: the tail of an ARM in inference (CBAM's
 * spatial gate, the shortcut, the ReLU) in one pass; NaN stays NaN. y may
 * be a or r. */
void hy_mul_add_relu_forward(float *y,       /* [N][C][H][W] */
                             const float *a, /* [N][C][H][W] */
                             const float *s, /* [N][1][H][W] */
                             const float *r, /* [N][C][H][W] */
                             int N, int C, int H, int W, hy_pool *pool);

/* y += x over n floats (a residual). Its backward, dx += dy, is the same
 * operation: hy_add_inplace_backward is provided for symmetry; the gradient
 * of y itself passes through unchanged. */
void hy_add_inplace_forward(float *y, const float *x, size_t n, hy_pool *pool);
void hy_add_inplace_backward(float *dx, const float *dy, size_t n,
                             hy_pool *pool);

/* Plain references: index arithmetic per element, reductions in double. */
void hy_add_forward_naive(float *y, const float *a, const float *b,
                          hy_bcast bc, int N, int C, int H, int W);
void hy_add_backward_naive(float *da, float *db, const float *dy, hy_bcast bc,
                           int N, int C, int H, int W);
void hy_mul_forward_naive(float *y, const float *a, const float *b,
                          hy_bcast bc, int N, int C, int H, int W);
void hy_mul_backward_naive(float *da, float *db, const float *dy,
                           const float *a, const float *b, hy_bcast bc, int N,
                           int C, int H, int W);
