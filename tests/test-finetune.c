/* Fine-tuning (core/finetune.c) and the per-sample loss it shares with
 * training (core/sample_loss.c) on the tiny configuration: the gradient of
 * the masked loss plus the L2 pull against finite differences, a masked
 * landmark having no effect, determinism given a seed, frozen BatchNorm
 * statistics, the bounded image cache not changing the result, the stop
 * flag, a missing image and the held-out MRE. Images are generated PNGs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

#define K 3

static hy_net *tiny_train_net(uint64_t seed) {
  hy_net_config cfg;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "tiny", &err), ==, HY_OK);
  cfg.landmarks = K;
  hy_net *net = NULL;
  if (hy_net_create(&net, &cfg, 1, HY_TRAIN, 1, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_init_seeded(net, seed);
  return net;
}

static size_t n_params(const hy_net *net) { return net->plan.params.used / sizeof(float); }
static float *params(hy_net *net) { return (float *)net->plan.params.base; }

/* ---- the gradient of the masked loss and the pull ---- */

typedef struct loss_ctx {
  hy_net *net;
  hy_sample_loss *s;
  const float *weights;
  const float *base;
  float lambda;
  hy_run run;
} loss_ctx;

/* The fine-tuning objective: the masked loss + (λ/2)·‖p − base‖². */
static double objective(void *p) {
  loss_ctx *c = p;
  hy_net_forward(c->net, &c->run);
  double l = hy_net_loss(c->net, (const float *const *)c->s->targets, c->weights, 0, &c->run);
  double pull = 0;
  const float *w = params(c->net);
  for (size_t i = 0; i < n_params(c->net); i++) pull += ((double)w[i] - c->base[i]) * ((double)w[i] - c->base[i]);
  return l + 0.5 * c->lambda * pull;
}

static void test_masked_loss_gradient(void) {
  hy_net *net = tiny_train_net(3);
  hy_pool *pool = tu_pool_new(1);
  hy_error err = {0};
  hy_sample_loss s;
  g_assert_cmpint(hy_sample_loss_init(&s, net, &err), ==, HY_OK);
  tu_rng r = tu_rng_new(11);
  int in_w = net->cfg.in_w, in_h = net->cfg.in_h;
  tu_fill(&r, net->input, (size_t)in_w * in_h, -1, 1);
  hy_point pts[K] = {{20, 15}, {50, 30}, {70, 40}};
  float weights[K] = {1, 0, 1};
  size_t n = n_params(net);
  float *base = tu_copy(params(net), n);
  for (size_t i = 0; i < n; i++) base[i] += (float)(0.05 * tu_normal(&r));
  hy_run run = {pool, net->plan.scratch, HY_BN_RUNNING};
  hy_net_zero_grad(net);
  double loss = hy_sample_loss_backward(&s, net, pts, weights, &run);
  g_assert_true(isfinite(loss) && loss > 0);
  float *grads = (float *)net->plan.grads.base;
  hy_grad_pull_to_base(grads, params(net), base, 0.5f, n, pool);
  float *g = tu_copy(grads, n);
  loss_ctx c = {net, &s, weights, base, 0.5f, run};
  /* eps 1e-3: some weights (the attention shortcuts) curve too much for 1e-2 */
  tu_gradcheck opts = {.eps = 1e-3, .atol = 2e-3, .rtol = 3e-2, .max_probes = 96};
  tu_check_grad("masked loss + pull", params(net), g, n, objective, &c, &opts);

  /* the masked landmark neither pulls nor pushes: moving it changes nothing */
  hy_net_zero_grad(net);
  double l1 = hy_sample_loss_backward(&s, net, pts, weights, &run);
  float *g1 = tu_copy(grads, n);
  pts[1] = (hy_point){10, 50};
  hy_net_zero_grad(net);
  double l2 = hy_sample_loss_backward(&s, net, pts, weights, &run);
  g_assert_cmpfloat(l1, ==, l2);
  g_assert_cmpint(memcmp(g1, grads, n * sizeof *g1), ==, 0);
  /* and unmasked it does */
  weights[1] = 1;
  hy_net_zero_grad(net);
  double l3 = hy_sample_loss_backward(&s, net, pts, weights, &run);
  g_assert_cmpfloat(l3, !=, l2);
  g_free(g1);
  g_free(g);
  g_free(base);
  hy_sample_loss_free(&s);
  hy_pool_destroy(pool);
  hy_net_free(net);
}

/* ---- rounds on generated images ---- */

typedef struct sample_set {
  int n;
  char *paths[6];
  hy_point points[6][K];
  uint8_t confirmed[6][K];
  hy_ft_sample s[6];
} sample_set;

