/* BiFormer block (NETWORK.md §2), NCHW in and out:
 *   x ← x + DWConv3×3(x); to tokens;
 *   t ← t + Attn(LN1(t)); t ← t + MLP(LN2(t)) (Linear C→rC, GELU, Linear rC→C);
 *   back to NCHW. Attn is BRA (stages 1-4) or global MHSA (stage 5). */
#pragma once

#include <stdint.h>

#include "bra.h"
#include "layers.h"
#include "mhsa.h"

typedef struct hy_block {
  int N, C, H, W;
  int global;            /* stage 5: MHSA instead of BRA */
  int fused_mlp;         /* inference on AVX-512: LN2 + MLP + residual in one op */
  hy_bra_dims bra;
  hy_mhsa_dims mhsa;
  hy_conv_layer pos;     /* depthwise 3×3, bias */
  float *dx1;            /* [N][C][H][W] gradient of x + pos(x) */
  float *t0, *dt0;       /* [N][H·W][C] tokens */
  hy_ln_layer norm1, norm2;
  float *qkv_w, *gqkv_w; /* [3C][C] */
  float *qkv_b, *gqkv_b; /* [3C] (BRA only) */
  float *lepe_w, *glepe_w; /* [C][1][5][5] */
  float *lepe_b, *glepe_b; /* [C] */
  float *proj_w, *gproj_w; /* [C][C] */
  float *proj_b, *gproj_b; /* [C] */
  float *cache;          /* what the attention op saves for backward */
  float *att, *datt;     /* [N][H·W][C] attention output (att: MHSA only, BRA adds t0 itself) */
  float *t1, *dt1;       /* t0 + att */
  hy_linear_layer fc1, fc2;
  float *g, *dg;         /* GELU(fc1) [N·H·W][rC] */
  float *t2, *dt2;       /* t1 + mlp */
  float *y, *dy;         /* [N][C][H][W] */
  const float *x;        /* borrowed input */
} hy_block;

/* heads/S/topk/pool describe BRA; global selects MHSA with `heads` heads. */
void hy_block_plan(hy_block *b, hy_plan *p, const char *name, int N, int C, int H, int W,
                   int mlp_ratio, int global, int heads, int S, int topk, int pool);
void hy_block_forward(hy_block *b, const float *x, const hy_run *r);
void hy_block_backward(hy_block *b, float *dx, const hy_run *r);

/* The routing of the last forward (BRA blocks only). */
const int32_t *hy_block_routing(const hy_block *b);
