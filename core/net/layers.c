#include "layers.h"

#include "activation.h"
#include "batchnorm.h"
#include "conv.h"
#include "conv_transpose.h"
#include "layernorm.h"
#include "linear.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

void hy_conv_layer_plan(hy_conv_layer *l, hy_plan *p, const char *name, int N,
                        int cin, int H, int W, int cout, int k, int stride,
                        int pad, int dil, int groups, int bias) {
  *l = (hy_conv_layer){.N = N, .cin = cin, .H = H, .W = W, .cout = cout, .k = k,
                       .stride = stride, .pad = pad, .dil = dil, .groups = groups};
  l->Ho = hy_conv_out_size(H, k, stride, pad, dil);
  l->Wo = hy_conv_out_size(W, k, stride, pad, dil);
  hy_plan_push(p, "%s", name);
  l->w = hy_plan_param(p, "weight", &l->gw, 4, cout, cin / groups, k, k);
  if (bias) l->b = hy_plan_param(p, "bias", &l->gb, 1, cout);
  hy_plan_pop(p);
  l->pw = l->w, l->pb = l->b;
  l->y = hy_plan_act(p, (size_t)N * cout * l->Ho * l->Wo, &l->dy);
  hy_plan_scratch(p, hy_conv_scratch(cin, H, W, cout, k, k, stride, pad, pad, dil, groups, p->threads));
}

void hy_conv_layer_forward(hy_conv_layer *l, const float *x, const hy_run *r) {
  l->x = x;
  hy_conv_forward(l->y, x, l->w, l->b, l->N, l->cin, l->H, l->W, l->cout, l->k, l->k,
                  l->stride, l->pad, l->pad, l->dil, l->groups, r->scratch, r->pool);
}

void hy_conv_relu_layer_forward(hy_conv_layer *l, hy_relu_layer *relu, const float *x,
                                const hy_run *r) {
  l->x = x;
  hy_conv_relu_forward(relu->y, x, l->w, l->b, l->N, l->cin, l->H, l->W, l->cout, l->k, l->k,
                       l->stride, l->pad, l->pad, l->dil, l->groups, r->scratch, r->pool);
}

void hy_conv_layer_backward(hy_conv_layer *l, float *dx, const hy_run *r) {
  hy_conv_backward(dx, l->gw, l->gb, l->dy, l->x, l->w, l->N, l->cin, l->H, l->W, l->cout,
                   l->k, l->k, l->stride, l->pad, l->pad, l->dil, l->groups, r->scratch, r->pool);
}

void hy_bn_layer_plan(hy_bn_layer *l, hy_plan *p, const char *name, int N, int C, int HW) {
  *l = (hy_bn_layer){.N = N, .C = C, .HW = HW};
  hy_plan_push(p, "%s", name);
  l->w = hy_plan_param(p, "weight", &l->gw, 1, C);
  l->b = hy_plan_param(p, "bias", &l->gb, 1, C);
  l->running_mean = hy_plan_buffer(p, "running_mean", 1, C);
  l->running_var = hy_plan_buffer(p, "running_var", 1, C);
  hy_plan_pop(p);
  l->mean = hy_plan_act(p, (size_t)C, NULL);
  l->rstd = hy_plan_act(p, (size_t)C, NULL);
  l->y = hy_plan_act(p, (size_t)N * C * HW, &l->dy);
}

void hy_bn_layer_forward(hy_bn_layer *l, const float *x, const hy_run *r) {
  if (l->folded) return;
  l->x = x;
  if (r->bn == HY_BN_BATCH)
    hy_batchnorm_forward_train(l->y, l->mean, l->rstd, l->running_mean, l->running_var, x, l->w,
                               l->b, l->N, l->C, l->HW, BN_EPS, BN_MOMENTUM, r->pool);
  else
    hy_batchnorm_forward_eval(l->y, x, l->running_mean, l->running_var, l->w, l->b, l->N, l->C,
                              l->HW, BN_EPS, r->pool);
}

void hy_bn_layer_backward(hy_bn_layer *l, float *dx, const hy_run *r) {
  if (r->bn == HY_BN_BATCH)
    hy_batchnorm_backward_train(dx, l->gw, l->gb, l->dy, l->x, l->mean, l->rstd, l->w, l->N,
                                l->C, l->HW, r->pool);
  else
    hy_batchnorm_backward_eval(dx, l->gw, l->gb, l->dy, l->x, l->running_mean, l->running_var,
                               l->w, l->N, l->C, l->HW, BN_EPS, r->pool);
}

void hy_relu_layer_plan(hy_relu_layer *l, hy_plan *p, size_t n) {
  l->n = n;
  l->y = hy_plan_act(p, n, &l->dy);
}

void hy_relu_layer_forward(hy_relu_layer *l, const float *x, const hy_run *r) {
  hy_relu_forward(l->y, x, (int)l->n, r->pool);
}

void hy_relu_layer_backward(hy_relu_layer *l, float *dx, const hy_run *r) {
  hy_relu_backward(dx, l->dy, l->y, (int)l->n, r->pool);
}

void hy_linear_layer_plan(hy_linear_layer *l, hy_plan *p, const char *name, int T,
                          int cin, int cout, int bias) {
  *l = (hy_linear_layer){.T = T, .cin = cin, .cout = cout};
  hy_plan_push(p, "%s", name);
  l->w = hy_plan_param(p, "weight", &l->gw, 2, cout, cin);
  if (bias) l->b = hy_plan_param(p, "bias", &l->gb, 1, cout);
  hy_plan_pop(p);
  l->y = hy_plan_act(p, (size_t)T * cout, &l->dy);
}