/* n images of 96×64 with a bright blob at each landmark. */
static void make_samples(sample_set *set, int n, const char *tag) {
  set->n = n;
  for (int i = 0; i < n; i++) {
    hy_image img = {0};
    hy_error err = {0};
    g_assert_cmpint(hy_image_new(&img, 96, 64, &err), ==, HY_OK);
    tu_rng r = tu_rng_new(100 + (uint64_t)i);
    for (int p = 0; p < 96 * 64; p++) img.pixels[p] = 0.1f + 0.1f * (float)tu_uniform(&r);
    for (int k = 0; k < K; k++) {
      double x = tu_int(&r, 10, 85), y = tu_int(&r, 8, 55);
      set->points[i][k] = (hy_point){x, y};
      set->confirmed[i][k] = (uint8_t)(k != i % K); /* one masked per image */
      for (int yy = 0; yy < 64; yy++)
        for (int xx = 0; xx < 96; xx++)
          img.pixels[yy * 96 + xx] += (float)(0.7 * exp(-((xx - x) * (xx - x) + (yy - y) * (yy - y)) / 8.0));
    }
    for (int p = 0; p < 96 * 64; p++) img.pixels[p] = fminf(img.pixels[p], 1);
    char name[64];
    snprintf(name, sizeof name, "ft-%s-%d.png", tag, i);
    set->paths[i] = g_build_filename(tu_tmpdir(), name, NULL);
    g_assert_cmpint(hy_image_save_png(&img, set->paths[i], 8, &err), ==, HY_OK);
    hy_image_free(&img);
    set->s[i] = (hy_ft_sample){set->paths[i], set->points[i], set->confirmed[i], 0.1};
  }
}

static void free_samples(sample_set *set) {
  for (int i = 0; i < set->n; i++) g_free(set->paths[i]);
}

static void options(hy_finetune_options *o, int steps) {
  hy_finetune_options_defaults(o);
  o->steps = steps;
  o->warmup = 2;
  o->lr = 1e-3;
}

static float *buffers_copy(hy_net *net, size_t *n) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(float));
  for (int i = 0; i < net->plan.n_params; i++)
    if (net->plan.table[i].is_buffer) g_array_append_vals(a, net->plan.table[i].w, (guint)net->plan.table[i].n);
  *n = a->len;
  return (float *)(void *)g_array_free(a, FALSE);
}

static void test_deterministic(void) {
  sample_set fresh, old;
  make_samples(&fresh, 3, "det");
  make_samples(&old, 2, "det-old");
  hy_finetune_options o;
  options(&o, 6);
  hy_error err = {0};
  hy_net *a = tiny_train_net(5), *b = tiny_train_net(5), *c = tiny_train_net(5);
  size_t n = n_params(a), nb0, nb1;
  float *start = tu_copy(params(a), n);
  float *bn0 = buffers_copy(a, &nb0);
  g_assert_cmpint(hy_finetune(a, fresh.s, 3, old.s, 2, &o, &err), ==, HY_OK);
  g_assert_cmpint(hy_finetune(b, fresh.s, 3, old.s, 2, &o, &err), ==, HY_OK);
  g_assert_cmpint(memcmp(params(a), params(b), n * sizeof(float)), ==, 0);
  g_assert_cmpint(memcmp(params(a), start, n * sizeof(float)), !=, 0);
  /* BatchNorm statistics frozen */
  float *bn1 = buffers_copy(a, &nb1);
  g_assert_cmpuint(nb0, ==, nb1);
  g_assert_cmpuint(nb0, >, 0);
  g_assert_cmpint(memcmp(bn0, bn1, nb0 * sizeof(float)), ==, 0);
  /* another seed, another round */
  o.seed = 2;
  g_assert_cmpint(hy_finetune(c, fresh.s, 3, old.s, 2, &o, &err), ==, HY_OK);
  g_assert_cmpint(memcmp(params(a), params(c), n * sizeof(float)), !=, 0);
  g_free(start);
  g_free(bn0);
  g_free(bn1);
  hy_net_free(a);
  hy_net_free(b);
  hy_net_free(c);
  free_samples(&fresh);
  free_samples(&old);
}

/* A cache of one image (decoding at nearly every step) gives the same
 * weights as one that holds them all. */
static void test_bounded_cache(void) {
  sample_set fresh;
  make_samples(&fresh, 4, "cache");
  hy_finetune_options o;
  options(&o, 8);
  hy_error err = {0};
  hy_net *a = tiny_train_net(6), *b = tiny_train_net(6);
  o.cache_images = 1;
  g_assert_cmpint(hy_finetune(a, fresh.s, 4, NULL, 0, &o, &err), ==, HY_OK);
  o.cache_images = 16;
  g_assert_cmpint(hy_finetune(b, fresh.s, 4, NULL, 0, &o, &err), ==, HY_OK);
  g_assert_cmpint(memcmp(params(a), params(b), n_params(a) * sizeof(float)), ==, 0);
  hy_net_free(a);
  hy_net_free(b);
  free_samples(&fresh);
}

