/* One encoder stage (NETWORK.md §1): the patch embedding (conv 4×4, stride 2,
 * pad 1, bias) halves the size, then one BiFormer block and one ARM. */
#pragma once

#include "arm.h"
#include "block.h"
#include "netconfig.h"
#include "layers.h"

typedef struct hy_stage {
  hy_conv_layer embed;
  hy_block block;
  hy_arm arm;
} hy_stage;

/* Stage s (0-based) of cfg, taking N images of cin channels at H×W. */
void hy_stage_plan(hy_stage *st, hy_plan *p, const hy_net_config *cfg, int s, int N,
                   int cin, int H, int W);
void hy_stage_forward(hy_stage *st, const float *x, const hy_run *r);
/* dx may be NULL (stage 1: the input image needs no gradient). */
void hy_stage_backward(hy_stage *st, float *dx, const hy_run *r);

/* The stage's output and its gradient. */
static inline float *hy_stage_out(hy_stage *st) { return st->arm.z; }
static inline float *hy_stage_dout(hy_stage *st) { return st->arm.dz; }