void hy_linear_layer_forward(hy_linear_layer *l, const float *x, const hy_run *r) {
  l->x = x;
  hy_linear_forward(l->y, x, l->w, l->b, l->T, l->cin, l->cout);
}

void hy_linear_layer_backward(hy_linear_layer *l, float *dx, const hy_run *r) {
  hy_linear_backward(dx, l->gw, l->gb, l->dy, l->x, l->w, l->T, l->cin, l->cout);
}

void hy_ln_layer_plan(hy_ln_layer *l, hy_plan *p, const char *name, int T, int C, float eps) {
  *l = (hy_ln_layer){.T = T, .C = C, .eps = eps};
  hy_plan_push(p, "%s", name);
  l->w = hy_plan_param(p, "weight", &l->gw, 1, C);
  l->b = hy_plan_param(p, "bias", &l->gb, 1, C);
  hy_plan_pop(p);
  l->mean = hy_plan_act(p, (size_t)T, NULL);
  l->rstd = hy_plan_act(p, (size_t)T, NULL);
  l->y = hy_plan_act(p, (size_t)T * C, &l->dy);
  hy_plan_scratch(p, hy_layernorm_scratch(T, C));
}

void hy_ln_layer_forward(hy_ln_layer *l, const float *x, const hy_run *r) {
  l->x = x;
  hy_layernorm_forward(l->y, l->mean, l->rstd, x, l->w, l->b, l->T, l->C, l->eps, r->pool);
}

void hy_ln_layer_backward(hy_ln_layer *l, float *dx, const hy_run *r) {
  hy_layernorm_backward(dx, l->gw, l->gb, l->dy, l->x, l->mean, l->rstd, l->w, l->T, l->C,
                        r->scratch, r->pool);
}

void hy_convt_layer_plan(hy_convt_layer *l, hy_plan *p, const char *name, int N, int cin,
                         int H, int W, int cout, int k, int stride, int pad, int bias) {
  *l = (hy_convt_layer){.N = N, .cin = cin, .H = H, .W = W, .cout = cout, .k = k,
                        .stride = stride, .pad = pad};
  l->Ho = hy_conv_transpose_out_size(H, k, stride, pad);
  l->Wo = hy_conv_transpose_out_size(W, k, stride, pad);
  hy_plan_push(p, "%s", name);
  l->w = hy_plan_param(p, "weight", &l->gw, 4, cin, cout, k, k);
  if (bias) l->b = hy_plan_param(p, "bias", &l->gb, 1, cout);
  hy_plan_pop(p);
  l->pw = l->w, l->pb = l->b;
  l->y = hy_plan_act(p, (size_t)N * cout * l->Ho * l->Wo, &l->dy);
  hy_plan_scratch(p, hy_conv_transpose_scratch(cin, H, W, cout, k, k, stride, pad, pad, p->threads));
}

void hy_convt_layer_forward(hy_convt_layer *l, const float *x, const hy_run *r) {
  l->x = x;
  hy_conv_transpose_forward(l->y, x, l->w, l->b, l->N, l->cin, l->H, l->W, l->cout, l->k, l->k,
                            l->stride, l->pad, l->pad, r->scratch, r->pool);
}

void hy_convt_relu_layer_forward(hy_convt_layer *l, hy_relu_layer *relu, const float *x,
                                 const hy_run *r) {
  l->x = x;
  hy_conv_transpose_relu_forward(relu->y, x, l->w, l->b, l->N, l->cin, l->H, l->W, l->cout, l->k,
                                 l->k, l->stride, l->pad, l->pad, r->scratch, r->pool);
}

void hy_convt_layer_backward(hy_convt_layer *l, float *dx, const hy_run *r) {
  hy_conv_transpose_backward(dx, l->gw, l->gb, l->dy, l->x, l->w, l->N, l->cin, l->H, l->W,
                             l->cout, l->k, l->k, l->stride, l->pad, l->pad, r->scratch, r->pool);
}

static void plan_fold(float **fw, float **fb, size_t nw, int cout, hy_plan *p) {
  if (p->mode != HY_INFER) return;
  hy_plan_keep(p, 1);
  *fw = hy_plan_act(p, nw, NULL);
  *fb = hy_plan_act(p, (size_t)cout, NULL);
  hy_plan_keep(p, 0);
}

void hy_conv_bn_plan_fold(hy_conv_layer *c, hy_plan *p) {
  plan_fold(&c->fw, &c->fb, (size_t)c->cout * (c->cin / c->groups) * c->k * c->k, c->cout, p);
}

void hy_convt_bn_plan_fold(hy_convt_layer *c, hy_plan *p) {
  plan_fold(&c->fw, &c->fb, (size_t)c->cin * c->cout * c->k * c->k, c->cout, p);
}

static void fold(float **w, float **b, float *fw, float *fb, const float *pw, const float *pb,
                 hy_bn_layer *bn, float **y_out, float *conv_y, int outer, int cout, int inner) {
  if (!fw) return;
  hy_batchnorm_fold(fw, fb, pw, pb, bn->running_mean, bn->running_var, bn->w, bn->b, outer, cout,
                    inner, BN_EPS);
  *w = fw, *b = fb;
  bn->folded = 1;
  *y_out = conv_y;
}

void hy_conv_bn_fold(hy_conv_layer *c, hy_bn_layer *bn) {
  fold(&c->w, &c->b, c->fw, c->fb, c->pw, c->pb, bn, &bn->y, c->y, 1, c->cout,
       (c->cin / c->groups) * c->k * c->k);
}

void hy_convt_bn_fold(hy_convt_layer *c, hy_bn_layer *bn) {
  fold(&c->w, &c->b, c->fw, c->fb, c->pw, c->pb, bn, &bn->y, c->y, c->cin, c->cout, c->k * c->k);
}
