#include "heads.h"

#include "concat.h"
#include "resize.h"

/* keep_out: the head's output is a network output (decoded after the pass). */
static void head_plan(hy_head *h, hy_plan *p, const char *name, int N, int cin, int mid,
                      int K, int H, int W, int keep_out) {
  hy_plan_push(p, "%s", name);
  hy_conv_layer_plan(&h->conv, p, "conv", N, cin, H, W, mid, 3, 1, 1, 1, 1, 1);
  hy_relu_layer_plan(&h->relu, p, (size_t)N * mid * H * W);
  if (keep_out) hy_plan_keep(p, 1);
  hy_conv_layer_plan(&h->out, p, "out", N, mid, H, W, K, 1, 1, 0, 1, 1, 1);
  if (keep_out) hy_plan_keep(p, 0);
  hy_plan_pop(p);
}

static void head_forward(hy_head *h, const float *x, const hy_run *r) {
  hy_conv_relu_layer_forward(&h->conv, &h->relu, x, r);
  hy_conv_layer_forward(&h->out, h->relu.y, r);
}

static void head_backward(hy_head *h, float *dx, const hy_run *r) {
  hy_conv_layer_backward(&h->out, h->relu.dy, r);
  hy_relu_layer_backward(&h->relu, h->conv.dy, r);
  hy_conv_layer_backward(&h->conv, dx, r);
}

void hy_heads_plan(hy_heads *h, hy_plan *p, const hy_net_config *cfg, int N) {
  int D = cfg->neck, E = cfg->img_width, K = cfg->landmarks;
  int H = cfg->in_h, W = cfg->in_w, H2 = H / 2, W2 = W / 2, H4 = H / 4, W4 = W / 4;
  hy_plan_module(p);
  h->N = N, h->D = D, h->E = E, h->K = K, h->H = H, h->W = W;
  head_plan(&h->h1, p, "head1", N, D, D, K, H4, W4, 1);
  hy_convt_layer_plan(&h->up, p, "up", N, D, H4, W4, D, 4, 2, 1, 0);
  hy_bn_layer_plan(&h->up_bn, p, "up_bn", N, D, H2 * W2);
  hy_convt_bn_plan_fold(&h->up, p);
  hy_relu_layer_plan(&h->g, p, (size_t)N * D * H2 * W2);
  head_plan(&h->h2, p, "head2", N, D, D, K, H2, W2, 1);
  h->sub = hy_plan_act(p, (size_t)N * H2 * W2, NULL);
  hy_conv_layer_plan(&h->img, p, "img", N, 1, H2, W2, E, 1, 1, 0, 1, 1, 0);
  hy_bn_layer_plan(&h->img_bn, p, "img_bn", N, E, H2 * W2);
  hy_conv_bn_plan_fold(&h->img, p);
  hy_relu_layer_plan(&h->i, p, (size_t)N * E * H2 * W2);
  h->z = hy_plan_act(p, (size_t)N * (D + E + K) * H2 * W2, &h->dz);
  if (N == 1 && h->z) { /* g, i and head 2's output are written where the concat puts them */
    h->g.y = h->z;
    h->i.y = h->z + (size_t)D * H2 * W2;
    h->h2.out.y = h->z + (size_t)(D + E) * H2 * W2; /* its own kept buffer stays untouched */
  }
  head_plan(&h->h3, p, "head3", N, D + E + K, cfg->mid_width, K, H2, W2, 0);
  hy_plan_keep(p, 1);
  h->o3 = hy_plan_act(p, (size_t)N * K * H * W, &h->do3);
  hy_plan_keep(p, 0);
  hy_plan_scratch(p, hy_resize_bilinear_scratch(W, p->threads));
}

void hy_heads_forward(hy_heads *h, const float *P, const float *image, const hy_run *r) {
  int N = h->N, H2 = h->H / 2, W2 = h->W / 2;
  head_forward(&h->h1, P, r);
  if (h->up_bn.folded) { /* inference: the BatchNorm is in the conv's weights */
    hy_convt_relu_layer_forward(&h->up, &h->g, P, r);
  } else {
    hy_convt_layer_forward(&h->up, P, r);
    hy_bn_layer_forward(&h->up_bn, h->up.y, r);
    hy_relu_layer_forward(&h->g, h->up_bn.y, r);
  }
  head_forward(&h->h2, h->g.y, r);
  hy_resize_nearest_forward(h->sub, image, N, 1, h->H, h->W, H2, W2, r->pool);
  hy_conv_layer_forward(&h->img, h->sub, r);
  hy_bn_layer_forward(&h->img_bn, h->img.y, r);
  hy_relu_layer_forward(&h->i, h->img_bn.y, r);
  const float *parts[3] = {h->g.y, h->i.y, h->h2.out.y};
  int chans[3] = {h->D, h->E, h->K};
  hy_concat_forward(h->z, parts, chans, 3, N, H2, W2, r->pool);
  head_forward(&h->h3, h->z, r);
  hy_resize_bilinear_forward(h->o3, h->h3.out.y, N, h->K, H2, W2, h->H, h->W, r->scratch, r->pool);
}

void hy_heads_backward(hy_heads *h, float *dP, const hy_run *r) {
  int N = h->N, H2 = h->H / 2, W2 = h->W / 2;
  hy_resize_bilinear_backward(h->h3.out.dy, h->do3, N, h->K, H2, W2, h->H, h->W, r->scratch, r->pool);
  head_backward(&h->h3, h->dz, r);
  float *const dparts[3] = {h->g.dy, h->i.dy, h->h2.out.dy};
  int chans[3] = {h->D, h->E, h->K};
  hy_concat_backward(dparts, h->dz, chans, 3, N, H2, W2, r->pool);
  hy_relu_layer_backward(&h->i, h->img_bn.dy, r);
  hy_bn_layer_backward(&h->img_bn, h->img.dy, r);
  hy_conv_layer_backward(&h->img, NULL, r);
  head_backward(&h->h2, h->g.dy, r);
  hy_relu_layer_backward(&h->g, h->up_bn.dy, r);
  hy_bn_layer_backward(&h->up_bn, h->up.dy, r);
  hy_convt_layer_backward(&h->up, dP, r);
  head_backward(&h->h1, dP, r);
}

void hy_heads_fold_bn(hy_heads *h) {
  hy_convt_bn_fold(&h->up, &h->up_bn);
  hy_conv_bn_fold(&h->img, &h->img_bn);
}
