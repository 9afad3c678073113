#include "arm.h"

#include "activation.h"
#include "elementwise.h"

void hy_arm_plan(hy_arm *m, hy_plan *p, const char *name, int N, int C, int H, int W) {
  m->N = N, m->C = C, m->H = H, m->W = W, m->infer = p->mode == HY_INFER;
  size_t n = (size_t)N * C * H * W;
  hy_plan_push(p, "%s", name);
  hy_conv_layer_plan(&m->shortcut, p, "shortcut", N, C, H, W, C, 3, 1, 1, 1, 1, 0);
  hy_conv_layer_plan(&m->conv1, p, "conv1", N, C, H, W, C, 3, 1, 1, 1, 1, 0);
  hy_bn_layer_plan(&m->bn1, p, "bn1", N, C, H * W);
  hy_conv_bn_plan_fold(&m->conv1, p);
  hy_relu_layer_plan(&m->relu1, p, n);
  hy_conv_layer_plan(&m->conv2, p, "conv2", N, C, H, W, C, 3, 1, 2, 2, 1, 0);
  hy_bn_layer_plan(&m->bn2, p, "bn2", N, C, H * W);
  hy_conv_bn_plan_fold(&m->conv2, p);
  hy_cbam_plan(&m->cbam, p, "cbam", N, C, H, W);
  hy_plan_pop(p);
  hy_plan_keep(p, 1); /* the next stage and the neck read it */
  m->z = hy_plan_act(p, n, &m->dz);
  hy_plan_keep(p, 0);
  m->dpre = hy_plan_dact(p, n);
}

void hy_arm_forward(hy_arm *m, const float *x, const hy_run *r) {
  int N = m->N, C = m->C, H = m->H, W = m->W;
  hy_conv_layer_forward(&m->shortcut, x, r);
  if (m->bn1.folded) { /* inference: the BatchNorm is in the conv's weights */
    hy_conv_relu_layer_forward(&m->conv1, &m->relu1, x, r);
  } else {
    hy_conv_layer_forward(&m->conv1, x, r);
    hy_bn_layer_forward(&m->bn1, m->conv1.y, r);
    hy_relu_layer_forward(&m->relu1, m->bn1.y, r);
  }
  hy_conv_layer_forward(&m->conv2, m->relu1.y, r);
  hy_bn_layer_forward(&m->bn2, m->conv2.y, r);
  if (m->infer) {
    hy_cbam_gates_forward(&m->cbam, m->bn2.y, r);
    hy_mul_add_relu_forward(m->z, m->cbam.u1, m->cbam.s, m->shortcut.y, N, C, H, W, r->pool);
    return;
  }
  hy_cbam_forward(&m->cbam, m->bn2.y, r);
  hy_add_forward(m->z, m->cbam.y, m->shortcut.y, HY_BCAST_NONE, N, C, H, W, r->pool);
  hy_relu_forward(m->z, m->z, N * C * H * W, r->pool);
}

void hy_arm_backward(hy_arm *m, float *dx, const hy_run *r) {
  int N = m->N, C = m->C, H = m->H, W = m->W;
  hy_relu_backward(m->dpre, m->dz, m->z, N * C * H * W, r->pool);
  hy_add_backward(m->cbam.dy, m->shortcut.dy, m->dpre, HY_BCAST_NONE, N, C, H, W, r->pool);
  hy_cbam_backward(&m->cbam, m->bn2.dy, r);
  hy_bn_layer_backward(&m->bn2, m->conv2.dy, r);
  hy_conv_layer_backward(&m->conv2, m->relu1.dy, r);
  hy_relu_layer_backward(&m->relu1, m->bn1.dy, r);
  hy_bn_layer_backward(&m->bn1, m->conv1.dy, r);
  hy_conv_layer_backward(&m->conv1, dx, r);
  hy_conv_layer_backward(&m->shortcut, dx, r);
}

void hy_arm_fold_bn(hy_arm *m) {
  hy_conv_bn_fold(&m->conv1, &m->bn1);
  hy_conv_bn_fold(&m->conv2, &m->bn2);
}
