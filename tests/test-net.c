/* HYATT-Net against the independent PyTorch reference (tests/reference/
 * hyattnet.py, fixtures by make_net_fixtures.py): parameters from the shared
 * seeded initialiser, activations at every block boundary, the three heads,
 * the loss, every parameter gradient, BatchNorm running statistics after
 * the step, and the losses of 5 AdamW steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "hyatt.h"
#include "net.h"
#include "testutil.h"

/* Tolerances, relative to the largest magnitude of the reference tensor:
 * float32 through ~60 ops in a different order of summation. */
#define FWD_TOL 2e-4
#define GRAD_TOL 2e-3
#define RUNNING_TOL 1e-4
#define ADAM_TOL 1e-4

typedef struct {
  hy_tensorfile *tf;
  hy_net *net;
  hy_pool *pool;
  hy_run run;
  float *targets[3]; /* owned: rendered by hy_heatmap_render */
  const float *weights;
} fixture;

/* Compares c against the fixture tensor `key`, whole or sampled (key@idx,
 * key@val, key@norm); the error is relative to the reference's scale. */
static void compare(const hy_tensorfile *tf, const char *key, const float *c, size_t n, double tol) {
  const hy_tensor_entry *e = hy_tensorfile_find(tf, key);
  if (e) {
    g_assert_cmpuint(e->nbytes / 4, ==, n);
    const float *want = e->data;
    double scale = 1e-12, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
      double d = fabs((double)c[i] - want[i]);
      if (d > worst || isnan(d)) worst = d, at = i;
    }
    if (!(worst <= tol * scale))
      g_error("%s differs: |diff| %.3g at [%zu] (got %.7g, want %.7g), scale %.3g, tolerance %.1g",
              key, worst, at, c[at], want[at], scale, tol);
    return;
  }
  char k[300];
  snprintf(k, sizeof k, "%s@idx", key);
  const hy_tensor_entry *idx = hy_tensorfile_find(tf, k);
  if (!idx) g_error("fixture has no tensor %s", key);
  snprintf(k, sizeof k, "%s@val", key);
  const float *val = hy_tensorfile_find(tf, k)->data;
  snprintf(k, sizeof k, "%s@norm", key);
  double want_norm = *(const float *)hy_tensorfile_find(tf, k)->data, norm = 0;
  for (size_t i = 0; i < n; i++) norm += (double)c[i] * c[i];
  norm = sqrt(norm);
  double scale = want_norm / sqrt((double)n) * 4 + 1e-12;
  if (!(fabs(norm - want_norm) <= tol * want_norm + 1e-12))
    g_error("%s: L2 norm %.7g, want %.7g (tolerance %.1g)", key, norm, want_norm, tol);
  const int32_t *ix = idx->data;
  for (size_t i = 0; i < idx->nbytes / 4; i++) {
    double d = fabs((double)c[ix[i]] - val[i]);
    if (!(d <= tol * fmax(scale, fabs(val[i]))))
      g_error("%s differs at sampled [%d]: got %.7g, want %.7g (tolerance %.1g)", key, ix[i],
              c[ix[i]], val[i], tol);
  }
}

