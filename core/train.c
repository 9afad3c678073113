#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "adam.h"
#include "blas.h"
#include "c_numeric.h"
#include "image.h"
#include "kept_image.h"
#include "metrics.h"
#include "model.h"
#include "predict.h"
#include "sample_loss.h"
#include "tensorfile.h"

#define PI 3.14159265358979323846
#define EMA 0.1 /* weight of the newest step in the seconds-per-step average */

void hy_train_options_defaults(hy_train_options *o) {
  memset(o, 0, sizeof *o);
  o->config = "small";
  o->reference = "mean";
  o->val_fraction = 0.1;
  o->steps = 1000;
  o->lr = 1e-3;
  o->weight_decay = 0.01;
  o->clip_norm = 5;
  o->warmup = 200;
  o->seed = 1;
  hy_augment_defaults(&o->augment);
  o->cache_factor = 2;
  o->threads = 1;
  o->val_every = 500;
  o->checkpoint_seconds = 300;
  o->size = 1;
  o->accumulate = 1;
}

double hy_train_lr(int64_t t, int64_t steps, int64_t warmup, double lr) {
  if (t < warmup) return lr * (double)(t + 1) / (double)warmup;
  int64_t n = steps - warmup;
  if (n <= 0) return lr;
  return 0.5 * lr * (1 + cos(PI * (double)(t - warmup) / (double)n));
}

/* One training image, decoded once and kept downscaled (kept_image.h). */
typedef struct cache_entry {
  hy_kept_image k;
  hy_status st;      /* of the decoding */
  hy_error err;
} cache_entry;

struct hy_trainer {
  hy_train_options o;       /* strings point to the copies below */
  char *data_dir, *split, *reference, *out_dir, *version;
  char *last_path, *best_path;
  hy_dataset ds;
  int ref;                  /* reference index */
  int n_train, n_val;       /* samples [0, n_train) train, the rest validate */
  uint32_t ids_crc;         /* of the training ids, checked on resume */
  cache_entry *cache;       /* owned [n_train] */
  float *work;              /* owned: one cache entry as floats */
  size_t work_n;
  hy_net *net;              /* owned */
  hy_pool *pool;            /* owned */
  hy_adam opt;
  size_t n_params;          /* floats of the parameter arena */
  float *m, *v;             /* owned [n_params] */
  hy_sample_loss sample;    /* owned: the targets */
  float *weights;           /* owned [K] */
  hy_point *in_points;      /* owned [K] */
  double *val_errors;       /* owned [n_val][K] mm */
  hy_prediction *pred;      /* owned */
  hy_rng rng;               /* the shuffles and the samples' augmentation seeds */
  int32_t *order;           /* owned [n_train] */
  int64_t position;         /* next index into order */
  int64_t step;             /* updates done */
  double best_val;          /* +Inf: none yet */
  int64_t best_step;
  double sec_per_step;      /* moving average; 0: none yet */
  double last_checkpoint;   /* monotonic seconds */
  hy_model_info info;
  hy_dataset_spec spec;     /* the copy o.spec points to */
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static char *path_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *s = malloc(a + b + 2);
  if (s) snprintf(s, a + b + 2, "%s/%s", dir, name);
  return s;
}

static void report(hy_trainer *t, hy_train_progress *p) {
  if (!t->o.progress) return;
  p->step = t->step;
  p->steps = t->o.steps;
  p->seconds_per_step = t->sec_per_step;
  p->eta_seconds = t->sec_per_step * (double)(t->o.steps - t->step);
  t->o.progress(p, t->o.user);
}

/* ---- image cache ---- */

typedef struct cache_job {
  hy_trainer *t;
  int first;
} cache_job;

static void cache_task(void *ctx, int task, int thread) {
  cache_job *job = ctx;
  hy_trainer *t = job->t;
  int i = job->first + task;
  cache_entry *c = &t->cache[i];
  c->st = hy_kept_image_load(&c->k, t->ds.paths[i], t->net->cfg.in_w, t->net->cfg.in_h,
                             t->o.cache_factor, &c->err);
}

static hy_status build_cache(hy_trainer *t, hy_error *err) {
  t->cache = calloc((size_t)t->n_train, sizeof *t->cache);
  if (!t->cache) return hy_fail(err, HY_E_NOMEM, "no memory for the image cache");
  int chunk = 4 * hy_pool_threads(t->pool);
  hy_train_progress p = {.event = HY_TRAIN_CACHING, .to_cache = t->n_train};
  report(t, &p);
  for (int first = 0; first < t->n_train; first += chunk) {
    if (t->o.stop && *t->o.stop)
      return hy_fail(err, HY_E_CANCELLED, "stopped while caching the training images");
    int n = t->n_train - first < chunk ? t->n_train - first : chunk;
    cache_job job = {t, first};
    hy_pool_run(t->pool, n, cache_task, &job);
    for (int i = first; i < first + n; i++) {
      cache_entry *c = &t->cache[i];
      if (c->st != HY_OK) {
        *err = c->err;
        return c->st;
      }
      size_t need = (size_t)c->k.cw * c->k.ch;
      if (need > t->work_n) t->work_n = need;
    }
    p.cached = first + n;
    report(t, &p);
  }
  t->work = malloc(t->work_n * sizeof *t->work);
  if (!t->work) return hy_fail(err, HY_E_NOMEM, "no memory for the training image buffer");
  return HY_OK;
}

