/* LayerNorm over the channel axis of tokens [T][C] (channels last), as
 * PyTorch's nn.LayerNorm(C, eps): biased variance, eps inside the square
 * root, affine weight and bias:
 *   y[t][c] = (x[t][c] - mean_t) * rstd_t * weight[c] + bias[c],
 *   rstd_t = 1 / sqrt(var_t + eps)        (BiFormer uses eps = 1e-6).
 * Saved for backward: mean[T] and rstd[T]. The pool is split over bands of
 * tokens. Constraints: T, C >= 1; y may equal x in the forward (in place),
 * but backward needs x. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* mean and rstd may be NULL (inference). */
void hy_layernorm_forward(float *y,            /* [T][C] */
                          float *mean,         /* [T] saved, or NULL */
                          float *rstd,         /* [T] saved, or NULL */
                          const float *x,      /* [T][C] */
                          const float *weight, /* [C] */
                          const float *bias,   /* [C] */
                          int T, int C, float eps, hy_pool *pool);

/* Floats of scratch hy_layernorm_backward needs (per-band partial sums of
 * dweight and dbias, so the result does not depend on the thread count). */
size_t hy_layernorm_scratch(int T, int C);

/* dx += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)), g = dy * weight,
 * dweight += sum_t dy * xhat, dbias += sum_t dy; any gradient may be NULL. */
void hy_layernorm_backward(float *dx,           /* [T][C] or NULL */
                           float *dweight,      /* [C] or NULL */
                           float *dbias,        /* [C] or NULL */
                           const float *dy,     /* [T][C] */
                           const float *x,      /* [T][C] */
                           const float *mean,   /* [T] from forward */
                           const float *rstd,   /* [T] from forward */
                           const float *weight, /* [C] */
                           int T, int C,
                           float *scratch, /* hy_layernorm_scratch(T, C) */
                           hy_pool *pool);

/* Plain loops in double: the specification, used by tests. */
void hy_layernorm_forward_naive(float *y, float *mean, float *rstd,
                                const float *x, const float *weight,
                                const float *bias, int T, int C, float eps);
void hy_layernorm_backward_naive(float *dx, float *dweight, float *dbias,
                                 const float *dy, const float *x,
                                 const float *mean, const float *rstd,
                                 const float *weight, int T, int C);
