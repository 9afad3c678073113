/* Ops bound to planned memory: a layer owns (through the plan) its
 * parameters, its output and that output's gradient, and remembers its input
 * for the backward pass. Modules (embed, block, arm, neck, heads) are built
 * from these. */
#pragma once

#include "plan.h"
#include "pool.h"

/* How BatchNorm behaves: batch statistics with running-stat updates
 * (training), or the running statistics as a fixed affine (inference and
 * fine-tuning, where one image per step makes batch statistics useless). */
typedef enum hy_bn_mode { HY_BN_BATCH = 0, HY_BN_RUNNING = 1 } hy_bn_mode;

typedef struct hy_run {
  hy_pool *pool;   /* borrowed */
  float *scratch;  /* borrowed: the plan's shared scratch */
  hy_bn_mode bn;
} hy_run;

typedef struct hy_conv_layer {
  int N, cin, H, W, cout, k, stride, pad, dil, groups, Ho, Wo;
  float *w, *gw; /* [cout][cin/groups][k][k]: what forward uses */
  float *b, *gb; /* [cout] or NULL */
  float *pw, *pb; /* the parameters themselves (w, b point at folded copies
                     once a following BatchNorm is folded in) */
  float *fw, *fb; /* inference: room for the folded copies, or NULL */
  const float *x; /* borrowed: the last forward's input [N][cin][H][W] */
  float *y, *dy;  /* [N][cout][Ho][Wo] */
} hy_conv_layer;

void hy_conv_layer_plan(hy_conv_layer *l, hy_plan *p, const char *name, int N,
                        int cin, int H, int W, int cout, int k, int stride,
                        int pad, int dil, int groups, int bias);
void hy_conv_layer_forward(hy_conv_layer *l, const float *x, const hy_run *r);
/* dx may be NULL (the input is the image). */
void hy_conv_layer_backward(hy_conv_layer *l, float *dx, const hy_run *r);

typedef struct hy_bn_layer {
  int N, C, HW;
  int folded;             /* inference: merged into the conv before it; y is its output */
  float *w, *gw, *b, *gb; /* [C] */
  float *running_mean, *running_var; /* [C] buffers */
  float *mean, *rstd;     /* [C] batch statistics saved for backward */
  const float *x;         /* borrowed [N][C][HW] */
  float *y, *dy;          /* [N][C][HW] */
} hy_bn_layer;

void hy_bn_layer_plan(hy_bn_layer *l, hy_plan *p, const char *name, int N, int C, int HW);
void hy_bn_layer_forward(hy_bn_layer *l, const float *x, const hy_run *r);
void hy_bn_layer_backward(hy_bn_layer *l, float *dx, const hy_run *r);

/* ReLU with its own output buffer. */
typedef struct hy_relu_layer {
  size_t n;
  float *y, *dy;
} hy_relu_layer;

/* The conv, then the ReLU, in one pass where the conv allows it: the
 * result lands in relu->y, l->y is not written (backward reads only
 * relu->y). */
void hy_conv_relu_layer_forward(hy_conv_layer *l, hy_relu_layer *relu, const float *x,
                                const hy_run *r);

void hy_relu_layer_plan(hy_relu_layer *l, hy_plan *p, size_t n);
void hy_relu_layer_forward(hy_relu_layer *l, const float *x, const hy_run *r);
void hy_relu_layer_backward(hy_relu_layer *l, float *dx, const hy_run *r);

typedef struct hy_linear_layer {
  int T, cin, cout;
  float *w, *gw; /* [cout][cin] */
  float *b, *gb; /* [cout] or NULL */
  const float *x; /* borrowed [T][cin] */
  float *y, *dy;  /* [T][cout] */
} hy_linear_layer;

void hy_linear_layer_plan(hy_linear_layer *l, hy_plan *p, const char *name, int T,
                          int cin, int cout, int bias);
void hy_linear_layer_forward(hy_linear_layer *l, const float *x, const hy_run *r);
void hy_linear_layer_backward(hy_linear_layer *l, float *dx, const hy_run *r);

typedef struct hy_ln_layer {
  int T, C;
  float eps;
  float *w, *gw, *b, *gb; /* [C] */
  float *mean, *rstd;     /* [T] */
  const float *x;         /* borrowed [T][C] */
  float *y, *dy;          /* [T][C] */
} hy_ln_layer;

void hy_ln_layer_plan(hy_ln_layer *l, hy_plan *p, const char *name, int T, int C, float eps);
void hy_ln_layer_forward(hy_ln_layer *l, const float *x, const hy_run *r);
void hy_ln_layer_backward(hy_ln_layer *l, float *dx, const hy_run *r);

/* Transposed convolution (groups 1), weight [cin][cout][k][k]. */
typedef struct hy_convt_layer {
  int N, cin, H, W, cout, k, stride, pad, Ho, Wo;
  float *w, *gw; /* [cin][cout][k][k]: what forward uses */
  float *b, *gb; /* [cout] or NULL */
  float *pw, *pb; /* the parameters (see hy_conv_layer) */
  float *fw, *fb; /* inference: room for the folded copies */
  const float *x;
  float *y, *dy; /* [N][cout][Ho][Wo] */
} hy_convt_layer;

void hy_convt_layer_plan(hy_convt_layer *l, hy_plan *p, const char *name, int N, int cin,
                         int H, int W, int cout, int k, int stride, int pad, int bias);
void hy_convt_layer_forward(hy_convt_layer *l, const float *x, const hy_run *r);
/* As hy_conv_relu_layer_forward. */
void hy_convt_relu_layer_forward(hy_convt_layer *l, hy_relu_layer *relu, const float *x,
                                 const hy_run *r);
void hy_convt_layer_backward(hy_convt_layer *l, float *dx, const hy_run *r);

/* BatchNorm folding for inference (research/c-dl-anchors §6.5): at plan time
 * an inference plan reserves room for the conv's folded weights and bias;
 * hy_*_bn_fold then computes them from the current parameters and running
 * statistics (exact), points the conv at them and makes the BN a no-op whose
 * output is the conv's. Call again after the parameters change. Training
 * plans reserve nothing and folding does nothing. */
void hy_conv_bn_plan_fold(hy_conv_layer *c, hy_plan *p);
void hy_conv_bn_fold(hy_conv_layer *c, hy_bn_layer *bn);
void hy_convt_bn_plan_fold(hy_convt_layer *c, hy_plan *p);
void hy_convt_bn_fold(hy_convt_layer *c, hy_bn_layer *bn);