/* ---- the checkpoint's settings, in the C locale whatever the process's ---- */

typedef struct setting {
  const char *key;
  double *d;   /* a double, or */
  int64_t *i;  /* an integer */
} setting;

/* Every option that changes the weights a run produces. */
static int settings_of(hy_trainer *t, setting *s) {
  hy_augment *a = &t->o.augment;
  setting list[] = {
      {"train.steps", NULL, &t->o.steps},
      {"train.lr", &t->o.lr, NULL},
      {"train.weight_decay", &t->o.weight_decay, NULL},
      {"train.clip_norm", &t->o.clip_norm, NULL},
      {"train.warmup", NULL, &t->o.warmup},
      {"train.val_fraction", &t->o.val_fraction, NULL},
      {"train.cache_factor", &t->o.cache_factor, NULL},
      {"aug.rotate_p", &a->rotate_p, NULL},
      {"aug.rotate_sigma_deg", &a->rotate_sigma_deg, NULL},
      {"aug.rotate_max_deg", &a->rotate_max_deg, NULL},
      {"aug.scale_sigma", &a->scale_sigma, NULL},
      {"aug.scale_max", &a->scale_max, NULL},
      {"aug.shift", &a->shift, NULL},
      {"aug.flip_p", &a->flip_p, NULL},
      {"aug.gamma_p", &a->gamma_p, NULL},
      {"aug.gamma_log", &a->gamma_log, NULL},
      {"aug.contrast_p", &a->contrast_p, NULL},
      {"aug.contrast_lo", &a->contrast_lo, NULL},
      {"aug.contrast_hi", &a->contrast_hi, NULL},
      {"aug.brightness_p", &a->brightness_p, NULL},
      {"aug.brightness", &a->brightness, NULL},
      {"aug.noise_p", &a->noise_p, NULL},
      {"aug.noise_max", &a->noise_max, NULL},
      {"train.position", NULL, &t->position},
      {"train.best_step", NULL, &t->best_step},
      {"train.best_val_mre", &t->best_val, NULL},
  };
  int n = (int)(sizeof list / sizeof *list);
  if (s) memcpy(s, list, sizeof list);
  return n;
}

#define MAX_SETTINGS 32

static hy_status save_checkpoint(hy_trainer *t, hy_error *err) {
  if (t->o.rank != 0) return HY_OK; /* the ranks' states are the same but their BN statistics */
  setting s[MAX_SETTINGS];
  int n = settings_of(t, s);
  char values[MAX_SETTINGS + 8][64];
  hy_model_extra_meta meta[MAX_SETTINGS + 8];
  hy_c_numeric loc;
  hy_c_numeric_enter(&loc);
  for (int i = 0; i < n; i++) {
    if (s[i].d) snprintf(values[i], sizeof values[i], "%.17g", *s[i].d);
    else snprintf(values[i], sizeof values[i], "%lld", (long long)*s[i].i);
    meta[i] = (hy_model_extra_meta){s[i].key, values[i]};
  }
  hy_c_numeric_leave(&loc);
  snprintf(values[n], sizeof values[n], "%lld", (long long)t->opt.step);
  meta[n] = (hy_model_extra_meta){"optim.step", values[n]};
  snprintf(values[n + 1], sizeof values[n + 1], "%08x", (unsigned)t->ids_crc);
  meta[n + 1] = (hy_model_extra_meta){"train.ids_crc", values[n + 1]};
  snprintf(values[n + 2], sizeof values[n + 2], "%llu", (unsigned long long)t->o.seed);
  meta[n + 2] = (hy_model_extra_meta){"train.seed", values[n + 2]};
  meta[n + 3] = (hy_model_extra_meta){"train.reference", t->reference};
  meta[n + 4] = (hy_model_extra_meta){"train.split", t->ds.split};
  int n_meta = n + 5;

  int32_t rng[8];
  for (int i = 0; i < 4; i++) {
    rng[2 * i] = (int32_t)(uint32_t)(t->rng.s[i] & 0xFFFFFFFFu);
    rng[2 * i + 1] = (int32_t)(uint32_t)(t->rng.s[i] >> 32);
  }
  hy_model_extra_tensor tensors[] = {
      {"optim/m", HY_F32, t->m, 1, {(int64_t)t->n_params}},
      {"optim/v", HY_F32, t->v, 1, {(int64_t)t->n_params}},
      {"train/order", HY_I32, t->order, 1, {t->n_train}},
      {"rng/state", HY_I32, rng, 1, {8}},
  };
  hy_model_extra extra = {tensors, 4, meta, n_meta};
  t->info.steps = t->step;
  t->info.metrics[0] = 0;
  if (isfinite(t->best_val))
    snprintf(t->info.metrics, sizeof t->info.metrics, "best validation MRE %.3f mm at step %lld",
             t->best_val, (long long)t->best_step);
  hy_status st = hy_model_save_ex(t->net, &t->info, &extra, t->last_path, err);
  t->last_checkpoint = now_seconds();
  if (st == HY_OK) {
    hy_train_progress p = {.event = HY_TRAIN_CHECKPOINT, .path = t->last_path};
    report(t, &p);
  }
  return st;
}

