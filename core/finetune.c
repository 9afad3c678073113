#include "finetune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adam.h"
#include "blas.h"
#include "image.h"
#include "kept_image.h"
#include "metrics.h"
#include "pool.h"
#include "rng.h"
#include "sample_loss.h"
#include "train.h"

#define EMA 0.1 /* weight of the newest step in the seconds-per-step average */

void hy_finetune_options_defaults(hy_finetune_options *o) {
  memset(o, 0, sizeof *o);
  o->steps = 100;
  o->lr = 1e-4;
  o->warmup = 10;
  o->pull = 1e-2;
  o->replay_fraction = 0.3;
  o->clip_norm = 5;
  o->seed = 1;
  hy_augment_defaults(&o->augment);
  o->cache_factor = 2;
  o->cache_images = 16;
  o->threads = 1;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One slot of the image cache: sample `owner` (-1: empty). */
typedef struct slot {
  int owner;
  hy_kept_image k;
} slot;

typedef struct ft_round {
  const hy_finetune_options *o;
  hy_net *net;
  hy_pool *pool;           /* owned */
  const hy_ft_sample *fresh, *replay;
  int n_fresh, n_replay;
  size_t n_params;
  float *base;             /* owned [n_params]: the starting weights */
  float *m, *v;            /* owned [n_params]: Adam's moments */
  hy_adam opt;
  hy_sample_loss sample;   /* owned */
  float *weights;          /* owned [K] */
  hy_point *in_points;     /* owned [K] */
  float *work;             /* owned [(f·in_w + 1)·(f·in_h + 1)]: a kept image as floats */
  slot *slots;             /* owned [cache_images] */
  int32_t *order;          /* owned [n_fresh] */
  int position;
  hy_rng rng;
} ft_round;

static void round_free(ft_round *r) {
  hy_pool_destroy(r->pool);
  free(r->base);
  free(r->m);
  free(r->v);
  hy_sample_loss_free(&r->sample);
  free(r->weights);
  free(r->in_points);
  free(r->work);
  for (int i = 0; r->slots && i < r->o->cache_images; i++) hy_kept_image_free(&r->slots[i].k);
  free(r->slots);
  free(r->order);
}

static hy_status check_options(const hy_finetune_options *o, int n_fresh, int n_replay,
                               hy_error *err) {
  if (n_fresh < 1) return hy_fail(err, HY_E_ARG, "fine-tune: no new samples");
  if (n_replay < 0) return hy_fail(err, HY_E_ARG, "fine-tune: %d replay samples", n_replay);
  if (o->steps < 1 || o->warmup < 0 || !(o->lr > 0 && o->lr < 1) || !(o->pull >= 0) ||
      !(o->replay_fraction >= 0 && o->replay_fraction <= 1) || !(o->clip_norm > 0))
    return hy_fail(err, HY_E_ARG, "fine-tune: steps %lld, warm-up %lld, learning rate %g, pull "
                                  "%g, replay fraction %g or clip norm %g out of range",
                   (long long)o->steps, (long long)o->warmup, o->lr, o->pull,
                   o->replay_fraction, o->clip_norm);
  if (!(o->cache_factor >= 0.5 && o->cache_factor <= 8) || o->cache_images < 1 ||
      o->cache_images > 4096 || o->threads < 1 || o->threads > 256)
    return hy_fail(err, HY_E_ARG, "fine-tune: cache factor %g, %d cached images or %d threads "
                                  "out of range", o->cache_factor, o->cache_images, o->threads);
  return HY_OK;
}

static void shuffle(ft_round *r) {
  for (int i = r->n_fresh - 1; i > 0; i--) {
    int j = (int)hy_rng_below(&r->rng, (uint32_t)i + 1);
    int32_t t = r->order[i];
    r->order[i] = r->order[j];
    r->order[j] = t;
  }
}

static hy_status setup(ft_round *r, hy_error *err) {
  const hy_finetune_options *o = r->o;
  hy_net *net = r->net;
  int K = net->cfg.landmarks;
  hy_status st = hy_pool_create(&r->pool, o->threads, err);
  if (st != HY_OK) return st;
  r->n_params = net->plan.params.used / sizeof(float);
  size_t work_n = (size_t)(o->cache_factor * net->cfg.in_w + 1) *
                  (size_t)(o->cache_factor * net->cfg.in_h + 1);
  r->base = malloc(r->n_params * sizeof *r->base);
  r->m = calloc(r->n_params, sizeof *r->m);
  r->v = calloc(r->n_params, sizeof *r->v);
  r->weights = calloc((size_t)K, sizeof *r->weights);
  r->in_points = calloc((size_t)K, sizeof *r->in_points);
  r->work = malloc(work_n * sizeof *r->work);
  r->slots = calloc((size_t)o->cache_images, sizeof *r->slots);
  r->order = calloc((size_t)r->n_fresh, sizeof *r->order);
  if (!r->base || !r->m || !r->v || !r->weights || !r->in_points || !r->work || !r->slots ||
      !r->order)
    return hy_fail(err, HY_E_NOMEM, "no memory for the fine-tuning state");
  memcpy(r->base, net->plan.params.base, r->n_params * sizeof *r->base);
  for (int i = 0; i < o->cache_images; i++) r->slots[i].owner = -1;
  for (int i = 0; i < r->n_fresh; i++) r->order[i] = i;
  hy_rng_seed(&r->rng, o->seed);
  shuffle(r);
  hy_adam_init(&r->opt, 1, 0.0);
  return hy_sample_loss_init(&r->sample, net, err);
}

/* The sample of the next step, by index into fresh then replay. */
static int next_sample(ft_round *r) {
  if (r->n_replay > 0 && hy_rng_uniform(&r->rng) < r->o->replay_fraction)
    return r->n_fresh + (int)hy_rng_below(&r->rng, (uint32_t)r->n_replay);
  if (r->position >= r->n_fresh) {
    shuffle(r);
    r->position = 0;
  }
  return r->order[r->position++];
}

static hy_status kept(ft_round *r, int idx, const hy_ft_sample *s, const hy_kept_image **out,
                      hy_error *err) {
  slot *sl = &r->slots[idx % r->o->cache_images];
  if (sl->owner != idx) {
    hy_kept_image_free(&sl->k);
    sl->owner = -1;
    hy_status st = hy_kept_image_load(&sl->k, s->image, r->net->cfg.in_w, r->net->cfg.in_h,
                                      r->o->cache_factor, err);
    if (st != HY_OK) return st;
    sl->owner = idx;
  }
  *out = &sl->k;
  return HY_OK;
}

static hy_status step(ft_round *r, int64_t t, double *loss, hy_error *err) {
  hy_net *net = r->net;
  const hy_net_config *c = &net->cfg;
  int K = c->landmarks;
  int idx = next_sample(r);
  uint64_t seed = hy_rng_next(&r->rng);
  const hy_ft_sample *s = idx < r->n_fresh ? &r->fresh[idx] : &r->replay[idx - r->n_fresh];
  const hy_kept_image *k;
  hy_status st = kept(r, idx, s, &k, err);
  if (st != HY_OK) return st;
  hy_image src = hy_kept_image_expand(k, r->work);
  hy_rng rng;
  hy_rng_seed(&rng, seed);
  st = hy_augment_sample(net->input, r->in_points, r->weights, NULL, &src, &k->to_kept, k->w,
                         k->h, s->points, K, c->in_w, c->in_h, &r->o->augment, &rng, err);
  if (st != HY_OK) return st;
  for (int j = 0; j < K; j++)
    if (!s->confirmed[j]) r->weights[j] = 0;
  hy_net_zero_grad(net);
  hy_run run = {r->pool, net->plan.scratch, HY_BN_RUNNING};
  *loss = hy_sample_loss_backward(&r->sample, net, r->in_points, r->weights, &run);
  if (!isfinite(*loss))
    return hy_fail(err, HY_E_NUMERIC, "fine-tune step %lld: the loss is %s on %s",
                   (long long)t + 1, isnan(*loss) ? "NaN" : "infinite", s->image);
  float *params = (float *)net->plan.params.base, *grads = (float *)net->plan.grads.base;
  hy_grad_pull_to_base(grads, params, r->base, (float)r->o->pull, r->n_params, r->pool);
  st = hy_grad_check_finite(grads, r->n_params, "the fine-tuning gradient", r->pool, err);
  if (st != HY_OK) return st;
  hy_clip_grad_norm(grads, r->n_params, (float)r->o->clip_norm, r->pool);
  double lr = hy_train_lr(t, r->o->steps, r->o->warmup, r->o->lr);
  hy_adam_update(&r->opt, params, r->m, r->v, grads, lr, r->n_params, r->pool);
  return HY_OK;
}

hy_status hy_finetune(hy_net *net, const hy_ft_sample *fresh, int n_fresh,
                      const hy_ft_sample *replay, int n_replay, const hy_finetune_options *o,
                      hy_error *err) {
  hy_status st = check_options(o, n_fresh, n_replay, err);
  if (st != HY_OK) return st;
  ft_round r = {.o = o, .net = net, .fresh = fresh, .replay = replay, .n_fresh = n_fresh,
             .n_replay = n_replay};
  st = setup(&r, err);
  hy_blas_set_threads(o->threads);
  double sec_per_step = 0;
  for (int64_t t = 0; st == HY_OK && t < o->steps; t++) {
    if (o->stop && *o->stop) {
      st = hy_fail(err, HY_E_CANCELLED, "fine-tuning stopped at step %lld of %lld",
                   (long long)t, (long long)o->steps);
      break;
    }
    double t0 = now_seconds(), loss = 0;
    st = step(&r, t, &loss, err);
    double dt = now_seconds() - t0;
    sec_per_step = sec_per_step > 0 ? (1 - EMA) * sec_per_step + EMA * dt : dt;
    if (st == HY_OK && o->progress) {
      hy_ft_progress p = {t + 1, o->steps, loss, sec_per_step,
                          sec_per_step * (double)(o->steps - t - 1)};
      o->progress(&p, o->user);
    }
  }
  if (st == HY_OK)
    st = hy_grad_check_finite((const float *)net->plan.params.base, r.n_params,
                              "the fine-tuned weights", r.pool, err);
  round_free(&r);
  return st;
}

hy_status hy_finetune_mre(hy_predictor *p, const hy_ft_sample *samples, int n, double *mre_mm,
                          int *count, hy_error *err) {
  int K = hy_predictor_net(p)->cfg.landmarks;
  double sum = 0;
  int used = 0;
  hy_prediction *pred = malloc(sizeof *pred);
  if (!pred) return hy_fail(err, HY_E_NOMEM, "out of memory");
  hy_status st = HY_OK;
  for (int i = 0; st == HY_OK && i < n; i++) {
    hy_image img = {0};
    st = hy_image_load(&img, samples[i].image, err);
    if (st == HY_OK) st = hy_predictor_run(p, &img, pred, err);
    hy_image_free(&img);
    for (int k = 0; st == HY_OK && k < K; k++) {
      if (!samples[i].confirmed[k]) continue;
      double e;
      hy_radial_errors_mm(&e, &pred->points[k], &samples[i].points[k], 1, samples[i].spacing_mm);
      sum += e;
      used++;
    }
  }
  free(pred);
  *mre_mm = used ? sum / used : NAN;
  *count = used;
  return st;
}
