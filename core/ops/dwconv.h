/* Depthwise 2-D convolution, NCHW: nn.Conv2d(C, C, k, stride, pad,
 * groups=C), one k x k filter per channel, optional bias.
 *
 *   y[n][c][oy][ox] = b[c] + sum over ky, kx of
 *     w[c][ky][kx] * x[n][c][oy*stride - pad + ky][ox*stride - pad + kx]
 *
 * Direct, branch-free row kernel (c-dl-anchors §6.2): for each output row and
 * kernel row, one vectorisable loop over the columns where every tap is
 * inside the image, the few edge columns peeled. k = 3, 5, 7 with stride 1
 * or 2 have unrolled kernels; other k and strides take a generic loop.
 * Backward: dx by the same kernel with the flipped filter (stride 1) or a
 * per-tap scatter (stride > 1); dw[c][ky][kx] as 8-lane dot products of dy
 * with the shifted x. Forward splits N*C planes over `pool`; backward splits
 * channels (each task owns dw[c], so no reduction races). No scratch; nothing
 * saved for backward. The hot kernels have target_clones("avx2", "default").
 *
 * Constraints (unchecked): N, C, H, W, k, stride >= 1, pad >= 0,
 * Hout = (H + 2*pad - k)/stride + 1 >= 1 (same for W). */
#pragma once

#include "pool.h"

/* Output size, as hy_conv_out_size with dilation 1. */
int hy_dwconv_out_size(int in, int k, int stride, int pad);

double hy_dwconv_flops(int N, int C, int H, int W, int k, int stride, int pad);

void hy_dwconv_forward(float *y,       /* [N][C][Hout][Wout] */
                       const float *x, /* [N][C][H][W] */
                       const float *w, /* [C][1][k][k] */
                       const float *b, /* [C] or NULL */
                       int N, int C, int H, int W, int k, int stride, int pad,
                       hy_pool *pool);

/* Accumulates into dx, dw, db; any of them may be NULL. */
void hy_dwconv_backward(float *dx,       /* [N][C][H][W] */
                        float *dw,       /* [C][1][k][k] */
                        float *db,       /* [C] */
                        const float *dy, /* [N][C][Hout][Wout] */
                        const float *x,  /* [N][C][H][W] */
                        const float *w,  /* [C][1][k][k] */
                        int N, int C, int H, int W, int k, int stride, int pad,
                        hy_pool *pool);

void hy_dwconv_forward_naive(float *y, const float *x, const float *w,
                             const float *b, int N, int C, int H, int W, int k,
                             int stride, int pad);
void hy_dwconv_backward_naive(float *dx, float *dw, float *db, const float *dy,
                              const float *x, const float *w, int N, int C,
                              int H, int W, int k, int stride, int pad);
