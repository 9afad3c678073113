/* Layout changes at a BiFormer block's edges: NCHW feature maps to
 * channels-last tokens [N][H·W][C] and back. Each is the other's backward
 * (accumulating). Split over images and bands of the longer side; blocked
 * for the cache. */
#pragma once

#include "pool.h"

/* y[n][p][c] = x[n][c][p] (+ x2[n][c][p]), p = h*W + w: the BiFormer
 * block's x + pos(x) is summed on the way. */
void hy_to_tokens_forward(float *y,        /* [N][HW][C] */
                          const float *x,  /* [N][C][HW] */
                          const float *x2, /* [N][C][HW] or NULL */
                          int N, int C, int HW, hy_pool *pool);
/* dx[n][c][p] += dy[n][p][c] */
void hy_to_tokens_backward(float *dx,       /* [N][C][HW] */
                           const float *dy, /* [N][HW][C] */
                           int N, int C, int HW, hy_pool *pool);

/* y[n][c][p] = x[n][p][c] */
void hy_from_tokens_forward(float *y,       /* [N][C][HW] */
                            const float *x, /* [N][HW][C] */
                            int N, int C, int HW, hy_pool *pool);
/* dx[n][p][c] += dy[n][c][p] */
void hy_from_tokens_backward(float *dx,       /* [N][HW][C] */
                             const float *dy, /* [N][C][HW] */
                             int N, int C, int HW, hy_pool *pool);
