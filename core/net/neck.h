/* The neck, the multi-scale half of the Feature Fusion Correction Module
 * (NETWORK.md §1): a lateral conv3×3 (C_j→D, bias) per stage 2..5, a
 * top-down pass L_{j-1} += nearest_up×2(L_j) for j = 5, 4, 3, and
 * P = conv3×3(D→D, bias)(L_2) at H/4. */
#pragma once

#include "netconfig.h"
#include "layers.h"

typedef struct hy_neck {
  int N, D;
  hy_conv_layer lateral[4]; /* stages 2..5; outputs summed top-down in place */
  hy_conv_layer smooth;     /* P */
} hy_neck;

/* h[j], w[j]: the sizes of stages 2..5. */
void hy_neck_plan(hy_neck *n, hy_plan *p, const hy_net_config *cfg, int N, const int *h,
                  const int *w);
void hy_neck_forward(hy_neck *n, const float *const feats[4], const hy_run *r);
void hy_neck_backward(hy_neck *n, float *const dfeats[4], const hy_run *r);
