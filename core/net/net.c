#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mse.h"

void hy_net_walk(hy_net *net, hy_plan *p) {
  const hy_net_config *c = &net->cfg;
  int N = net->N;
  hy_plan_keep(p, 1); /* the heads read the image again at the end */
  net->input = hy_plan_act(p, (size_t)N * c->in_h * c->in_w, NULL);
  hy_plan_keep(p, 0);
  int cin = 1, H = c->in_h, W = c->in_w, h[4], w[4];
  for (int s = 0; s < HY_STAGES; s++) {
    hy_stage_plan(&net->stages[s], p, c, s, N, cin, H, W);
    cin = c->widths[s];
    H = net->stages[s].embed.Ho;
    W = net->stages[s].embed.Wo;
    if (s > 0) h[s - 1] = H, w[s - 1] = W;
  }
  hy_neck_plan(&net->neck, p, c, N, h, w);
  hy_heads_plan(&net->heads, p, c, N);
  hy_heads *hd = &net->heads;
  hy_conv_layer *o1 = &hd->h1.out, *o2 = &hd->h2.out;
  net->out[0] = o1->y, net->dout[0] = o1->dy, net->out_h[0] = o1->Ho, net->out_w[0] = o1->Wo;
  net->out[1] = o2->y, net->dout[1] = o2->dy, net->out_h[1] = o2->Ho, net->out_w[1] = o2->Wo;
  net->out[2] = hd->o3, net->dout[2] = hd->do3, net->out_h[2] = c->in_h, net->out_w[2] = c->in_w;
}

hy_status hy_net_create(hy_net **out, const hy_net_config *cfg, int N, hy_mode mode,
                        int threads, hy_error *err) {
  *out = NULL;
  hy_status st = hy_net_config_check(cfg, err);
  if (st != HY_OK) return st;
  if (N < 1 || N > 64) return hy_fail(err, HY_E_ARG, "batch size %d is not in 1..64", N);
  hy_net *net = calloc(1, sizeof *net);
  if (!net) return hy_fail(err, HY_E_NOMEM, "cannot allocate a network");
  net->cfg = *cfg;
  net->N = N;
  hy_plan_init(&net->plan, mode, threads < 1 ? 1 : threads);
  hy_net_walk(net, &net->plan);
  st = hy_plan_commit(&net->plan, 1, err);
  if (st == HY_OK) {
    hy_net_walk(net, &net->plan);
    st = hy_plan_finish(&net->plan, err);
  }
  if (st != HY_OK) {
    hy_net_free(net);
    return st;
  }
  *out = net;
  return HY_OK;
}

void hy_net_free(hy_net *net) {
  if (!net) return;
  hy_plan_free(&net->plan);
  free(net);
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void hy_param_uniform(float *out, size_t n, uint64_t seed, const char *name) {
  uint64_t key = seed ^ ((uint64_t)crc32(0, (const Bytef *)name, (uInt)strlen(name)) << 32);
  for (size_t i = 0; i < n; i++) {
    float u = (float)(splitmix64(key + i) >> 40) * 0x1p-24f;
    out[i] = 2.0f * u - 1.0f;
  }
}

static int ends_with(const char *s, const char *tail) {
  size_t a = strlen(s), b = strlen(tail);
  return a >= b && strcmp(s + a - b, tail) == 0;
}

void hy_net_init_seeded(hy_net *net, uint64_t seed) {
  hy_plan *p = &net->plan;
  for (int i = 0; i < p->n_params; i++) {
    hy_param *t = &p->table[i];
    if (ends_with(t->name, ".running_mean")) {
      memset(t->w, 0, t->n * sizeof(float));
      continue;
    }
    if (ends_with(t->name, ".running_var")) {
      for (size_t j = 0; j < t->n; j++) t->w[j] = 1.0f;
      continue;
    }
    hy_param_uniform(t->w, t->n, seed, t->name);
    const char *dot = strrchr(t->name, '.');
    char owner[HY_NAME_MAX];
    snprintf(owner, sizeof owner, "%.*s", (int)(dot - t->name), t->name);
    const char *last = strrchr(owner, '.');
    last = last ? last + 1 : owner;
    int is_norm = strstr(last, "norm") || strstr(last, "bn");
    if (is_norm) {
      float base = ends_with(t->name, ".weight") ? 1.0f : 0.0f;
      for (size_t j = 0; j < t->n; j++) t->w[j] = base + 0.1f * t->w[j];
      continue;
    }
    char wname[HY_NAME_MAX + 8];
    snprintf(wname, sizeof wname, "%s.weight", owner);
    const hy_param *wt = hy_plan_find(p, wname);
    size_t fan_in = 1;
    for (int d = 1; d < wt->ndim; d++) fan_in *= (size_t)wt->dims[d];
    float bound = (float)(1.0 / sqrt((double)fan_in));
    for (size_t j = 0; j < t->n; j++) t->w[j] *= bound;
  }
}

void hy_net_fold_bn(hy_net *net) {
  if (net->plan.mode != HY_INFER) return;
  for (int s = 0; s < HY_STAGES; s++) hy_arm_fold_bn(&net->stages[s].arm);
  hy_heads_fold_bn(&net->heads);
}

void hy_net_forward(hy_net *net, const hy_run *r) {
  const float *x = net->input;
  for (int s = 0; s < HY_STAGES; s++) {
    hy_stage_forward(&net->stages[s], x, r);
    x = hy_stage_out(&net->stages[s]);
  }
  const float *feats[4];
  for (int j = 0; j < 4; j++) feats[j] = hy_stage_out(&net->stages[j + 1]);
  hy_neck_forward(&net->neck, feats, r);
  hy_heads_forward(&net->heads, net->neck.smooth.y, net->input, r);
}

void hy_net_zero_grad(hy_net *net) {
  hy_plan *p = &net->plan;
  hy_arena_zero(&p->grads);
  hy_arena_zero(&p->dacts);
}

void hy_net_backward(hy_net *net, const hy_run *r) {
  hy_heads_backward(&net->heads, net->neck.smooth.dy, r);
  float *dfeats[4];
  for (int j = 0; j < 4; j++) dfeats[j] = hy_stage_dout(&net->stages[j + 1]);
  hy_neck_backward(&net->neck, dfeats, r);
  for (int s = HY_STAGES - 1; s >= 0; s--)
    hy_stage_backward(&net->stages[s], s ? hy_stage_dout(&net->stages[s - 1]) : NULL, r);
}

double hy_net_loss(hy_net *net, const float *const targets[3], const float *weights,
                   int backward, const hy_run *r) {
  double total = 0;
  for (int i = 0; i < 3; i++) {
    int K = net->cfg.landmarks, h = net->out_h[i], w = net->out_w[i];
    float scale = net->cfg.loss_weights[i];
    total += hy_mse_forward(net->out[i], targets[i], weights, scale, net->N, K, h, w, r->pool);
    if (backward)
      hy_mse_backward(net->dout[i], net->out[i], targets[i], weights, scale, net->N, K, h, w, r->pool);
  }
  return total;
}

size_t hy_net_param_count(const hy_net *net) {
  size_t n = 0;
  for (int i = 0; i < net->plan.n_params; i++)
    if (!net->plan.table[i].is_buffer) n += net->plan.table[i].n;
  return n;
}
