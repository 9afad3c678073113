/* Concatenation of NCHW tensors along channels (torch.cat(dim=1)); H3 joins
 * G, I and O2 this way (NETWORK.md §1):
 *
 *   y[n] = [x[0][n] | x[1][n] | ... | x[count-1][n]],  Cy = Σ C[i]
 *
 * Backward splits dy and accumulates (+=) each part into dx[i] (NULL
 * entries are skipped). Nothing is saved for backward. Work splits over the
 * pool by output channel plane; results do not depend on the thread count.
 * Constraints (not checked): count >= 1, every C[i] >= 1, no x[i] overlaps y
 * except one that is exactly its place in y (N = 1), which is not copied. */
#pragma once

#include "pool.h"

void hy_concat_forward(float *y,                /* [N][ΣC][H][W] */
                       const float *const *x,   /* count of [N][C[i]][H][W] */
                       const int *C, int count, /* channels of each input */
                       int N, int H, int W, hy_pool *pool);
void hy_concat_backward(float *const *dx,        /* count of [N][C[i]][H][W] */
                        const float *dy,         /* [N][ΣC][H][W] */
                        const int *C, int count, int N, int H, int W,
                        hy_pool *pool);

/* Plain references: one element at a time. */
void hy_concat_forward_naive(float *y, const float *const *x, const int *C,
                             int count, int N, int H, int W);
void hy_concat_backward_naive(float *const *dx, const float *dy, const int *C,
                              int count, int N, int H, int W);
