/* C = A B (+ bias) for GEMMs whose inner dimension K is small (the token
 * linears of the BiFormer blocks, K = C = 8..64, and the 1x1 convs of the
 * heads): all row-major, A [M][K] (lda), B [K][N] (ldb), C [M][N] (ldc).
 * At such K, sgemm spends most of its time packing A and B and zeroing C;
 * this kernel reads both in place from L1, starts from the bias and
 * applies the ReLU before its one store. AVX-512 only: where
 * hy_gemm_small_fits says no, callers use sgemm. Each C element is summed
 * over k in order, so results do not depend on the pool's thread count. */
#pragma once

#include "pool.h"

/* 1 if this CPU has the kernel and K is small enough for it. */
int hy_gemm_small_fits(int K);

/* bias_m [M] (per row), or bias_n [N] (per column), or neither (NULL). */
void hy_gemm_small(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                   int N, int K, const float *bias_m, const float *bias_n, int relu,
                   hy_pool *pool);