static void setup(fixture *f, const char *file) {
  memset(f, 0, sizeof *f);
  g_autofree char *path = tu_fixture_path(file);
  hy_error err = {0};
  if (hy_tensorfile_load(&f->tf, path, 0, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_config cfg;
  if (hy_net_config_from_meta(&cfg, f->tf, &err) != HY_OK) g_error("%s", err.msg);
  g_assert_cmpint(hy_pool_create(&f->pool, 2, &err), ==, HY_OK);
  if (hy_net_create(&f->net, &cfg, 1, HY_TRAIN, 2, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_init_seeded(f->net, g_ascii_strtoull(hy_tensorfile_meta(f->tf, "param_seed"), NULL, 10));
  f->run = (hy_run){f->pool, f->net->plan.scratch, HY_BN_BATCH};
  size_t in = (size_t)cfg.in_h * cfg.in_w;
  memcpy(f->net->input, hy_tensorfile_f32(f->tf, "input", in, &err), in * sizeof(float));
  for (int i = 0; i < 3; i++) {
    char key[32];
    int K = cfg.landmarks, h = f->net->out_h[i], w = f->net->out_w[i];
    snprintf(key, sizeof key, "points/%d", i + 1);
    const float *points = hy_tensorfile_f32(f->tf, key, (size_t)K * 2, &err);
    g_assert_nonnull(points);
    f->targets[i] = g_new(float, (size_t)K * h * w);
    hy_heatmap_render(f->targets[i], NULL, points, cfg.sigmas[i], K, h, w);
    snprintf(key, sizeof key, "target/%d", i + 1);
    compare(f->tf, key, f->targets[i], (size_t)K * h * w, 1e-6);
  }
  f->weights = hy_tensorfile_f32(f->tf, "weights", (size_t)cfg.landmarks, &err);
}

static void teardown(fixture *f) {
  for (int i = 0; i < 3; i++) g_free(f->targets[i]);
  hy_net_free(f->net);
  hy_pool_destroy(f->pool);
  hy_tensorfile_free(f->tf);
}

static void check_params_match_reference(fixture *f) {
  hy_plan *p = &f->net->plan;
  int stored = 0;
  for (int i = 0; i < p->n_params; i++) {
    char key[HY_NAME_MAX + 16];
    snprintf(key, sizeof key, "grad/%s", p->table[i].name);
    if (!p->table[i].is_buffer && !hy_tensorfile_find(f->tf, key) &&
        !hy_tensorfile_find(f->tf, strcat(key, "@idx")))
      g_error("parameter %s has no gradient in the fixture: names differ from PyTorch's", p->table[i].name);
    snprintf(key, sizeof key, "param/%s", p->table[i].name);
    if (hy_tensorfile_find(f->tf, key)) {
      compare(f->tf, key, p->table[i].w, p->table[i].n, 0);
      stored++;
    }
  }
  int grads = 0;
  for (int i = 0; i < f->tf->n_tensors; i++)
    grads += g_str_has_prefix(f->tf->tensors[i].name, "grad/") &&
             !strchr(f->tf->tensors[i].name, '@');
  g_test_message("%d parameters, %d compared bit for bit, %d whole gradients in the fixture",
                 p->n_params, stored, grads);
}

static void check_forward_backward(const char *file) {
  fixture f;
  setup(&f, file);
  check_params_match_reference(&f);
  hy_net *net = f.net;
  hy_net_forward(net, &f.run);
  struct {
    const char *key;
    const float *c;
  } acts[] = {
      {"act/neck.lateral5", net->neck.lateral[3].y},
      {"act/neck.P", net->neck.smooth.y},
      {"act/head1.out", net->out[0]},
      {"act/head2.G", net->heads.g.y},
      {"act/head2.out", net->out[1]},
      {"act/head3.I", net->heads.i.y},
      {"act/head3.out", net->out[2]},
  };
  for (int s = 0; s < HY_STAGES; s++) {
    char key[64];
    hy_stage *st = &net->stages[s];
    size_t n = (size_t)st->embed.cout * st->embed.Ho * st->embed.Wo;
    snprintf(key, sizeof key, "act/stage%d.embed", s + 1);
    compare(f.tf, key, st->embed.y, n, FWD_TOL);
    snprintf(key, sizeof key, "act/stage%d.block", s + 1);
    compare(f.tf, key, st->block.y, n, FWD_TOL);
    snprintf(key, sizeof key, "act/stage%d.arm", s + 1);
    compare(f.tf, key, st->arm.z, n, FWD_TOL);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(acts); i++) {
    const hy_tensor_entry *e = hy_tensorfile_find(f.tf, acts[i].key);
    char k[64];
    snprintf(k, sizeof k, "%s@idx", acts[i].key);
    size_t n = e ? e->nbytes / 4 : 0;
    if (!e) { /* sampled: the size comes from the C side */
      g_assert_nonnull(hy_tensorfile_find(f.tf, k));
      n = acts[i].c == net->out[2] ? (size_t)net->cfg.landmarks * net->cfg.in_h * net->cfg.in_w
        : acts[i].c == net->heads.g.y ? net->heads.g.n
        : acts[i].c == net->heads.i.y ? net->heads.i.n
        : acts[i].c == net->out[1] ? (size_t)net->cfg.landmarks * net->out_h[1] * net->out_w[1]
        : acts[i].c == net->out[0] ? (size_t)net->cfg.landmarks * net->out_h[0] * net->out_w[0]
        : (size_t)net->cfg.neck * net->neck.smooth.Ho * net->neck.smooth.Wo;
    }
    compare(f.tf, acts[i].key, acts[i].c, n, FWD_TOL);
  }
  hy_net_zero_grad(net);
  double loss = hy_net_loss(net, (const float *const *)f.targets, f.weights, 1, &f.run);
  hy_error err = {0};
  const float *want = hy_tensorfile_f32(f.tf, "loss", 1, &err);
  g_test_message("loss %.7g, PyTorch %.7g", loss, want[0]);
  g_assert_cmpfloat(fabs(loss - want[0]), <=, FWD_TOL * fabs(want[0]));
  hy_net_backward(net, &f.run);
  hy_plan *p = &net->plan;
  for (int i = 0; i < p->n_params; i++) {
    char key[HY_NAME_MAX + 16];
    hy_param *t = &p->table[i];
    snprintf(key, sizeof key, "%s/%s", t->is_buffer ? "running" : "grad", t->name);
    compare(f.tf, key, t->is_buffer ? t->w : t->g, t->n, t->is_buffer ? RUNNING_TOL : GRAD_TOL);
  }
  teardown(&f);
}

static void check_adam(const char *file) {
  fixture f;
  setup(&f, file);
  hy_net *net = f.net;
  hy_arena *params = &net->plan.params;
  size_t n = params->used / sizeof(float);
  float *m = g_new0(float, n), *v = g_new0(float, n);
  hy_adam opt;
  hy_adam_init(&opt, 1, atof(hy_tensorfile_meta(f.tf, "adam_weight_decay")));
  opt.beta1 = atof(hy_tensorfile_meta(f.tf, "adam_beta1"));
  opt.beta2 = atof(hy_tensorfile_meta(f.tf, "adam_beta2"));
  opt.eps = atof(hy_tensorfile_meta(f.tf, "adam_eps"));
  double lr = atof(hy_tensorfile_meta(f.tf, "adam_lr"));
  hy_error err = {0};
  const float *want = hy_tensorfile_f32(f.tf, "adam/losses", 6, &err);
  float *input = g_memdup2(net->input, sizeof(float) * net->cfg.in_h * net->cfg.in_w);
  for (int step = 0; step <= 5; step++) {
    memcpy(net->input, input, sizeof(float) * net->cfg.in_h * net->cfg.in_w);
    hy_net_forward(net, &f.run);
    hy_net_zero_grad(net);
    double loss = hy_net_loss(net, (const float *const *)f.targets, f.weights, step < 5, &f.run);
    g_test_message("step %d: loss %.7g, PyTorch %.7g", step, loss, want[step]);
    if (!(fabs(loss - want[step]) <= ADAM_TOL * fabs(want[step])))
      g_error("AdamW step %d: loss %.7g, PyTorch %.7g", step, loss, want[step]);
    if (step == 5) break;
    hy_net_backward(net, &f.run);
    hy_adam_update(&opt, (float *)params->base, m, v, (const float *)net->plan.grads.base, lr, n, f.pool);
  }
  g_free(input);
  g_free(m);
  g_free(v);
  teardown(&f);
}

static void test_tiny(void) { check_forward_backward("net-tiny.hyatt"); }
static void test_small(void) { check_forward_backward("net-small.hyatt"); }
static void test_tiny_adam(void) { check_adam("net-tiny.hyatt"); }
static void test_small_adam(void) { check_adam("net-small.hyatt"); }

static void test_named_configs(void) {
  const char *names[] = {"paper", "small", "tiny"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    hy_net_config cfg;
    hy_error err = {0};
    g_assert_cmpint(hy_net_config_named(&cfg, names[i], &err), ==, HY_OK);
    g_assert_cmpint(hy_net_config_check(&cfg, &err), ==, HY_OK);
  }
  hy_net_config cfg;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "huge", &err), ==, HY_E_ARG);
  hy_net_config_named(&cfg, "small", &err);
  cfg.in_h = 500;
  g_assert_cmpint(hy_net_config_check(&cfg, &err), ==, HY_E_FORMAT);
  g_assert_nonnull(strstr(err.msg, "multiples of 32"));
  hy_net_config_named(&cfg, "small", &err);
  cfg.bra_heads[2] = 3;
  g_assert_cmpint(hy_net_config_check(&cfg, &err), ==, HY_E_FORMAT);
  g_assert_nonnull(strstr(err.msg, "stage 3"));
}

static void test_small_parameter_count(void) {
  hy_net_config cfg;
  hy_net *net = NULL;
  hy_error err = {0};
  hy_net_config_named(&cfg, "small", &err);
  cfg.in_h = 128, cfg.in_w = 128;
  g_assert_cmpint(hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err), ==, HY_OK);
  /* the PyTorch reference counts 1,216,219 (NETWORK.md: 1.22 M) */
  g_assert_cmpuint(hy_net_param_count(net), ==, 1216219);
  hy_net_free(net);
}

/* The inference plan (transient activations, BatchNorm folded) computes what
 * the training plan computes with running statistics, in less memory. */
static void test_inference_plan(void) {
  hy_net_config cfg;
  hy_error err = {0};
  hy_net_config_named(&cfg, "tiny", &err);
  hy_pool *pool = NULL;
  hy_pool_create(&pool, 2, &err);
  hy_net *infer = NULL, *train = NULL;
  g_assert_cmpint(hy_net_create(&infer, &cfg, 1, HY_INFER, 2, &err), ==, HY_OK);
  g_assert_cmpint(hy_net_create(&train, &cfg, 1, HY_TRAIN, 2, &err), ==, HY_OK);
  hy_net_init_seeded(infer, 3);
  hy_net_init_seeded(train, 3);
  /* running statistics away from (0, 1), so folding has something to do */
  tu_rng rng = tu_rng_new(9);
  for (int i = 0; i < train->plan.n_params; i++) {
    hy_param *t = &train->plan.table[i], *u = &infer->plan.table[i];
    g_assert_cmpstr(t->name, ==, u->name);
    if (!t->is_buffer) continue;
    for (size_t j = 0; j < t->n; j++)
      t->w[j] = u->w[j] = g_str_has_suffix(t->name, "running_var") ? (float)(0.5 + tu_uniform(&rng))
                                                                    : (float)(tu_uniform(&rng) - 0.5);
  }
  hy_net_fold_bn(infer);
  size_t in = (size_t)cfg.in_h * cfg.in_w;
  tu_fill(&rng, train->input, in, -2, 2);
  memcpy(infer->input, train->input, in * sizeof(float));
  hy_run ri = {pool, infer->plan.scratch, HY_BN_RUNNING}, rt = {pool, train->plan.scratch, HY_BN_RUNNING};
  hy_net_forward(infer, &ri);
  hy_net_forward(train, &rt);
  for (int i = 0; i < 3; i++) {
    size_t n = (size_t)cfg.landmarks * infer->out_h[i] * infer->out_w[i];
    tu_assert_close("inference-plan output", infer->out[i], train->out[i], n, 1e-5, 1e-4);
  }
  g_assert_cmpuint(infer->plan.acts.capacity + infer->plan.transient.capacity, <,
                   train->plan.acts.capacity / 2);
  hy_net_free(infer);
  hy_net_free(train);
  hy_pool_destroy(pool);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/net/configs", test_named_configs);
  g_test_add_func("/net/small-parameter-count", test_small_parameter_count);
  g_test_add_func("/net/inference-plan", test_inference_plan);
  g_test_add_func("/net/tiny-vs-pytorch", test_tiny);
  g_test_add_func("/net/small-vs-pytorch", test_small);
  g_test_add_func("/net/tiny-adamw-5-steps", test_tiny_adam);
  g_test_add_func("/net/small-adamw-5-steps", test_small_adam);
  return g_test_run();
}
