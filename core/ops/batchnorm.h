/* BatchNorm2d over NCHW (PyTorch semantics, pinned by fixtures):
 * - training: per-channel statistics over N, H, W (M = N*HW values);
 *   normalise with the BIASED variance, eps inside the square root:
 *     y = (x - mean) / sqrt(var + eps) * weight + bias;
 *   running stats: new = (1 - momentum) * old + momentum * batch, with the
 *   UNBIASED variance var * M / (M - 1) for running_var.
 * - eval (inference, and frozen fine-tuning): running_mean / running_var as
 *   a fixed per-channel affine; its backward is that affine's.
 * weight / bias may be NULL (affine=False: 1 and 0). The pool is split over
 * channels; no scratch. Constraints: N, C, HW >= 1, training needs M >= 2;
 * y may equal x in the forward passes (in place) but then the training
 * backward, which needs x, cannot run. */
#pragma once

#include "pool.h"

/* Saved for backward: mean[C] and rstd[C] = 1 / sqrt(var + eps).
 * running_mean / running_var (in/out) may be NULL: not tracked. */
void hy_batchnorm_forward_train(float *y,            /* [N][C][HW] */
                                float *mean,         /* [C] saved */
                                float *rstd,         /* [C] saved */
                                float *running_mean, /* [C] in/out or NULL */
                                float *running_var,  /* [C] in/out or NULL */
                                const float *x,      /* [N][C][HW] */
                                const float *weight, /* [C] or NULL */
                                const float *bias,   /* [C] or NULL */
                                int N, int C, int HW, float eps,
                                float momentum, hy_pool *pool);

/* The full formula through the batch statistics:
 *   dx += weight * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)),
 *   dweight += sum(dy * xhat), dbias += sum(dy), xhat = (x - mean) * rstd.
 * Any gradient may be NULL. */
void hy_batchnorm_backward_train(float *dx,           /* [N][C][HW] or NULL */
                                 float *dweight,      /* [C] or NULL */
                                 float *dbias,        /* [C] or NULL */
                                 const float *dy,     /* [N][C][HW] */
                                 const float *x,      /* [N][C][HW] */
                                 const float *mean,   /* [C] from forward */
                                 const float *rstd,   /* [C] from forward */
                                 const float *weight, /* [C] or NULL */
                                 int N, int C, int HW, hy_pool *pool);

/* y = (x - running_mean) / sqrt(running_var + eps) * weight + bias. */
void hy_batchnorm_forward_eval(float *y,                  /* [N][C][HW] */
                               const float *x,            /* [N][C][HW] */
                               const float *running_mean, /* [C] */
                               const float *running_var,  /* [C] */
                               const float *weight,       /* [C] or NULL */
                               const float *bias,         /* [C] or NULL */
                               int N, int C, int HW, float eps, hy_pool *pool);

/* Frozen BN (statistics fixed): dx += dy * weight * rs,
 * dweight += sum(dy * (x - running_mean) * rs), dbias += sum(dy), with
 * rs = 1 / sqrt(running_var + eps). Pass dweight = dbias = NULL to freeze
 * the affine too (torchvision's FrozenBatchNorm2d); x is read only for
 * dweight and may then be NULL. */
void hy_batchnorm_backward_eval(float *dx,                 /* [N][C][HW] or NULL */
                                float *dweight,            /* [C] or NULL */
                                float *dbias,              /* [C] or NULL */
                                const float *dy,           /* [N][C][HW] */
                                const float *x,            /* [N][C][HW] */
                                const float *running_mean, /* [C] */
                                const float *running_var,  /* [C] */
                                const float *weight,       /* [C] or NULL */
                                int N, int C, int HW, float eps, hy_pool *pool);

/* Folds an eval-mode BN into the convolution before it (exact with running
 * statistics): w' = w * s, b' = (b - running_mean) * s + bias with
 * s = weight / sqrt(running_var + eps), per output channel. The conv weight
 * is viewed as [outer][Cout][inner]: outer = 1, inner = Cin*kh*kw for a
 * convolution ([Cout][Cin][kh][kw]); outer = Cin, inner = kh*kw for a
 * transposed convolution ([Cin][Cout][kh][kw]). conv_b may be NULL (no
 * bias); b_out is always written, so the folded conv has one. In place is
 * fine (w_out == conv_w, b_out == conv_b). */
void hy_batchnorm_fold(float *w_out,              /* [outer][Cout][inner] */
                       float *b_out,              /* [Cout] */
                       const float *conv_w,       /* [outer][Cout][inner] */
                       const float *conv_b,       /* [Cout] or NULL */
                       const float *running_mean, /* [Cout] */
                       const float *running_var,  /* [Cout] */
                       const float *weight,       /* [Cout] or NULL */
                       const float *bias,         /* [Cout] or NULL */
                       int outer, int Cout, int inner, float eps);

/* Plain loops in double: the specification, used by tests. */
void hy_batchnorm_forward_train_naive(float *y, float *mean, float *rstd,
                                      float *running_mean, float *running_var,
                                      const float *x, const float *weight,
                                      const float *bias, int N, int C, int HW,
                                      float eps, float momentum);
void hy_batchnorm_backward_train_naive(float *dx, float *dweight, float *dbias,
                                       const float *dy, const float *x,
                                       const float *mean, const float *rstd,
                                       const float *weight, int N, int C,
                                       int HW);
void hy_batchnorm_forward_eval_naive(float *y, const float *x,
                                     const float *running_mean,
                                     const float *running_var,
                                     const float *weight, const float *bias,
                                     int N, int C, int HW, float eps);
void hy_batchnorm_backward_eval_naive(float *dx, float *dweight, float *dbias,
                                      const float *dy, const float *x,
                                      const float *running_mean,
                                      const float *running_var,
                                      const float *weight, int N, int C, int HW,
                                      float eps);
