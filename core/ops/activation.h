/* Elementwise activations over n floats (any layout): ReLU, GELU (exact erf
 * form, as torch.nn.GELU()), sigmoid. The pool is split over fixed chunks
 * of elements; results do not depend on the thread count. Constraint:
 * n >= 0.
 *
 * In place (y == x) is allowed in every forward. What each backward reads:
 * - ReLU: the input OR the output (pass either: x > 0 exactly where y > 0),
 *   so an in-place ReLU can still be trained;
 * - GELU: the input x, so in place only when no backward follows;
 * - sigmoid: the output y, so in place is fine for training.
 * Backwards accumulate: dx += dy * f'(.). dx must not alias dy. */
#pragma once

#include "pool.h"

/* y = max(x, 0); NaN stays NaN. */
void hy_relu_forward(float *y, const float *x, int n, hy_pool *pool);
/* dx += dy where v > 0, v = the forward's input or output. */
void hy_relu_backward(float *dx, const float *dy, const float *v, int n,
                      hy_pool *pool);

/* y = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt 2)). The fast kernel uses
 * Numerical Recipes' erfc fit and an exp that keeps x^2/2 in two parts:
 * relative error below 5e-7 everywhere, tails included (PyTorch's own
 * float GELU is much worse there). Compute-bound: about 40 operations per
 * element, several times a memory copy. */
void hy_gelu_forward(float *y, const float *x, int n, hy_pool *pool);
/* dx += dy * (Phi(x) + x * phi(x)); reads the input x. */
void hy_gelu_backward(float *dx, const float *dy, const float *x, int n,
                      hy_pool *pool);

/* x[t][c] += b[c], then y = GELU(x), for T rows of C channels: a linear
 * layer's bias added in the GELU's pass over its output, where it is in
 * cache anyway (x is left holding what hy_gelu_backward reads). */
void hy_gelu_bias_forward(float *y, float *x, const float *b, int T, int C, hy_pool *pool);

/* y = 1 / (1 + exp(-x)) */
void hy_sigmoid_forward(float *y, const float *x, int n, hy_pool *pool);
/* dx += dy * y * (1 - y); reads the output y. */
void hy_sigmoid_backward(float *dx, const float *dy, const float *y, int n,
                         hy_pool *pool);

/* libm in double: the specification, used by tests. */
void hy_gelu_forward_naive(float *y, const float *x, int n);
void hy_gelu_backward_naive(float *dx, const float *dy, const float *x, int n);
void hy_sigmoid_forward_naive(float *y, const float *x, int n);
void hy_sigmoid_backward_naive(float *dx, const float *dy, const float *y,
                               int n);