static int parse_i64(const char *s, int64_t *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end || errno) return 0;
  *out = v;
  return 1;
}

static hy_status load_state(hy_trainer *t, const hy_tensorfile *tf, hy_error *err) {
  const char *path = t->o.resume;
  const char *format = hy_tensorfile_meta(tf, "format");
  if (!format || strcmp(format, "hyatt-checkpoint") != 0)
    return hy_fail(err, HY_E_FORMAT, "%s is not a checkpoint (a '%s' file): cannot resume from it",
                   path, format ? format : "headerless");
  setting s[MAX_SETTINGS];
  int64_t steps_wanted = t->o.steps;
  int n = settings_of(t, s);
  hy_c_numeric loc;
  hy_c_numeric_enter(&loc);
  hy_status st = HY_OK;
  for (int i = 0; i < n && st == HY_OK; i++) {
    const char *v = hy_tensorfile_meta(tf, s[i].key);
    char *end = NULL;
    if (s[i].d) {
      double d = v ? strtod(v, &end) : NAN;
      if (!v || !*v || *end || isnan(d))
        st = hy_fail(err, HY_E_FORMAT, "%s: checkpoint header '%s' is missing or not a number",
                     path, s[i].key);
      else
        *s[i].d = d;
    } else if (!parse_i64(v, s[i].i)) {
      st = hy_fail(err, HY_E_FORMAT, "%s: checkpoint header '%s' is missing or not an integer",
                   path, s[i].key);
    }
  }
  hy_c_numeric_leave(&loc);
  if (st != HY_OK) return st;
  if (steps_wanted > 0) t->o.steps = steps_wanted;
  int64_t step, seed;
  const char *ref = hy_tensorfile_meta(tf, "train.reference");
  const char *split = hy_tensorfile_meta(tf, "train.split");
  if (!parse_i64(hy_tensorfile_meta(tf, "optim.step"), &step) || step < 0)
    return hy_fail(err, HY_E_FORMAT, "%s: checkpoint header 'optim.step' is missing or bad", path);
  if (!parse_i64(hy_tensorfile_meta(tf, "train.seed"), &seed))
    return hy_fail(err, HY_E_FORMAT, "%s: checkpoint header 'train.seed' is missing or bad", path);
  if (!ref || !split)
    return hy_fail(err, HY_E_FORMAT, "%s: checkpoint has no 'train.reference' or 'train.split'", path);
  t->opt.step = t->step = step;
  t->o.seed = (uint64_t)seed;
  free(t->reference);
  free(t->split);
  t->reference = strdup(ref);
  t->split = strdup(split);
  if (!t->reference || !t->split) return hy_fail(err, HY_E_NOMEM, "out of memory");
  t->o.reference = t->reference;
  t->o.split = t->split;
  return HY_OK;
}

/* After the data set is open: the tensors of the checkpoint. */
static hy_status load_tensors(hy_trainer *t, const hy_tensorfile *tf, hy_error *err) {
  const char *path = t->o.resume;
  const char *crc = hy_tensorfile_meta(tf, "train.ids_crc");
  char want[16];
  snprintf(want, sizeof want, "%08x", (unsigned)t->ids_crc);
  if (!crc || strcmp(crc, want) != 0)
    return hy_fail(err, HY_E_ARG, "%s was trained on other samples than the %d training images of "
                                  "%s split '%s' (id checksum %s, here %s)",
                   path, t->n_train, t->data_dir, t->ds.split, crc ? crc : "none", want);
  struct {
    const char *name;
    hy_dtype dtype;
    size_t n;
    void *dst;
  } x[] = {
      {"optim/m", HY_F32, t->n_params, t->m},
      {"optim/v", HY_F32, t->n_params, t->v},
      {"train/order", HY_I32, (size_t)t->n_train, t->order},
  };
  for (size_t i = 0; i < sizeof x / sizeof *x; i++) {
    const hy_tensor_entry *e = hy_tensorfile_find(tf, x[i].name);
    if (!e || e->dtype != x[i].dtype || e->nbytes != x[i].n * 4)
      return hy_fail(err, HY_E_FORMAT, "%s: checkpoint tensor %s is missing or not %zu %s values",
                     path, x[i].name, x[i].n, x[i].dtype == HY_F32 ? "float32" : "int32");
    memcpy(x[i].dst, e->data, e->nbytes);
  }
  const hy_tensor_entry *e = hy_tensorfile_find(tf, "rng/state");
  if (!e || e->dtype != HY_I32 || e->nbytes != 32)
    return hy_fail(err, HY_E_FORMAT, "%s: checkpoint tensor rng/state is missing or not 8 int32", path);
  const int32_t *r = e->data;
  for (int i = 0; i < 4; i++)
    t->rng.s[i] = (uint64_t)(uint32_t)r[2 * i] | (uint64_t)(uint32_t)r[2 * i + 1] << 32;
  if (t->position < 0 || t->position > t->n_train)
    return hy_fail(err, HY_E_FORMAT, "%s: position %lld in the sample order is not in 0..%d", path,
                   (long long)t->position, t->n_train);
  int *seen = calloc((size_t)t->n_train, sizeof *seen);
  if (!seen) return hy_fail(err, HY_E_NOMEM, "out of memory");
  hy_status st = HY_OK;
  for (int i = 0; i < t->n_train && st == HY_OK; i++)
    if (t->order[i] < 0 || t->order[i] >= t->n_train || seen[t->order[i]]++)
      st = hy_fail(err, HY_E_FORMAT, "%s: train/order is not a permutation of 0..%d", path,
                   t->n_train - 1);
  free(seen);
  return st;
}

