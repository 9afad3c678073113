/* Masked, weighted mean squared error between one head's heatmaps and its
 * Gaussian targets (NETWORK.md §4):
 *
 *   loss = scale / (N·K·H·W) · Σ_{n,k,y,x} (w[n][k] · (O − T))²
 *
 * The mean runs over ALL N·K·H·W elements, masked landmarks (w = 0)
 * included: a missing landmark adds zeros to the sum but still counts in the
 * denominator, exactly as the reference code does, so a head's loss scale
 * does not change with the number of labelled landmarks in a batch.
 * `scale` is the head weight (1000, 3000, 3000 for the three heads).
 * Nothing is saved for backward: it reads O, T and w again. */
#pragma once

#include "pool.h"

/* Returns the loss, accumulated in double. Work is split over the pool by
 * groups of landmark planes (at most 256 groups, fixed by the dimensions);
 * the per-group partial sums are added in group order, so the value does not
 * depend on the thread count. NaN or Inf in O or T gives a non-finite loss
 * even where w = 0. */
double hy_mse_forward(const float *o, /* [N][K][H][W] heatmaps */
                      const float *t, /* [N][K][H][W] targets */
                      const float *w, /* [N][K] landmark weights */
                      float scale, int N, int K, int H, int W, hy_pool *pool);

/* dO += scale · 2 · w² · (O − T) / (N·K·H·W); exactly 0 added where w = 0
 * (for finite O and T). */
void hy_mse_backward(float *dO,      /* [N][K][H][W] */
                     const float *o, /* [N][K][H][W] */
                     const float *t, /* [N][K][H][W] */
                     const float *w, /* [N][K] */
                     float scale, int N, int K, int H, int W, hy_pool *pool);

/* The plain reference: one serial double accumulator, element by element. */
double hy_mse_forward_naive(const float *o, const float *t, const float *w,
                            float scale, int N, int K, int H, int W);
void hy_mse_backward_naive(float *dO, const float *o, const float *t,
                           const float *w, float scale, int N, int K, int H,
                           int W);
