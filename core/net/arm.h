/* Attention residual module (NETWORK.md §2), all convs without bias:
 *   s = conv3×3(x); u = ReLU(BN1(conv3×3(x))); u = BN2(conv3×3 dil 2(u));
 *   y = ReLU(CBAM(u) + s). Channels in = channels out = C. */
#pragma once

#include "cbam.h"
#include "layers.h"

typedef struct hy_arm {
  int N, C, H, W;
  int infer;     /* inference plan: CBAM's last product, the shortcut and the ReLU in one pass */
  hy_conv_layer shortcut, conv1, conv2;
  hy_bn_layer bn1, bn2;
  hy_relu_layer relu1;
  hy_cbam cbam;
  float *z;      /* [N][C][H][W] CBAM(u) + s, then ReLU in place: the output */
  float *dz;     /* gradient of the output */
  float *dpre;   /* gradient before the final ReLU */
} hy_arm;

void hy_arm_plan(hy_arm *m, hy_plan *p, const char *name, int N, int C, int H, int W);
void hy_arm_forward(hy_arm *m, const float *x, const hy_run *r);
void hy_arm_backward(hy_arm *m, float *dx, const hy_run *r);
/* Inference: folds BN1 and BN2 into their convs (see hy_conv_bn_fold). */
void hy_arm_fold_bn(hy_arm *m);