/* ---- setup ---- */

static void shuffle(hy_trainer *t) {
  for (int i = t->n_train - 1; i > 0; i--) {
    int j = (int)hy_rng_below(&t->rng, (uint32_t)i + 1);
    int32_t tmp = t->order[i];
    t->order[i] = t->order[j];
    t->order[j] = tmp;
  }
}

/* PyTorch's defaults with the reference code's exceptions (NETWORK.md §6):
 * weights and biases U(±1/√fan_in), norm weights 1 and biases 0, neck convs
 * Xavier-uniform, head biases 0, the heads' output convs N(0, 0.001²).
 * Ours: the heads' 3×3 convs keep PyTorch's default, since at N(0, 0.001²)
 * their ReLUs started near zero and the first run lost whole landmark
 * channels (docs/network.md). */
static void init_weights(hy_net *net, uint64_t seed) {
  hy_net_init_seeded(net, seed);
  hy_plan *p = &net->plan;
  for (int i = 0; i < p->n_params; i++) {
    hy_param *t = &p->table[i];
    if (t->is_buffer) continue;
    const char *dot = strrchr(t->name, '.');
    int is_weight = strcmp(dot, ".weight") == 0;
    char owner[HY_NAME_MAX];
    snprintf(owner, sizeof owner, "%.*s", (int)(dot - t->name), t->name);
    const char *last = strrchr(owner, '.');
    last = last ? last + 1 : owner;
    int neck = strncmp(t->name, "lateral.", 8) == 0 || strncmp(t->name, "smooth.", 7) == 0;
    int head = strncmp(t->name, "head", 4) == 0;
    int head_out = head && strcmp(last, "out") == 0;
    if (strstr(last, "norm") || strstr(last, "bn")) {
      for (size_t j = 0; j < t->n; j++) t->w[j] = is_weight ? 1.0f : 0.0f;
    } else if ((neck || head) && !is_weight) {
      memset(t->w, 0, t->n * sizeof(float));
    } else if (neck) {
      size_t fan_in = t->n / (size_t)t->dims[0], fan_out = t->n / (size_t)t->dims[1];
      float bound = (float)sqrt(6.0 / (double)(fan_in + fan_out));
      hy_param_uniform(t->w, t->n, seed, t->name);
      for (size_t j = 0; j < t->n; j++) t->w[j] *= bound;
    } else if (head_out) {
      hy_rng r;
      hy_rng_seed(&r, seed ^ crc32(0, (const Bytef *)t->name, (uInt)strlen(t->name)));
      for (size_t j = 0; j < t->n; j++) t->w[j] = (float)(0.001 * hy_rng_normal(&r));
    }
  }
}

static hy_status make_net(hy_trainer *t, hy_tensorfile **tf, hy_error *err) {
  const hy_train_options *o = &t->o;
  if (o->resume) {
    hy_model_info info;
    hy_status st = hy_model_load_ex(&t->net, &info, tf, o->resume, 1, HY_TRAIN, o->threads, err);
    if (st != HY_OK) return st;
    if (!info.checkpoint)
      return hy_fail(err, HY_E_FORMAT, "%s is a model, not a checkpoint: cannot resume from it",
                     o->resume);
    if (info.landmark_count != t->ds.K)
      return hy_fail(err, HY_E_ARG, "%s has %d landmarks but the data set %s has %d", o->resume,
                     info.landmark_count, t->data_dir, t->ds.K);
    return HY_OK;
  }
  hy_net_config cfg;
  hy_status st = hy_net_config_named(&cfg, o->config ? o->config : "small", err);
  if (st != HY_OK) return st;
  if (cfg.mid_width == cfg.neck + cfg.img_width + cfg.landmarks)
    cfg.mid_width = cfg.neck + cfg.img_width + t->ds.K; /* `paper`: M = D + E + K */
  cfg.landmarks = t->ds.K;
  if (o->in_h > 0) cfg.in_h = o->in_h;
  if (o->in_w > 0) cfg.in_w = o->in_w;
  st = hy_net_config_check(&cfg, err);
  if (st == HY_OK) st = hy_net_create(&t->net, &cfg, 1, HY_TRAIN, o->threads, err);
  if (st == HY_OK) init_weights(t->net, o->seed);
  return st;
}

