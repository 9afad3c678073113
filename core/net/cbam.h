/* CBAM (NETWORK.md §2, ratio 16, kernel 7):
 *   a = σ(MLP(avgpool u) + MLP(maxpool u)), MLP = 1×1 C→C/16 → ReLU → 1×1 C/16→C
 *   (shared, no bias); u1 = u·a; m = [mean_c u1, max_c u1];
 *   out = u1 · σ(conv7×7(2→1, pad 3, no bias)(m)). */
#pragma once

#include <stdint.h>

#include "layers.h"

typedef struct hy_cbam {
  int N, C, H, W, R; /* R = max(1, C/16) */
  float *fc1, *gfc1; /* [R][C][1][1] */
  float *fc2, *gfc2; /* [C][R][1][1] */
  hy_conv_layer spatial;
  /* the two MLP passes, [N] rows each: avg then max stacked as [2N][.] */
  float *pooled, *dpooled;   /* [2N][C] */
  int32_t *max_arg;          /* [N][C] */
  float *hid, *dhid;         /* [2N][R] after ReLU (in place) */
  float *dpre;               /* [2N][R] gradient before the ReLU */
  float *mlp_out, *dmlp_out; /* [2N][C] */
  float *a, *da;             /* [N][C] channel attention after σ */
  float *u1, *du1;           /* [N][C][H][W] */
  float *m, *dm;             /* [N][2][H][W] */
  int32_t *m_arg;            /* [N][H][W] */
  float *s, *ds;             /* [N][1][H][W] spatial attention after σ */
  float *y, *dy;             /* [N][C][H][W] */
  const float *u;            /* borrowed input */
} hy_cbam;

void hy_cbam_plan(hy_cbam *m, hy_plan *p, const char *name, int N, int C, int H, int W);
void hy_cbam_forward(hy_cbam *m, const float *u, const hy_run *r);
/* The forward up to u1 and s, without out = u1 · s (which inference fuses
 * with what follows: hy_mul_add_relu_forward). */
void hy_cbam_gates_forward(hy_cbam *m, const float *u, const hy_run *r);
void hy_cbam_backward(hy_cbam *m, float *du, const hy_run *r);
