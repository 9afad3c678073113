/* Bi-level routing attention (BRA, NETWORK.md §2 steps 1-8) on LN1's output,
 * channels last:
 *
 *   pad x [N][H][W][C] with zeros (bottom/right) to Hp x Wp, multiples of S;
 *   S x S regions, region r = row*S + col, each rh x rw tokens;
 *   qkv = Linear(C -> 3C, bias) per token, split [q | k | v];
 *   routing (no gradient): A = (mean_r(q) * scale) . mean_s(k)^T, idx[r] =
 *     the topk largest A[r][.] (descending; ties: lower index first);
 *   each region's k and v adaptively average-pooled to pool x pool tokens
 *     (PyTorch bins: start floor(i*rh/pool), end ceil((i+1)*rh/pool));
 *   per query region, heads heads of C/heads channels attend over the
 *     L = topk*pool^2 pooled tokens of its routed regions:
 *     softmax((q*scale) . k^T) . v, scale = C^-1/2 (full width, not per head);
 *   + LePE: depthwise 5x5 conv (bias, zero padding 2) of v on the padded map;
 *   y = Linear(C -> C, bias), cropped to H x W.
 *
 * Parameters keep PyTorch's layouts: qkv_w [3C][C], qkv_b [3C],
 * lepe_w [C][1][5][5], lepe_b [C], proj_w [C][C], proj_b [C].
 *
 * Internally tokens are region-major, [N][S*S][rh*rw][.], so a region's
 * tokens are one strided matrix. The token linears are sgemm over row chunks
 * split on `pool` with OpenBLAS at 1 thread (restored afterwards); the
 * per-region attention products are small register-blocked kernels (head
 * width 8 against 16..128 pooled keys in `small`, where sgemm spends its
 * time packing), split by query region; the gathered k/v gradients are then
 * summed per key region (one writer each, no races). Work is cut into pieces
 * fixed by the dimensions, so forward and backward results do not depend on
 * the thread count.
 *
 * Saved for backward (the cache, hy_bra_cache_size floats, in this order,
 * each part 64-byte aligned if the cache is):
 *   qkv   [N][S*S][rh*rw][3C]         q | k | v of every padded token
 *   kvp   [N][S*S][pool^2][2C]        pooled k | v of every region
 *   stat  [N][S*S][heads][rh*rw][2]   each attention row's max logit and
 *                                     1/sum of exp (backward recomputes
 *                                     the logits and replays the softmax)
 *   opre  [N][S*S][rh*rw][C]          attention output + LePE (proj input)
 *   idx   [N][S*S][topk] int32        routed key regions (hy_bra_cache_idx)
 * Backward also reads x again (the padded input is not cached).
 *
 * Constraints (unchecked; the planner checks once): N, H, W, C, S, heads,
 * pool >= 1; C % heads == 0; 1 <= topk <= S*S; all buffers distinct. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

typedef struct hy_bra_dims {
  int N, H, W, C;
  int S;     /* regions per side */
  int topk;  /* routed regions per query region */
  int heads;
  int pool;  /* pooled tokens per side of a region's k/v (4 in HYATT-Net) */
  int infer; /* inference: no backward follows, so on AVX-512 with head width
                8 each query's softmax and product with v run in registers
                (online softmax over the routed regions), and stat is not
                written */
} hy_bra_dims;

/* Sizes in floats. The scratch size depends on the pool's thread count. */
size_t hy_bra_cache_size(hy_bra_dims d);
size_t hy_bra_scratch_size(hy_bra_dims d, int n_threads);

/* Multiply-adds x 2 of one forward pass (backward costs about twice that). */
double hy_bra_flops(hy_bra_dims d);

/* The routing indices inside a cache filled by hy_bra_forward. */
const int32_t *hy_bra_cache_idx(const float *cache, hy_bra_dims d); /* [N][S*S][topk] */

/* y = res + BRA(x): res is the block's residual (NULL: none), added as
 * the attention's output is written back. */
void hy_bra_forward(float *y,            /* [N][H][W][C] */
                    float *cache,        /* hy_bra_cache_size */
                    const float *x,      /* [N][H][W][C] */
                    const float *res,    /* [N][H][W][C] or NULL */
                    const float *qkv_w,  /* [3C][C] */
                    const float *qkv_b,  /* [3C] */
                    const float *lepe_w, /* [C][1][5][5] */
                    const float *lepe_b, /* [C] */
                    const float *proj_w, /* [C][C] */
                    const float *proj_b, /* [C] */
                    hy_bra_dims d, float *scratch, hy_pool *pool);

