/* The deep-supervision heads and the correction path (NETWORK.md §1):
 *   H1 (H/4): O1 = conv1×1(D→K)(ReLU(conv3×3(D→D)(P)))
 *   H2 (H/2): G = ReLU(BN(convT 4×4 s2 p1 (D→D, no bias)(P)));
 *             O2 = conv1×1(ReLU(conv3×3(G)))
 *   H3 (H):   I = ReLU(BN(conv1×1(1→E, no bias)(image[::2, ::2])));
 *             Z = concat(G, I, O2);
 *             O3 = bilinear_up×2 (align_corners) (conv1×1(M→K)(ReLU(conv3×3(Z→M)(Z))))
 * O2 is not detached: H3's loss reaches H2 and the neck. The image branch
 * conv has no bias (BN follows it): NETWORK.md leaves that open. */
#pragma once

#include "netconfig.h"
#include "layers.h"

typedef struct hy_head {
  hy_conv_layer conv; /* 3×3, bias */
  hy_relu_layer relu;
  hy_conv_layer out;  /* 1×1 → K, bias */
} hy_head;

typedef struct hy_heads {
  int N, D, E, K, H, W; /* H×W: the network input */
  hy_head h1, h2, h3;
  hy_convt_layer up;
  hy_bn_layer up_bn;
  hy_relu_layer g;       /* G */
  float *sub;            /* [N][1][H/2][W/2] image[::2, ::2] */
  hy_conv_layer img;
  hy_bn_layer img_bn;
  hy_relu_layer i;       /* I */
  float *z, *dz;         /* [N][D+E+K][H/2][W/2] */
  float *o3, *do3;       /* [N][K][H][W] */
} hy_heads;

void hy_heads_plan(hy_heads *h, hy_plan *p, const hy_net_config *cfg, int N);
/* P: [N][D][H/4][W/4]; image: [N][1][H][W]. */
void hy_heads_forward(hy_heads *h, const float *P, const float *image, const hy_run *r);
/* Reads the gradients of O1 (h1.out.dy), O2 (h2.out.dy) and O3 (do3). */
void hy_heads_backward(hy_heads *h, float *dP, const hy_run *r);
/* Inference: folds up_bn and img_bn into their convs. */
void hy_heads_fold_bn(hy_heads *h);