static hy_status check_options(const hy_train_options *o, hy_error *err) {
  if (!o->data_dir) return hy_fail(err, HY_E_ARG, "train: no data set folder");
  if (!o->out_dir) return hy_fail(err, HY_E_ARG, "train: no output folder");
  if (o->threads < 1 || o->threads > 256)
    return hy_fail(err, HY_E_ARG, "train: %d threads is not in 1..256", o->threads);
  if (!o->resume && o->steps < 1) return hy_fail(err, HY_E_ARG, "train: %lld steps", (long long)o->steps);
  if (!(o->lr > 0 && o->lr < 1) || !(o->weight_decay >= 0 && o->weight_decay < 1) ||
      !(o->clip_norm > 0) || o->warmup < 0)
    return hy_fail(err, HY_E_ARG, "train: learning rate %g, weight decay %g, clip norm %g or "
                                  "warm-up %lld out of range",
                   o->lr, o->weight_decay, o->clip_norm, (long long)o->warmup);
  if (!(o->val_fraction >= 0 && o->val_fraction < 1) || o->val_every < 0)
    return hy_fail(err, HY_E_ARG, "train: validation fraction %g or interval %lld out of range",
                   o->val_fraction, (long long)o->val_every);
  if (!(o->cache_factor >= 0.5 && o->cache_factor <= 8))
    return hy_fail(err, HY_E_ARG, "train: cache factor %g is not in [0.5, 8]", o->cache_factor);
  if (o->size < 1 || o->rank < 0 || o->rank >= o->size || (o->size > 1 && !o->allreduce) ||
      o->accumulate < 1 || o->accumulate > 1024)
    return hy_fail(err, HY_E_ARG, "train: rank %d of %d processes (all-reduce %s), %d samples "
                                  "a step per process: not valid",
                   o->rank, o->size, o->allreduce ? "given" : "missing", o->accumulate);
  return HY_OK;
}

static hy_status make_out_dir(const char *dir, hy_error *err) {
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return HY_OK;
    return hy_fail(err, HY_E_IO, "output %s exists and is not a folder", dir);
  }
  if (mkdir(dir, 0777) != 0)
    return hy_fail(err, HY_E_IO, "cannot create the output folder %s: %s", dir, strerror(errno));
  return HY_OK;
}

static void fill_info(hy_trainer *t) {
  hy_model_info *info = &t->info;
  const hy_dataset_spec *s = &t->ds.spec;
  memset(info, 0, sizeof *info);
  snprintf(info->landmark_set, sizeof info->landmark_set, "%s", s->landmark_set);
  info->landmark_count = t->ds.K;
  for (int k = 0; k < t->ds.K; k++)
    snprintf(info->landmark_names[k], sizeof info->landmark_names[k], "%s", s->landmark_names[k]);
  double spacing = s->spacing_mm, sum = 0;
  if (!(spacing > 0)) {
    for (int i = 0; i < t->ds.n; i++) sum += t->ds.spacing[i];
    spacing = sum / t->ds.n;
  }
  info->spacing_mm = spacing;
  snprintf(info->dataset, sizeof info->dataset, "%s split %s, %d training images, reference %s",
           s->name, t->ds.split, t->n_train, t->reference);
  snprintf(info->hyatt_version, sizeof info->hyatt_version, "%s", t->version ? t->version : "");
}