/* Accumulates into every non-NULL gradient. The gradient reaches k and v only
 * through the gathered pooled tokens (summed back per key region), never
 * through the routing. */
void hy_bra_backward(float *dx,           /* [N][H][W][C] or NULL */
                     float *dqkv_w,       /* [3C][C] or NULL */
                     float *dqkv_b,       /* [3C] or NULL */
                     float *dlepe_w,      /* [C][1][5][5] or NULL */
                     float *dlepe_b,      /* [C] or NULL */
                     float *dproj_w,      /* [C][C] or NULL */
                     float *dproj_b,      /* [C] or NULL */
                     const float *dy,     /* [N][H][W][C] */
                     const float *cache,  /* from hy_bra_forward */
                     const float *x,      /* [N][H][W][C] */
                     const float *qkv_w,  /* [3C][C] */
                     const float *lepe_w, /* [C][1][5][5] */
                     const float *proj_w, /* [C][C] */
                     hy_bra_dims d, float *scratch, hy_pool *pool);

/* Plain loops on the padded map (double accumulation): the specification,
 * used by tests. Scratch: hy_bra_naive_scratch_size floats. */
size_t hy_bra_naive_scratch_size(hy_bra_dims d);
void hy_bra_forward_naive(float *y,    /* [N][H][W][C] */
                          int32_t *idx, /* [N][S*S][topk] or NULL */
                          const float *x, const float *qkv_w,
                          const float *qkv_b, const float *lepe_w,
                          const float *lepe_b, const float *proj_w,
                          const float *proj_b, hy_bra_dims d, float *scratch);
void hy_bra_backward_naive(float *dx, float *dqkv_w, float *dqkv_b,
                           float *dlepe_w, float *dlepe_b, float *dproj_w,
                           float *dproj_b, const float *dy, const float *x,
                           const float *qkv_w, const float *qkv_b,
                           const float *lepe_w, const float *lepe_b,
                           const float *proj_w, const float *proj_b,
                           hy_bra_dims d, float *scratch);

/* Token linear y = x W^T + b (hy_linear_*) with the rows split into 8 fixed
 * chunks over `pool` and OpenBLAS set to 1 thread meanwhile (restored), so
 * OpenBLAS's spinning workers never compete with the pool; results do not
 * depend on the thread count. Shared with the stage-5 attention (mhsa.c).
 * Backward accumulates into dx, dw, db (any may be NULL) and needs
 * hy_bra_linear_scratch_size floats of scratch for per-chunk dw | db. */
size_t hy_bra_linear_scratch_size(int Cin, int Cout);
void hy_bra_linear_forward(float *y,       /* [T][Cout] */
                           const float *x, /* [T][Cin] */
                           const float *w, /* [Cout][Cin] */
                           const float *b, /* [Cout] or NULL */
                           int T, int Cin, int Cout, hy_pool *pool);
void hy_bra_linear_backward(float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w, int T, int Cin,
                            int Cout, float *scratch, hy_pool *pool);

/* LePE, shared with the stage-5 attention (mhsa.c): a depthwise K x K conv
 * (K odd, 1..15, stride 1, zero padding K/2, bias) over channels-last maps of
 * N images, each Hp x Wp = (S*rh) x (S*rw), stored region-major: pixel
 * (n, y, x) channel c lives at
 *   map[((n*S*S + (y/rh)*S + x/rw)*rh*rw + (y%rh)*rw + x%rw)*ld + c],
 * so S = 1 is a plain [N][Hp][Wp][ld] map. The ld strides let a map be the
 * v columns of a qkv buffer. Splits row bands over `pool`; scratch is
 * hy_bra_lepe_scratch_size floats. */
size_t hy_bra_lepe_scratch_size(int N, int S, int rh, int rw, int C, int K,
                                int n_threads);
/* out += dwconv(in) + b (b may be NULL) */
void hy_bra_lepe_forward(float *out, int ldo, const float *in, int ldi,
                         const float *w, /* [C][1][K][K] */
                         const float *b, /* [C] */
                         int N, int S, int rh, int rw, int C, int K,
                         float *scratch, hy_pool *pool);
/* din += d/din, dw += d/dw, db += d/db; any of them may be NULL. */
void hy_bra_lepe_backward(float *din, int lddi, float *dw, float *db,
                          const float *dout, int lddo, const float *in,
                          int ldi, const float *w, int N, int S, int rh,
                          int rw, int C, int K, float *scratch, hy_pool *pool);
