/* Softmax over the last axis of R rows of length L (numerically stable:
 * the row maximum is subtracted first; -INFINITY entries give exactly 0,
 * a row of nothing but -INFINITY gives NaN, as in PyTorch).
 * Saved for backward: the output y. The pool is split over bands of rows.
 * Constraints: R, L >= 1; y may equal x (in place). */
#pragma once

#include "pool.h"

void hy_softmax_forward(float *y,       /* [R][L] */
                        const float *x, /* [R][L] */
                        int R, int L, hy_pool *pool);

/* dx += y * (dy - sum_l dy * y), per row; dx must not alias dy or y. */
void hy_softmax_backward(float *dx,       /* [R][L] */
                         const float *dy, /* [R][L] */
                         const float *y,  /* [R][L] from forward */
                         int R, int L, hy_pool *pool);

/* libm in double: the specification, used by tests. */
void hy_softmax_forward_naive(float *y, const float *x, int R, int L);
void hy_softmax_backward_naive(float *dx, const float *dy, const float *y,
                               int R, int L);