static hy_status setup(hy_trainer *t, hy_error *err) {
  hy_tensorfile *tf = NULL;
  hy_status st = HY_OK;
  if (t->o.resume) {
    /* the settings first: the split and reference select the data */
    st = hy_tensorfile_load(&tf, t->o.resume, HY_MODEL_FILE_MAX, err);
    if (st == HY_OK) st = load_state(t, tf, err);
    hy_tensorfile_free(tf);
    tf = NULL;
    if (st != HY_OK) return st;
  }
  st = hy_dataset_open(&t->ds, t->data_dir, t->o.spec, t->o.split, err);
  if (st == HY_OK) st = hy_dataset_reference(&t->ds, t->reference, &t->ref, err);
  if (st != HY_OK) return st;
  int n = t->ds.n;
  t->n_val = t->o.val_fraction > 0 && n >= 2 ? (int)floor(t->o.val_fraction * n + 0.5) : 0;
  if (t->o.val_fraction > 0 && n >= 2 && t->n_val < 1) t->n_val = 1;
  if (t->n_val > n - 1) t->n_val = n - 1;
  t->n_train = n - t->n_val;
  uLong crc = crc32(0L, Z_NULL, 0);
  for (int i = 0; i < t->n_train; i++)
    crc = crc32(crc, (const Bytef *)t->ds.ids[i], (uInt)strlen(t->ds.ids[i]) + 1);
  t->ids_crc = (uint32_t)crc;

  st = hy_pool_create(&t->pool, t->o.threads, err);
  if (st == HY_OK) st = make_net(t, &tf, err);
  if (st != HY_OK) {
    hy_tensorfile_free(tf);
    return st;
  }
  hy_net *net = t->net;
  int K = net->cfg.landmarks;
  t->n_params = net->plan.params.used / sizeof(float);
  t->m = calloc(t->n_params, sizeof *t->m);
  t->v = calloc(t->n_params, sizeof *t->v);
  t->order = calloc((size_t)t->n_train, sizeof *t->order);
  t->weights = calloc((size_t)K, sizeof *t->weights);
  t->in_points = calloc((size_t)K, sizeof *t->in_points);
  t->val_errors = calloc((size_t)(t->n_val ? t->n_val : 1) * K, sizeof *t->val_errors);
  t->pred = calloc(1, sizeof *t->pred);
  int ok = t->m && t->v && t->order && t->weights && t->in_points && t->val_errors && t->pred;
  if (!ok) st = hy_fail(err, HY_E_NOMEM, "no memory for the training state");
  if (st == HY_OK) st = hy_sample_loss_init(&t->sample, net, err);
  hy_adam_init(&t->opt, 1, t->o.weight_decay);
  if (st == HY_OK && tf) {
    t->opt.step = t->step;
    st = load_tensors(t, tf, err);
  } else if (st == HY_OK) {
    hy_rng_seed(&t->rng, t->o.seed);
    for (int i = 0; i < t->n_train; i++) t->order[i] = i;
    shuffle(t);
    t->best_val = INFINITY;
    t->best_step = -1;
  }
  hy_tensorfile_free(tf);
  if (st == HY_OK && t->o.rank == 0) st = make_out_dir(t->out_dir, err);
  if (st != HY_OK) return st;
  fill_info(t);
  t->last_path = path_join(t->out_dir, "last.hyatt");
  t->best_path = path_join(t->out_dir, "best.hyatt");
  if (!t->last_path || !t->best_path) return hy_fail(err, HY_E_NOMEM, "out of memory");
  hy_blas_set_threads(t->o.threads);
  return build_cache(t, err);
}

hy_status hy_trainer_new(hy_trainer **out, const hy_train_options *o, hy_error *err) {
  *out = NULL;
  hy_status st = check_options(o, err);
  if (st != HY_OK) return st;
  hy_trainer *t = calloc(1, sizeof *t);
  if (!t) return hy_fail(err, HY_E_NOMEM, "out of memory");
  t->o = *o;
  if (o->spec) {
    t->spec = *o->spec;
    t->o.spec = &t->spec;
  }
  t->data_dir = strdup(o->data_dir);
  t->out_dir = strdup(o->out_dir);
  t->reference = strdup(o->reference ? o->reference : "mean");
  t->split = dup_or_null(o->split);
  t->version = dup_or_null(o->version);
  char *resume = dup_or_null(o->resume);
  t->o.resume = resume;
  t->o.data_dir = t->data_dir;
  t->o.out_dir = t->out_dir;
  t->o.reference = t->reference;
  t->o.split = t->split;
  t->o.version = t->version;
  t->o.config = NULL;
  static const char *const configs[] = {"small", "paper", "tiny"};
  for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
    if (o->config && strcmp(o->config, configs[i]) == 0) t->o.config = configs[i];
  if (o->config && !t->o.config && !o->resume)
    st = hy_fail(err, HY_E_ARG, "unknown network configuration '%s' (paper, small or tiny)", o->config);
  if (st == HY_OK && (!t->data_dir || !t->out_dir || !t->reference || (o->split && !t->split) ||
                      (o->version && !t->version) || (o->resume && !resume)))
    st = hy_fail(err, HY_E_NOMEM, "out of memory");
  if (st == HY_OK) st = setup(t, err);
  if (st != HY_OK) {
    hy_trainer_free(t);
    return st;
  }
  t->last_checkpoint = now_seconds();
  *out = t;
  return HY_OK;
}

void hy_trainer_free(hy_trainer *t) {
  if (!t) return;
  for (int i = 0; t->cache && i < t->n_train; i++) hy_kept_image_free(&t->cache[i].k);
  free(t->cache);
  free(t->work);
  hy_net_free(t->net);
  hy_pool_destroy(t->pool);
  free(t->m);
  free(t->v);
  hy_sample_loss_free(&t->sample);
  free(t->weights);
  free(t->in_points);
  free(t->val_errors);
  free(t->pred);
  free(t->order);
  hy_dataset_free(&t->ds);
  free(t->data_dir);
  free(t->split);
  free(t->reference);
  free(t->out_dir);
  free(t->version);
  free((char *)t->o.resume);
  free(t->last_path);
  free(t->best_path);
  free(t);
}

hy_net *hy_trainer_net(hy_trainer *t) { return t->net; }
int64_t hy_trainer_step(const hy_trainer *t) { return t->step; }
int hy_trainer_train_count(const hy_trainer *t) { return t->n_train; }
int hy_trainer_val_count(const hy_trainer *t) { return t->n_val; }
double hy_trainer_best_val(const hy_trainer *t) { return t->best_val; }

/* ---- the loop ---- */

