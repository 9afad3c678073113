#include "adam.h"

#include <math.h>

/* Work is cut into at most MAX_CHUNKS chunks of at least CHUNK_MIN elements,
 * a function of n alone: reductions add per-chunk partials in chunk order. */
#define CHUNK_MIN 16384
#define MAX_CHUNKS 256
#define LANES 8

typedef struct {
  size_t n, size;
  int count;
} chunking;

static chunking chunks_for(size_t n) {
  size_t size = (n + MAX_CHUNKS - 1) / MAX_CHUNKS;
  if (size < CHUNK_MIN) size = CHUNK_MIN;
  return (chunking){n, size, (int)((n + size - 1) / size)};
}

static size_t chunk_begin(const chunking *c, int i) {
  size_t b = (size_t)i * c->size;
  return b < c->n ? b : c->n;
}

void hy_adam_init(hy_adam *opt, int decoupled, double weight_decay) {
  *opt = (hy_adam){
      .beta1 = 0.9,
      .beta2 = 0.999,
      .eps = 1e-8,
      .weight_decay = weight_decay,
      .decoupled = decoupled,
  };
}

hy_status hy_adam_set_no_decay(hy_adam *opt, const hy_adam_range *ranges,
                               int n_ranges, size_t n, hy_error *err) {
  for (int i = 0; i < n_ranges; i++) {
    const hy_adam_range *r = &ranges[i];
    if (r->begin >= r->end || r->end > n)
      return hy_fail(err, HY_E_ARG,
                     "no-decay range %d [%zu, %zu) is empty or outside the %zu parameters",
                     i, r->begin, r->end, n);
    if (i > 0 && r->begin < ranges[i - 1].end)
      return hy_fail(err, HY_E_ARG,
                     "no-decay range %d [%zu, %zu) overlaps or precedes range %d ending at %zu",
                     i, r->begin, r->end, i - 1, ranges[i - 1].end);
  }
  opt->no_decay = ranges;
  opt->n_no_decay = n_ranges;
  return HY_OK;
}

typedef struct {
  float *p, *m, *v;
  const float *g;
  const hy_adam *opt;
  chunking ch;
  /* float constants, rounded as torch rounds its Python scalars */
  float b1, omb1, b2, omb2, eps, wd, keep, neg_step, bc2_sqrt;
} adam_ctx;

/* Elements [b, e) with weight decay on (decay = 1) or off. The statement
 * order follows torch's in-place calls, so results agree to rounding. */
static void adam_span(const adam_ctx *c, size_t b, size_t e, int decay) {
  float *restrict p = c->p, *restrict m = c->m, *restrict v = c->v;
  const float *restrict g = c->g;
  if (c->opt->decoupled) {
    float keep = decay ? c->keep : 1.0f;
    for (size_t i = b; i < e; i++) {
      float pi = p[i] * keep;
      float mi = m[i] * c->b1 + c->omb1 * g[i];
      float vi = v[i] * c->b2 + c->omb2 * g[i] * g[i];
      float denom = sqrtf(vi) / c->bc2_sqrt + c->eps;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi + c->neg_step * mi / denom;
    }
  } else {
    float wd = decay ? c->wd : 0.0f;
    for (size_t i = b; i < e; i++) {
      float gi = g[i] + wd * p[i];
      float mi = m[i] * c->b1 + c->omb1 * gi;
      float vi = v[i] * c->b2 + c->omb2 * gi * gi;
      float denom = sqrtf(vi) / c->bc2_sqrt + c->eps;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] + c->neg_step * mi / denom;
    }
  }
}

