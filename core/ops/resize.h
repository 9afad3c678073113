/* Resizing of NCHW maps to any OH x OW, PyTorch's F.interpolate rules:
 *
 * nearest ('nearest', the legacy rule): output index o reads input
 *   src = min((int)((float)o * scale), in - 1),  scale = (float)in / out
 * evaluated in float exactly as PyTorch does; the exact rational
 * floor(o·in/out) differs for some sizes (in 6 -> out 74 reads input 2 at
 * o = 37 where 37·6/74 = 3). Integer factors come out exact:
 * out = 2·in repeats each pixel twice (PyTorch special-cases it), out = k·in
 * k times (checked for k <= 16, in <= 8191), out = in/k keeps every k-th
 * pixel, so H3's image[::2, ::2] is OH = H/2, OW = W/2 (for even H and W;
 * for odd sizes [::2] keeps ceil(H/2) rows and is not a nearest resize).
 *
 * bilinear with align_corners=True: output index o samples the input at
 *   real = (float)(in - 1) / (out - 1) * o   (0 when out == 1),
 *   i0 = (int)real, i1 = min(i0 + 1, in - 1), l1 = real - i0, l0 = 1 - l1,
 * and in == out is the identity; the two axes are separable (rows of
 * horizontally interpolated values, blended vertically, as in PyTorch; the
 * fast path for OW = 2W blends vertically first, so its last bits differ).
 * E.g. 2x2 -> 4x4 gives rows [1, 1.333, 1.667, 2] for an input row [1, 2].
 *
 * Backward accumulates (+=) into dx: each output's gradient is scattered to
 * the input pixels it read, with the same weights. Nothing is saved for
 * backward. Work splits over the pool by channel plane and row band;
 * results do not depend on the thread count. Constraints (not checked): all
 * dims >= 1; x and y do not overlap. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* PyTorch's nearest source index (above). */
int hy_resize_nearest_src(int o, int in, int out);

void hy_resize_nearest_forward(float *y,       /* [N][C][OH][OW] */
                               const float *x, /* [N][C][H][W] */
                               int N, int C, int H, int W, int OH, int OW,
                               hy_pool *pool);
void hy_resize_nearest_backward(float *dx,       /* [N][C][H][W] */
                                const float *dy, /* [N][C][OH][OW] */
                                int N, int C, int H, int W, int OH, int OW,
                                hy_pool *pool);

/* Floats of scratch for bilinear forward and backward: column tables plus
 * two rows per pool thread; n_threads = hy_pool_threads(pool) of the pool
 * that will be passed. */
size_t hy_resize_bilinear_scratch(int OW, int n_threads);

void hy_resize_bilinear_forward(float *y,       /* [N][C][OH][OW] */
                                const float *x, /* [N][C][H][W] */
                                int N, int C, int H, int W, int OH, int OW,
                                float *scratch, hy_pool *pool);
void hy_resize_bilinear_backward(float *dx,       /* [N][C][H][W] */
                                 const float *dy, /* [N][C][OH][OW] */
                                 int N, int C, int H, int W, int OH, int OW,
                                 float *scratch, hy_pool *pool);

/* Plain references: one output element at a time with the same index rules. */
void hy_resize_nearest_forward_naive(float *y, const float *x, int N, int C,
                                     int H, int W, int OH, int OW);
void hy_resize_nearest_backward_naive(float *dx, const float *dy, int N, int C,
                                      int H, int W, int OH, int OW);
void hy_resize_bilinear_forward_naive(float *y, const float *x, int N, int C,
                                      int H, int W, int OH, int OW);
void hy_resize_bilinear_backward_naive(float *dx, const float *dy, int N,
                                       int C, int H, int W, int OH, int OW);