/* HY_OK, or HY_E_NUMERIC naming the step and the tensor of the first
 * non-finite element of the parameter (or gradient) arena. */
static hy_status check_finite(hy_trainer *t, const float *arena, int grads, hy_error *err) {
  if (hy_grad_check_finite(arena, t->n_params, "arena", t->pool, NULL) == HY_OK) return HY_OK;
  size_t i = 0;
  while (i < t->n_params && isfinite(arena[i])) i++;
  const hy_plan *p = &t->net->plan;
  const char *name = "(padding)";
  size_t at = i;
  for (int j = 0; j < p->n_params; j++) {
    const float *base = grads ? p->table[j].g : p->table[j].w;
    if (!p->table[j].is_buffer && arena + i >= base && arena + i < base + p->table[j].n) {
      name = p->table[j].name;
      at = (size_t)(arena + i - base);
    }
  }
  return hy_fail(err, HY_E_NUMERIC, "step %lld: %s %s[%zu] is %s; stopped without writing a "
                                    "checkpoint, the last one is unchanged",
                 (long long)t->step + 1, grads ? "the gradient of" : "weight", name, at,
                 isnan(arena[i]) ? "NaN" : "infinite");
}

/* Sums buf[0..n) over the processes (a no-op alone). */
static hy_status reduce(hy_trainer *t, float *buf, size_t n, hy_error *err) {
  if (t->o.size == 1 || t->o.allreduce(buf, n, t->o.allreduce_user) == 0) return HY_OK;
  return hy_fail(err, HY_E_IO, "step %lld: the all-reduce over %d processes failed",
                 (long long)t->step + 1, t->o.size);
}

/* The next sample of the shared order and the seed of its augmentation.
 * Every process calls this for every sample of a step, its own or not, so
 * that order and generator stay the same on all. */
static int next_sample(hy_trainer *t, uint64_t *seed) {
  if (t->position >= t->n_train) {
    shuffle(t);
    t->position = 0;
  }
  *seed = hy_rng_next(&t->rng);
  return t->order[t->position++];
}

/* Augments sample idx, renders its targets, runs forward and the loss, and
 * when the loss is finite backward, which adds to the gradients. */
static hy_status sample_grad(hy_trainer *t, int idx, uint64_t seed, double *loss, hy_error *err) {
  hy_net *net = t->net;
  const hy_net_config *c = &net->cfg;
  const hy_kept_image *k = &t->cache[idx].k;
  hy_image src = hy_kept_image_expand(k, t->work);
  hy_rng rng;
  hy_rng_seed(&rng, seed);
  hy_status st = hy_augment_sample(net->input, t->in_points, t->weights, NULL, &src, &k->to_kept,
                                   k->w, k->h, hy_dataset_points(&t->ds, t->ref, idx),
                                   c->landmarks, c->in_w, c->in_h, &t->o.augment, &rng, err);
  if (st != HY_OK) return st;
  hy_run run = {t->pool, net->plan.scratch, HY_BN_BATCH};
  *loss = hy_sample_loss_backward(&t->sample, net, t->in_points, t->weights, &run);
  return HY_OK;
}

static hy_status train_step(hy_trainer *t, hy_train_progress *p, hy_error *err) {
  hy_net *net = t->net;
  float *grads = (float *)net->plan.grads.base, *params = (float *)net->plan.params.base;
  hy_status st = check_finite(t, params, 0, err);
  if (st != HY_OK) return st;
  hy_net_zero_grad(net);
  int batch = t->o.size * t->o.accumulate, bad_idx = -1;
  double bad_loss = 0;
  float sums[2] = {0, 0}; /* [2]: loss sum, non-finite losses; summed over the processes */
  for (int s = 0; s < batch; s++) {
    uint64_t seed;
    int idx = next_sample(t, &seed);
    if (s % t->o.size != t->o.rank) continue;
    double loss;
    st = sample_grad(t, idx, seed, &loss, err);
    if (st != HY_OK) return st;
    if (isfinite(loss)) {
      sums[0] += (float)loss;
    } else {
      sums[1] += 1;
      bad_idx = idx;
      bad_loss = loss;
    }
  }
  st = reduce(t, sums, 2, err);
  if (st != HY_OK) return st;
  if (bad_idx >= 0)
    return hy_fail(err, HY_E_NUMERIC, "step %lld: the loss is %s (sample '%s'); stopped without "
                                      "writing a checkpoint, the last one is unchanged",
                   (long long)t->step + 1, isnan(bad_loss) ? "NaN" : "infinite", t->ds.ids[bad_idx]);
  if (sums[1] > 0)
    return hy_fail(err, HY_E_NUMERIC, "step %lld: the loss is not finite on another process; "
                                      "stopped without writing a checkpoint, the last one is "
                                      "unchanged", (long long)t->step + 1);
  st = reduce(t, grads, t->n_params, err);
  if (st != HY_OK) return st;
  if (batch > 1) {
    /* the mean gradient, as one process with a batch of all the samples */
    float inv = 1.0f / (float)batch;
    for (size_t i = 0; i < t->n_params; i++) grads[i] *= inv;
  }
  st = check_finite(t, grads, 1, err);
  if (st != HY_OK) return st;
  double norm = hy_clip_grad_norm(grads, t->n_params, (float)t->o.clip_norm, t->pool);
  double lr = hy_train_lr(t->step, t->o.steps, t->o.warmup, t->o.lr);
  hy_adam_update(&t->opt, params, t->m, t->v, grads, lr, t->n_params, t->pool);
  t->step++;
  p->loss = sums[0] / batch;
  p->lr = lr;
  p->grad_norm = norm;
  return HY_OK;
}

