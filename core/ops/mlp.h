/* The second half of a BiFormer block in inference, fused:
 *   y = x + fc2(GELU(fc1(LayerNorm(x))))   x, y: [T][C] tokens
 * as one pass over tiles of 16 tokens whose C inputs and R hidden values
 * never leave L1. Run as separate ops (layernorm, two GEMMs, GELU, add), the
 * hidden [T][R] goes through memory twice and the GEMMs, at K = C = 8 or
 * 16, spend most of their time packing. Inference only: training keeps the
 * hidden values for the backward pass. */
#pragma once

#include <stddef.h>

#include "pool.h"

typedef struct hy_mlp_weights {
  const float *ln_w, *ln_b; /* [C] */
  float ln_eps;
  const float *w1, *b1; /* [R][C], [R] */
  const float *w2, *b2; /* [C][R], [C] */
} hy_mlp_weights;

/* Floats of scratch hy_mlp_residual_forward needs for `threads` threads. */
size_t hy_mlp_scratch_size(int C, int R, int threads);

/* 1 if this CPU runs hy_mlp_residual_forward (AVX-512); else the caller
 * runs the separate ops. */
int hy_mlp_fused_available(void);

/* y may not alias x. */
void hy_mlp_residual_forward(float *y, const float *x, const hy_mlp_weights *w, int T, int C,
                             int R, float *scratch, hy_pool *pool);

/* The same in double, from the definitions: the specification for tests. */
void hy_mlp_residual_forward_naive(float *y, const float *x, const hy_mlp_weights *w, int T,
                                   int C, int R);
