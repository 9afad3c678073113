#include "cbam.h"

#include <string.h>

#include "activation.h"
#include "elementwise.h"
#include "linear.h"
#include "pooling.h"

void hy_cbam_plan(hy_cbam *m, hy_plan *p, const char *name, int N, int C, int H, int W) {
  memset(m, 0, sizeof *m);
  m->N = N, m->C = C, m->H = H, m->W = W;
  m->R = C / 16 > 1 ? C / 16 : 1;
  size_t map = (size_t)N * C * H * W, pix = (size_t)N * H * W;
  hy_plan_push(p, "%s", name);
  m->fc1 = hy_plan_param(p, "fc1.weight", &m->gfc1, 4, m->R, C, 1, 1);
  m->fc2 = hy_plan_param(p, "fc2.weight", &m->gfc2, 4, C, m->R, 1, 1);
  m->pooled = hy_plan_act(p, 2 * (size_t)N * C, &m->dpooled);
  m->max_arg = (int32_t *)hy_plan_act(p, (size_t)N * C, NULL);
  m->hid = hy_plan_act(p, 2 * (size_t)N * m->R, &m->dhid);
  m->dpre = hy_plan_dact(p, 2 * (size_t)N * m->R);
  m->mlp_out = hy_plan_act(p, 2 * (size_t)N * C, &m->dmlp_out);
  m->a = hy_plan_act(p, (size_t)N * C, &m->da);
  m->u1 = hy_plan_act(p, map, &m->du1);
  m->m = hy_plan_act(p, 2 * pix, &m->dm);
  m->m_arg = (int32_t *)hy_plan_act(p, pix, NULL);
  hy_conv_layer_plan(&m->spatial, p, "spatial", N, 2, H, W, 1, 7, 1, 3, 1, 1, 0);
  m->s = hy_plan_act(p, pix, &m->ds);
  m->y = hy_plan_act(p, map, &m->dy);
  hy_plan_pop(p);
}

void hy_cbam_gates_forward(hy_cbam *m, const float *u, const hy_run *r) {
  int N = m->N, C = m->C, H = m->H, W = m->W, R = m->R;
  m->u = u;
  hy_global_avgpool_forward(m->pooled, u, N, C, H, W, r->pool);
  hy_global_maxpool_forward(m->pooled + (size_t)N * C, m->max_arg, u, N, C, H, W, r->pool);
  /* the shared MLP runs once over the 2N pooled rows */
  hy_linear_forward(m->hid, m->pooled, m->fc1, NULL, 2 * N, C, R);
  hy_relu_forward(m->hid, m->hid, 2 * N * R, r->pool);
  hy_linear_forward(m->mlp_out, m->hid, m->fc2, NULL, 2 * N, R, C);
  for (int i = 0; i < N * C; i++) m->a[i] = m->mlp_out[i] + m->mlp_out[N * C + i];
  hy_sigmoid_forward(m->a, m->a, N * C, r->pool);
  hy_mul_forward(m->u1, u, m->a, HY_BCAST_CHANNEL, N, C, H, W, r->pool);
  hy_channel_meanmax_forward(m->m, m->m_arg, m->u1, N, C, H, W, r->pool);
  hy_conv_layer_forward(&m->spatial, m->m, r);
  hy_sigmoid_forward(m->s, m->spatial.y, N * H * W, r->pool);
}

void hy_cbam_forward(hy_cbam *m, const float *u, const hy_run *r) {
  hy_cbam_gates_forward(m, u, r);
  hy_mul_forward(m->y, m->u1, m->s, HY_BCAST_PIXEL, m->N, m->C, m->H, m->W, r->pool);
}

void hy_cbam_backward(hy_cbam *m, float *du, const hy_run *r) {
  int N = m->N, C = m->C, H = m->H, W = m->W, R = m->R;
  hy_mul_backward(m->du1, m->ds, m->dy, m->u1, m->s, HY_BCAST_PIXEL, N, C, H, W, r->pool);
  hy_sigmoid_backward(m->spatial.dy, m->ds, m->s, N * H * W, r->pool);
  hy_conv_layer_backward(&m->spatial, m->dm, r);
  hy_channel_meanmax_backward(m->du1, m->dm, m->m_arg, N, C, H, W, r->pool);
  hy_mul_backward(du, m->da, m->du1, m->u, m->a, HY_BCAST_CHANNEL, N, C, H, W, r->pool);
  /* σ(x + y): both MLP passes receive the same gradient */
  float *dsum = m->dmlp_out;
  hy_sigmoid_backward(dsum, m->da, m->a, N * C, r->pool);
  memcpy(m->dmlp_out + (size_t)N * C, dsum, (size_t)N * C * sizeof(float));
  hy_linear_backward(m->dhid, m->gfc2, NULL, m->dmlp_out, m->hid, m->fc2, 2 * N, R, C);
  hy_relu_backward(m->dpre, m->dhid, m->hid, 2 * N * R, r->pool);
  hy_linear_backward(m->dpooled, m->gfc1, NULL, m->dpre, m->pooled, m->fc1, 2 * N, C, R);
  hy_global_avgpool_backward(du, m->dpooled, N, C, H, W, r->pool);
  hy_global_maxpool_backward(du, m->dpooled + (size_t)N * C, m->max_arg, N, C, H, W);
}