static hy_status validate(hy_trainer *t, hy_error *err) {
  if (t->n_val == 0 || t->o.rank != 0) return HY_OK;
  hy_net *net = t->net;
  const hy_net_config *c = &net->cfg;
  int K = c->landmarks;
  hy_run run = {t->pool, net->plan.scratch, HY_BN_RUNNING};
  for (int j = 0; j < t->n_val; j++) {
    int i = t->n_train + j;
    hy_image img = {0};
    hy_status st = hy_image_load(&img, t->ds.paths[i], err);
    if (st != HY_OK) return st;
    int w = img.width, h = img.height;
    hy_affine to_input = hy_affine_letterbox(w, h, c->in_w, c->in_h, NULL);
    st = hy_predict_prepare(net->input, c->in_w, c->in_h, &img, &to_input, NULL, NULL, err);
    hy_image_free(&img);
    if (st != HY_OK) return st;
    hy_net_forward(net, &run);
    hy_heads_view heads = hy_heads_view_of(net, 0);
    st = hy_predict_decode(t->pred, &heads, &to_input, w, h, NULL, err);
    if (st != HY_OK) return st;
    hy_radial_errors_mm(t->val_errors + (size_t)j * K, t->pred->points,
                        hy_dataset_points(&t->ds, t->ref, i), K, t->ds.spacing[i]);
  }
  hy_error_stats s;
  hy_error_stats_compute(&s, t->val_errors, (size_t)t->n_val * K, 1);
  hy_train_progress p = {.event = HY_TRAIN_VALIDATED, .val_mre_mm = s.mre_mm,
                         .val_sd_mm = s.sd_mm, .val_sdr2 = s.sdr[0], .val_images = t->n_val};
  if (s.mre_mm < t->best_val) {
    t->best_val = s.mre_mm;
    t->best_step = t->step;
    p.val_best = 1;
    t->info.steps = t->step;
    snprintf(t->info.metrics, sizeof t->info.metrics,
             "validation MRE %.3f mm, SDR 2 mm %.1f %% (%d images) at step %lld", s.mre_mm,
             100 * s.sdr[0], t->n_val, (long long)t->step);
    hy_status st = hy_model_save(net, &t->info, t->best_path, err);
    if (st != HY_OK) return st;
  }
  report(t, &p);
  return HY_OK;
}

hy_status hy_trainer_run(hy_trainer *t, hy_error *err) {
  hy_blas_set_threads(t->o.threads);
  hy_status st = HY_OK;
  int64_t start = t->step;
  while (t->step < t->o.steps) {
    /* all processes stop at the same step, whichever was asked to */
    float stop = t->o.stop && *t->o.stop ? 1.0f : 0.0f;
    st = reduce(t, &stop, 1, err);
    if (st != HY_OK) return st;
    if (stop > 0) {
      st = save_checkpoint(t, err);
      if (st != HY_OK) return st;
      return hy_fail(err, HY_E_CANCELLED, "stopped at step %lld of %lld; checkpoint %s",
                     (long long)t->step, (long long)t->o.steps, t->last_path);
    }
    double t0 = now_seconds();
    hy_train_progress p = {.event = HY_TRAIN_STEP};
    st = train_step(t, &p, err);
    if (st != HY_OK) return st;
    double dt = now_seconds() - t0;
    t->sec_per_step = t->sec_per_step > 0 ? (1 - EMA) * t->sec_per_step + EMA * dt : dt;
    report(t, &p);
    if (t->o.val_every > 0 && t->step % t->o.val_every == 0 && t->step < t->o.steps) {
      st = validate(t, err);
      if (st != HY_OK) return st;
    }
    if (t->step < t->o.steps && now_seconds() - t->last_checkpoint >= t->o.checkpoint_seconds) {
      st = save_checkpoint(t, err);
      if (st != HY_OK) return st;
    }
  }
  if (t->step == start) return HY_OK; /* resumed from a finished run */
  if (t->n_val > 0) {
    st = validate(t, err);
  } else if (t->o.rank == 0) {
    t->info.steps = t->step;
    t->info.metrics[0] = 0;
    st = hy_model_save(t->net, &t->info, t->best_path, err);
  }
  if (st != HY_OK) return st;
  return save_checkpoint(t, err);
}

hy_status hy_train(const hy_train_options *o, hy_error *err) {
  hy_trainer *t = NULL;
  hy_status st = hy_trainer_new(&t, o, err);
  if (st == HY_OK) st = hy_trainer_run(t, err);
  hy_trainer_free(t);
  return st;
}