/* Index of the first range ending after pos. */
static int first_range_after(const hy_adam_range *r, int nr, size_t pos) {
  int lo = 0, hi = nr;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (r[mid].end <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static void adam_task(void *p, int task, int thread) {
  const adam_ctx *c = p;
  const hy_adam_range *r = c->opt->no_decay;
  int nr = r ? c->opt->n_no_decay : 0;
  size_t pos = chunk_begin(&c->ch, task), e = chunk_begin(&c->ch, task + 1);
  int k = first_range_after(r, nr, pos);
  while (pos < e) {
    if (k < nr && r[k].begin <= pos) {
      size_t stop = r[k].end < e ? r[k].end : e;
      adam_span(c, pos, stop, 0);
      pos = stop;
      k++;
    } else {
      size_t stop = k < nr && r[k].begin < e ? r[k].begin : e;
      adam_span(c, pos, stop, 1);
      pos = stop;
    }
  }
}

void hy_adam_update(hy_adam *opt, float *params, float *m, float *v,
                    const float *grads, double lr, size_t n, hy_pool *pool) {
  opt->step++;
  double t = (double)opt->step;
  double bc1 = 1.0 - pow(opt->beta1, t);
  double bc2 = 1.0 - pow(opt->beta2, t);
  adam_ctx c = {
      .p = params, .m = m, .v = v, .g = grads,
      .opt = opt,
      .ch = chunks_for(n),
      .b1 = (float)opt->beta1,
      .omb1 = (float)(1.0 - opt->beta1),
      .b2 = (float)opt->beta2,
      .omb2 = (float)(1.0 - opt->beta2),
      .eps = (float)opt->eps,
      .wd = (float)opt->weight_decay,
      .keep = (float)(1.0 - lr * opt->weight_decay),
      .neg_step = (float)(-(lr / bc1)),
      .bc2_sqrt = (float)sqrt(bc2),
  };
  hy_pool_run(pool, c.ch.count, adam_task, &c);
}

typedef struct {
  float *g;
  const float *cg; /* the gradients when only read */
  const float *p, *base;
  float k;
  chunking ch;
  double partial[MAX_CHUNKS];
  size_t first_bad[MAX_CHUNKS];
} grad_ctx;

static void sq_task(void *p, int task, int thread) {
  grad_ctx *c = p;
  const float *g = c->g;
  size_t b = chunk_begin(&c->ch, task), e = chunk_begin(&c->ch, task + 1);
  double acc[LANES] = {0};
  size_t i = b;
  for (; i + LANES <= e; i += LANES)
    for (int j = 0; j < LANES; j++) acc[j] += (double)g[i + j] * g[i + j];
  for (; i < e; i++) acc[0] += (double)g[i] * g[i];
  double s = 0;
  for (int j = 0; j < LANES; j++) s += acc[j];
  c->partial[task] = s;
}

static void scale_task(void *p, int task, int thread) {
  grad_ctx *c = p;
  size_t b = chunk_begin(&c->ch, task), e = chunk_begin(&c->ch, task + 1);
  for (size_t i = b; i < e; i++) c->g[i] *= c->k;
}

float hy_clip_grad_norm(float *grads, size_t n, float max_norm, hy_pool *pool) {
  grad_ctx c = {.g = grads, .ch = chunks_for(n)};
  hy_pool_run(pool, c.ch.count, sq_task, &c);
  double s = 0;
  for (int i = 0; i < c.ch.count; i++) s += c.partial[i];
  float norm = (float)sqrt(s);
  /* torch computes the factor on float32 tensors */
  float k = max_norm / (norm + 1e-6f);
  if (isfinite(norm) && k < 1.0f) {
    c.k = k;
    hy_pool_run(pool, c.ch.count, scale_task, &c);
  }
  return norm;
}

static void finite_task(void *p, int task, int thread) {
  grad_ctx *c = p;
  size_t b = chunk_begin(&c->ch, task), e = chunk_begin(&c->ch, task + 1);
  c->first_bad[task] = e;
  for (size_t i = b; i < e; i++)
    if (!isfinite(c->cg[i])) {
      c->first_bad[task] = i;
      return;
    }
}

hy_status hy_grad_check_finite(const float *grads, size_t n, const char *what,
                               hy_pool *pool, hy_error *err) {
  grad_ctx c = {.cg = grads, .ch = chunks_for(n)};
  hy_pool_run(pool, c.ch.count, finite_task, &c);
  for (int i = 0; i < c.ch.count; i++)
    if (c.first_bad[i] < chunk_begin(&c.ch, i + 1)) {
      size_t j = c.first_bad[i];
      return hy_fail(err, HY_E_NUMERIC, "%s: element %zu of %zu is %g",
                     what, j, n, (double)grads[j]);
    }
  return HY_OK;
}

static void pull_task(void *p, int task, int thread) {
  grad_ctx *c = p;
  size_t b = chunk_begin(&c->ch, task), e = chunk_begin(&c->ch, task + 1);
  for (size_t i = b; i < e; i++) c->g[i] += c->k * (c->p[i] - c->base[i]);
}

void hy_grad_pull_to_base(float *grads, const float *params, const float *base,
                          float lambda, size_t n, hy_pool *pool) {
  grad_ctx c = {.g = grads, .p = params, .base = base, .k = lambda,
                .ch = chunks_for(n)};
  hy_pool_run(pool, c.ch.count, pull_task, &c);
}