static void count_steps(const hy_ft_progress *p, void *user) {
  int *calls = user;
  g_assert_cmpint(p->step, ==, *calls + 1);
  g_assert_true(p->eta_seconds >= 0 && isfinite(p->loss));
  (*calls)++;
}

static void stop_after_two(const hy_ft_progress *p, void *user) {
  if (p->step == 2) *(volatile sig_atomic_t *)user = 1;
}

static void test_progress_and_stop(void) {
  sample_set fresh;
  make_samples(&fresh, 2, "stop");
  hy_finetune_options o;
  options(&o, 5);
  hy_error err = {0};
  hy_net *net = tiny_train_net(7);
  int calls = 0;
  o.progress = count_steps;
  o.user = &calls;
  g_assert_cmpint(hy_finetune(net, fresh.s, 2, NULL, 0, &o, &err), ==, HY_OK);
  g_assert_cmpint(calls, ==, 5);
  volatile sig_atomic_t stop = 0;
  o.stop = &stop;
  o.progress = stop_after_two;
  o.user = (void *)&stop;
  g_assert_cmpint(hy_finetune(net, fresh.s, 2, NULL, 0, &o, &err), ==, HY_E_CANCELLED);
  g_assert_nonnull(strstr(err.msg, "step 2 of 5"));
  hy_net_free(net);
  free_samples(&fresh);
}

static void test_bad_input(void) {
  sample_set fresh;
  make_samples(&fresh, 1, "bad");
  hy_finetune_options o;
  options(&o, 2);
  hy_error err = {0};
  hy_net *net = tiny_train_net(8);
  g_assert_cmpint(hy_finetune(net, fresh.s, 0, NULL, 0, &o, &err), ==, HY_E_ARG);
  hy_ft_sample missing = fresh.s[0];
  missing.image = "/nonexistent/x.png";
  g_assert_cmpint(hy_finetune(net, &missing, 1, NULL, 0, &o, &err), !=, HY_OK);
  g_assert_nonnull(strstr(err.msg, "/nonexistent/x.png"));
  o.steps = 0;
  g_assert_cmpint(hy_finetune(net, fresh.s, 1, NULL, 0, &o, &err), ==, HY_E_ARG);
  hy_net_free(net);
  free_samples(&fresh);
}

static void test_mre(void) {
  sample_set set;
  make_samples(&set, 2, "mre");
  hy_net_config cfg;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "tiny", &err), ==, HY_OK);
  cfg.landmarks = K;
  hy_net *net = NULL;
  g_assert_cmpint(hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_init_seeded(net, 9);
  hy_predictor *p = NULL;
  g_assert_cmpint(hy_predictor_new(&p, net, 1, &err), ==, HY_OK);
  double mre;
  int count;
  g_assert_cmpint(hy_finetune_mre(p, set.s, 2, &mre, &count, &err), ==, HY_OK);
  g_assert_cmpint(count, ==, 2 * (K - 1)); /* one landmark masked per image */
  g_assert_true(isfinite(mre) && mre >= 0);
  /* the prediction is the same whatever is confirmed: the MRE of one
   * image's confirmed landmarks, by hand */
  hy_image img = {0};
  hy_prediction pred;
  g_assert_cmpint(hy_image_load(&img, set.paths[0], &err), ==, HY_OK);
  g_assert_cmpint(hy_predictor_run(p, &img, &pred, &err), ==, HY_OK);
  double sum = 0;
  for (int k = 0; k < K; k++)
    if (set.confirmed[0][k])
      sum += 0.1 * hypot(pred.points[k].x - set.points[0][k].x, pred.points[k].y - set.points[0][k].y);
  g_assert_cmpint(hy_finetune_mre(p, set.s, 1, &mre, &count, &err), ==, HY_OK);
  g_assert_cmpfloat_with_epsilon(mre, sum / (K - 1), 1e-9);
  hy_image_free(&img);
  hy_predictor_free(p);
  free_samples(&set);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/finetune/masked-loss-gradient", test_masked_loss_gradient);
  g_test_add_func("/finetune/deterministic", test_deterministic);
  g_test_add_func("/finetune/bounded-cache", test_bounded_cache);
  g_test_add_func("/finetune/progress-and-stop", test_progress_and_stop);
  g_test_add_func("/finetune/bad-input", test_bad_input);
  g_test_add_func("/finetune/mre", test_mre);
  return g_test_run();
}
