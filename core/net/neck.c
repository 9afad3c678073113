#include "neck.h"

#include <stdio.h>

#include "elementwise.h"
#include "resize.h"

void hy_neck_plan(hy_neck *n, hy_plan *p, const hy_net_config *cfg, int N, const int *h,
                  const int *w) {
  hy_plan_module(p);
  n->N = N;
  n->D = cfg->neck;
  for (int j = 0; j < 4; j++) {
    char name[32];
    snprintf(name, sizeof name, "lateral.%d", j);
    hy_conv_layer_plan(&n->lateral[j], p, name, N, cfg->widths[j + 1], h[j], w[j], n->D, 3, 1, 1,
                       1, 1, 1);
  }
  /* the upsampled map of the finest top-down step is the largest */
  hy_plan_scratch(p, (size_t)N * n->D * h[0] * w[0]);
  hy_plan_keep(p, 1); /* P: the heads read it */
  hy_conv_layer_plan(&n->smooth, p, "smooth", N, n->D, h[0], w[0], n->D, 3, 1, 1, 1, 1, 1);
  hy_plan_keep(p, 0);
}

void hy_neck_forward(hy_neck *n, const float *const feats[4], const hy_run *r) {
  for (int j = 0; j < 4; j++) hy_conv_layer_forward(&n->lateral[j], feats[j], r);
  for (int j = 3; j > 0; j--) {
    hy_conv_layer *hi = &n->lateral[j], *lo = &n->lateral[j - 1];
    hy_resize_nearest_forward(r->scratch, hi->y, n->N, n->D, hi->Ho, hi->Wo, lo->Ho, lo->Wo, r->pool);
    hy_add_inplace_forward(lo->y, r->scratch, (size_t)n->N * n->D * lo->Ho * lo->Wo, r->pool);
  }
  hy_conv_layer_forward(&n->smooth, n->lateral[0].y, r);
}

void hy_neck_backward(hy_neck *n, float *const dfeats[4], const hy_run *r) {
  hy_conv_layer_backward(&n->smooth, n->lateral[0].dy, r);
  /* each summed map's gradient flows unchanged to its own lateral conv and,
   * through the upsampling, to the coarser map */
  for (int j = 1; j < 4; j++) {
    hy_conv_layer *hi = &n->lateral[j], *lo = &n->lateral[j - 1];
    hy_resize_nearest_backward(hi->dy, lo->dy, n->N, n->D, hi->Ho, hi->Wo, lo->Ho, lo->Wo, r->pool);
  }
  for (int j = 0; j < 4; j++) hy_conv_layer_backward(&n->lateral[j], dfeats[j], r);
}
