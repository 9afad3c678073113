/* Zero padding at the bottom and right of a channels-last token map, and
 * the crop back: BRA pads LayerNorm's output so that H and W become
 * multiples of the region count S (NETWORK.md §2 BRA step 1) and crops its
 * output (step 8). Padded tokens are exact zeros.
 *
 *   pad:  y[n][h][w][c] = x[n][h][w][c] for h < H and w < W, else 0
 *   crop: y[n][h][w][c] = x[n][h][w][c] for h < H, w < W  (x is Hp x Wp)
 *
 * pad's backward is a crop of dy and crop's backward a pad of dy; both
 * accumulate (+=) into dx (crop's backward leaves dx's padding untouched).
 * Nothing is saved for backward. Work splits over the pool by rows of
 * tokens. Constraints (not checked): all dims >= 1, Hp >= H, Wp >= W,
 * x and y do not overlap. */
#pragma once

#include "pool.h"

/* The smallest multiple of S that is >= n (n, S >= 1). */
int hy_pad_to_multiple(int n, int S);

void hy_pad_forward(float *y,       /* [N][Hp][Wp][C] */
                    const float *x, /* [N][H][W][C] */
                    int N, int H, int W, int C, int Hp, int Wp, hy_pool *pool);
void hy_pad_backward(float *dx,       /* [N][H][W][C] */
                     const float *dy, /* [N][Hp][Wp][C] */
                     int N, int H, int W, int C, int Hp, int Wp, hy_pool *pool);

void hy_crop_forward(float *y,       /* [N][H][W][C] */
                     const float *x, /* [N][Hp][Wp][C] */
                     int N, int H, int W, int C, int Hp, int Wp, hy_pool *pool);
void hy_crop_backward(float *dx,       /* [N][Hp][Wp][C] */
                      const float *dy, /* [N][H][W][C] */
                      int N, int H, int W, int C, int Hp, int Wp, hy_pool *pool);

/* Plain references: one element at a time. */
void hy_pad_forward_naive(float *y, const float *x, int N, int H, int W, int C,
                          int Hp, int Wp);
void hy_pad_backward_naive(float *dx, const float *dy, int N, int H, int W,
                           int C, int Hp, int Wp);
void hy_crop_forward_naive(float *y, const float *x, int N, int H, int W, int C,
                           int Hp, int Wp);
void hy_crop_backward_naive(float *dx, const float *dy, int N, int H, int W,
                            int C, int Hp, int Wp);
