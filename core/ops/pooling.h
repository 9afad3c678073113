/* Pooling ops of CBAM and BRA (NETWORK.md §2), NCHW, batch N explicit:
 *
 *   global average / max per channel   [N][C][H][W] -> [N][C]
 *   mean and max over channels         [N][C][H][W] -> [N][2][H][W]
 *                                      (channel 0 mean, 1 max: CBAM's order)
 *   adaptive average pooling           [N][C][H][W] -> [N][C][OH][OW]
 *                                      (+ a channels-last, strided variant
 *                                      for BRA's pooled keys/values)
 *
 * Max semantics: the gradient goes to ONE element, the first index in
 * memory order on ties. That is what nn.AdaptiveMaxPool2d(1), F.max_pool2d
 * and torch.max(x, dim) do (checked on torch 1.13); torch.amax instead
 * splits the gradient evenly between tied elements. Forward saves the
 * arg-max (int32) for backward. NaN inputs are not propagated (PyTorch's
 * max would return NaN): callers reject non-finite losses anyway.
 *
 * Adaptive bins follow PyTorch: output row i covers input rows
 * [floor(i*H/OH), ceil((i+1)*H/OH)), bins overlap when OH does not divide H;
 * columns alike. Output (i, j) is the mean over its bin.
 *
 * Work splits over the pool by channel plane (global pools, adaptive NCHW),
 * by image and band of pixels (channel mean/max) or by image/region (NHWC).
 * Each output is computed by one task in a fixed order, so results do not
 * depend on the thread count. Backward accumulates (+=) into dx.
 * Constraints (not checked): all dims >= 1; OH <= H and OW <= W are not
 * required (PyTorch allows OH > H, so do we). */
#pragma once

#include <stdint.h>

#include "pool.h"

/* y[n][c] = mean of x[n][c]. Nothing saved for backward. */
void hy_global_avgpool_forward(float *y,       /* [N][C] */
                               const float *x, /* [N][C][H][W] */
                               int N, int C, int H, int W, hy_pool *pool);
/* dx[n][c][.][.] += dy[n][c] / (H*W) */
void hy_global_avgpool_backward(float *dx,       /* [N][C][H][W] */
                                const float *dy, /* [N][C] */
                                int N, int C, int H, int W, hy_pool *pool);

/* y[n][c] = max of x[n][c]; saves argmax[n][c] = h*W + w of the first
 * maximum. */
void hy_global_maxpool_forward(float *y,         /* [N][C] */
                               int32_t *argmax,  /* [N][C] saved */
                               const float *x,   /* [N][C][H][W] */
                               int N, int C, int H, int W, hy_pool *pool);
/* dx[n][c][argmax[n][c]] += dy[n][c] */
void hy_global_maxpool_backward(float *dx,            /* [N][C][H][W] */
                                const float *dy,      /* [N][C] */
                                const int32_t *argmax, /* [N][C] */
                                int N, int C, int H, int W);

/* y[n][0] = mean over c of x[n][c], y[n][1] = max over c (CBAM's spatial
 * branch input, written directly in its concatenated form); saves
 * argmax[n][h][w] = the first channel holding the maximum. */
void hy_channel_meanmax_forward(float *y,        /* [N][2][H][W] */
                                int32_t *argmax, /* [N][H][W] saved */
                                const float *x,  /* [N][C][H][W] */
                                int N, int C, int H, int W, hy_pool *pool);
/* dx[n][c] += dy[n][0] / C, and dx[n][argmax][h][w] += dy[n][1][h][w] */
void hy_channel_meanmax_backward(float *dx,             /* [N][C][H][W] */
                                 const float *dy,       /* [N][2][H][W] */
                                 const int32_t *argmax, /* [N][H][W] */
                                 int N, int C, int H, int W, hy_pool *pool);

/* Adaptive average pooling to OH x OW (F.adaptive_avg_pool2d). Nothing saved
 * for backward. */
void hy_adaptive_avgpool_forward(float *y,       /* [N][C][OH][OW] */
                                 const float *x, /* [N][C][H][W] */
                                 int N, int C, int H, int W, int OH, int OW,
                                 hy_pool *pool);
void hy_adaptive_avgpool_backward(float *dx,       /* [N][C][H][W] */
                                  const float *dy, /* [N][C][OH][OW] */
                                  int N, int C, int H, int W, int OH, int OW,
                                  hy_pool *pool);

/* The same pooling on channels-last maps with token strides: map n is
 * x[n][H][W][ldx] of which channels [0, C) are pooled into y[n][OH][OW][ldy]
 * (other channels untouched). BRA: one map per region, x = the k|v part of
 * the qkv tokens (ldx = 3C), y = the pooled tokens. Needs C <= ldx, ldy. */
void hy_adaptive_avgpool_nhwc_forward(float *y,       /* [N][OH][OW][ldy] */
                                      const float *x, /* [N][H][W][ldx] */
                                      int N, int H, int W, int C, int OH,
                                      int OW, int ldx, int ldy, hy_pool *pool);
void hy_adaptive_avgpool_nhwc_backward(float *dx,       /* [N][H][W][ldx] */
                                       const float *dy, /* [N][OH][OW][ldy] */
                                       int N, int H, int W, int C, int OH,
                                       int OW, int ldx, int ldy, hy_pool *pool);

/* The bin of output index i: [*start, *end) of the input axis. */
void hy_adaptive_bin(int i, int in, int out, int *start, int *end);

/* Plain references (double accumulation, one element at a time). */
void hy_global_avgpool_forward_naive(float *y, const float *x, int N, int C,
                                     int H, int W);
void hy_global_avgpool_backward_naive(float *dx, const float *dy, int N, int C,
                                      int H, int W);
void hy_global_maxpool_forward_naive(float *y, int32_t *argmax, const float *x,
                                     int N, int C, int H, int W);
void hy_channel_meanmax_forward_naive(float *y, int32_t *argmax, const float *x,
                                      int N, int C, int H, int W);
void hy_channel_meanmax_backward_naive(float *dx, const float *dy,
                                       const int32_t *argmax, int N, int C,
                                       int H, int W);
void hy_adaptive_avgpool_forward_naive(float *y, const float *x, int N, int C,
                                       int H, int W, int OH, int OW);
void hy_adaptive_avgpool_backward_naive(float *dx, const float *dy, int N,
                                        int C, int H, int W, int OH, int OW);
void hy_adaptive_avgpool_nhwc_forward_naive(float *y, const float *x, int N,
                                            int H, int W, int C, int OH, int OW,
                                            int ldx, int ldy);
void hy_adaptive_avgpool_nhwc_backward_naive(float *dx, const float *dy, int N,
                                             int H, int W, int C, int OH,
                                             int OW, int ldx, int ldy);
