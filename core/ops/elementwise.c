#include "elementwise.h"

#include "vecmath.h"

/* Floats per task of the same-shape kernels, and pixels per task of the
 * per-pixel broadcast (its db band, 4 KB, stays in L1 across channels). */
#define CHUNK 16384
#define BAND 1024

typedef struct {
  float *y, *da, *db;
  const float *a, *b, *dy, *r;
  hy_bcast bc;
  int mul, C, bands;
  size_t hw, n;
} ew_ctx;

/* ---- streaming kernels (no restrict: y may be a) ---- */

static HY_HOT void add_vv(float *y, const float *a, const float *b, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static HY_HOT void mul_vv(float *y, const float *a, const float *b, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

static HY_HOT void add_vs(float *y, const float *a, float s, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + s;
}

static HY_HOT void mul_vs(float *y, const float *a, float s, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] * s;
}

static HY_HOT void acc(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static HY_HOT void acc_scaled(float *y, const float *x, float s, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i] * s;
}

static HY_HOT void acc_mul(float *y, const float *x, const float *z, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i] * z[i];
}

static HY_HOT void mul_add_relu(float *y, const float *a, const float *b, const float *r,
                                size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = a[i] * b[i] + r[i];
    y[i] = v < 0.0f ? 0.0f : v;
  }
}

/* dot product with 8 explicit lanes (fixed order, vectorisable) */
static HY_HOT float dot8(const float *x, const float *z, size_t n) {
  float s[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) s[j] += x[i + j] * z[i + j];
  for (; i < n; i++) s[i & 7] += x[i] * z[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* ---- task partitions ---- */

static int n_tasks(const ew_ctx *c) {
  switch (c->bc) {
  case HY_BCAST_CHANNEL: return (int)(c->n / c->hw);
  case HY_BCAST_PIXEL: return (int)(c->n / (c->hw * c->C)) * c->bands;
  default: return (int)((c->n + CHUNK - 1) / CHUNK);
  }
}

/* the pixel band [*p0, *p0 + return) of image *img for a PIXEL task */
static size_t band_of(const ew_ctx *c, int t, int *img, size_t *p0) {
  *img = t / c->bands;
  *p0 = (size_t)(t % c->bands) * BAND;
  return c->hw - *p0 < BAND ? c->hw - *p0 : BAND;
}

static void fwd_task(void *p, int t, int thread) {
  const ew_ctx *c = p;
  if (c->bc == HY_BCAST_NONE) {
    size_t i0 = (size_t)t * CHUNK, len = c->n - i0 < CHUNK ? c->n - i0 : CHUNK;
    (c->mul ? mul_vv : add_vv)(c->y + i0, c->a + i0, c->b + i0, len);
  } else if (c->bc == HY_BCAST_CHANNEL) {
    size_t o = (size_t)t * c->hw;
    (c->mul ? mul_vs : add_vs)(c->y + o, c->a + o, c->b[t], c->hw);
  } else {
    int img;
    size_t p0, len = band_of(c, t, &img, &p0);
    const float *b = c->b + (size_t)img * c->hw + p0;
    for (int ch = 0; ch < c->C; ch++) {
      size_t o = ((size_t)img * c->C + ch) * c->hw + p0;
      (c->mul ? mul_vv : add_vv)(c->y + o, c->a + o, b, len);
    }
  }
}

static void mul_add_relu_task(void *p, int t, int thread) {
  const ew_ctx *c = p;
  int img;
  size_t p0, len = band_of(c, t, &img, &p0);
  const float *b = c->b + (size_t)img * c->hw + p0;
  for (int ch = 0; ch < c->C; ch++) {
    size_t o = ((size_t)img * c->C + ch) * c->hw + p0;
    mul_add_relu(c->y + o, c->a + o, b, c->r + o, len);
  }
}

static void bwd_task(void *p, int t, int thread) {
  const ew_ctx *c = p;
  if (c->bc == HY_BCAST_NONE) {
    size_t i0 = (size_t)t * CHUNK, len = c->n - i0 < CHUNK ? c->n - i0 : CHUNK;
    const float *dy = c->dy + i0;
    if (c->da) {
      if (c->mul) acc_mul(c->da + i0, dy, c->b + i0, len);
      else acc(c->da + i0, dy, len);
    }
    if (c->db) {
      if (c->mul) acc_mul(c->db + i0, dy, c->a + i0, len);
      else acc(c->db + i0, dy, len);
    }
  } else if (c->bc == HY_BCAST_CHANNEL) {
    size_t o = (size_t)t * c->hw;
    const float *dy = c->dy + o;
    if (c->da) {
      if (c->mul) acc_scaled(c->da + o, dy, c->b[t], c->hw);
      else acc(c->da + o, dy, c->hw);
    }
    if (c->db) c->db[t] += c->mul ? dot8(dy, c->a + o, c->hw) : hy_vsum(dy, (int)c->hw);
  } else {
    int img;
    size_t p0, len = band_of(c, t, &img, &p0);
    const float *b = c->b ? c->b + (size_t)img * c->hw + p0 : NULL;
    float *db = c->db ? c->db + (size_t)img * c->hw + p0 : NULL;
    for (int ch = 0; ch < c->C; ch++) {
      size_t o = ((size_t)img * c->C + ch) * c->hw + p0;
      const float *dy = c->dy + o;
      if (c->da) {
        if (c->mul) acc_mul(c->da + o, dy, b, len);
        else acc(c->da + o, dy, len);
      }
      if (db) {
        if (c->mul) acc_mul(db, dy, c->a + o, len);
        else acc(db, dy, len);
      }
    }
  }
}

static void run(hy_task_fn fn, ew_ctx *c, hy_bcast bc, int N, int C, int H,
                int W, hy_pool *pool) {
  c->bc = bc;
  c->C = C;
  c->hw = (size_t)H * W;
  c->n = (size_t)N * C * c->hw;
  c->bands = (int)((c->hw + BAND - 1) / BAND);
  hy_pool_run(pool, n_tasks(c), fn, c);
}

size_t hy_bcast_size(hy_bcast bc, int N, int C, int H, int W) {
  switch (bc) {
  case HY_BCAST_CHANNEL: return (size_t)N * C;
  case HY_BCAST_PIXEL: return (size_t)N * H * W;
  default: return (size_t)N * C * H * W;
  }
}

void hy_add_forward(float *y, const float *a, const float *b, hy_bcast bc,
                    int N, int C, int H, int W, hy_pool *pool) {
  ew_ctx c = {.y = y, .a = a, .b = b};
  run(fwd_task, &c, bc, N, C, H, W, pool);
}

void hy_mul_add_relu_forward(float *y, const float *a, const float *s, const float *r, int N,
                             int C, int H, int W, hy_pool *pool) {
  ew_ctx c = {.y = y, .a = a, .b = s, .r = r};
  run(mul_add_relu_task, &c, HY_BCAST_PIXEL, N, C, H, W, pool);
}

void hy_add_backward(float *da, float *db, const float *dy, hy_bcast bc, int N,
                     int C, int H, int W, hy_pool *pool) {
  ew_ctx c = {.da = da, .db = db, .dy = dy};
  run(bwd_task, &c, bc, N, C, H, W, pool);
}

void hy_mul_forward(float *y, const float *a, const float *b, hy_bcast bc,
                    int N, int C, int H, int W, hy_pool *pool) {
  ew_ctx c = {.y = y, .a = a, .b = b, .mul = 1};
  run(fwd_task, &c, bc, N, C, H, W, pool);
}

void hy_mul_backward(float *da, float *db, const float *dy, const float *a,
                     const float *b, hy_bcast bc, int N, int C, int H, int W,
                     hy_pool *pool) {
  ew_ctx c = {.da = da, .db = db, .dy = dy, .a = a, .b = b, .mul = 1};
  run(bwd_task, &c, bc, N, C, H, W, pool);
}

static void inplace_task(void *p, int t, int thread) {
  const ew_ctx *c = p;
  size_t i0 = (size_t)t * CHUNK, len = c->n - i0 < CHUNK ? c->n - i0 : CHUNK;
  acc(c->y + i0, c->a + i0, len);
}

void hy_add_inplace_forward(float *y, const float *x, size_t n, hy_pool *pool) {
  ew_ctx c = {.y = y, .a = x, .n = n};
  hy_pool_run(pool, (int)((n + CHUNK - 1) / CHUNK), inplace_task, &c);
}

void hy_add_inplace_backward(float *dx, const float *dy, size_t n,
                             hy_pool *pool) {
  hy_add_inplace_forward(dx, dy, n, pool);
}

/* ---- naive references ---- */

/* index of b for element (n, c, i) of a */
static size_t bidx(hy_bcast bc, int n, int c, size_t i, int C, size_t hw) {
  switch (bc) {
  case HY_BCAST_CHANNEL: return (size_t)n * C + c;
  case HY_BCAST_PIXEL: return (size_t)n * hw + i;
  default: return ((size_t)n * C + c) * hw + i;
  }
}

static void fwd_naive(float *y, const float *a, const float *b, int mul,
                      hy_bcast bc, int N, int C, int H, int W) {
  size_t hw = (size_t)H * W;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (size_t i = 0; i < hw; i++) {
        size_t k = ((size_t)n * C + c) * hw + i;
        float bv = b[bidx(bc, n, c, i, C, hw)];
        y[k] = mul ? a[k] * bv : a[k] + bv;
      }
}

/* term of db for element k of a */
static double dbterm(const float *dy, const float *a, int mul, size_t k) {
  return mul ? (double)dy[k] * a[k] : dy[k];
}

/* each element of db sums, in double, every element of a that maps to it */
static void bwd_naive(float *da, float *db, const float *dy, const float *a,
                      const float *b, int mul, hy_bcast bc, int N, int C,
                      int H, int W) {
  size_t hw = (size_t)H * W;
  if (da)
    for (int n = 0; n < N; n++)
      for (int c = 0; c < C; c++)
        for (size_t i = 0; i < hw; i++) {
          size_t k = ((size_t)n * C + c) * hw + i;
          da[k] += mul ? dy[k] * b[bidx(bc, n, c, i, C, hw)] : dy[k];
        }
  if (!db) return;
  for (int n = 0; n < N; n++) {
    if (bc == HY_BCAST_NONE)
      for (size_t k = (size_t)n * C * hw; k < (size_t)(n + 1) * C * hw; k++)
        db[k] += (float)dbterm(dy, a, mul, k);
    else if (bc == HY_BCAST_CHANNEL)
      for (int c = 0; c < C; c++) {
        double s = 0;
        for (size_t i = 0; i < hw; i++)
          s += dbterm(dy, a, mul, ((size_t)n * C + c) * hw + i);
        db[(size_t)n * C + c] += (float)s;
      }
    else
      for (size_t i = 0; i < hw; i++) {
        double s = 0;
        for (int c = 0; c < C; c++)
          s += dbterm(dy, a, mul, ((size_t)n * C + c) * hw + i);
        db[(size_t)n * hw + i] += (float)s;
      }
  }
}

void hy_add_forward_naive(float *y, const float *a, const float *b,
                          hy_bcast bc, int N, int C, int H, int W) {
  fwd_naive(y, a, b, 0, bc, N, C, H, W);
}

void hy_add_backward_naive(float *da, float *db, const float *dy, hy_bcast bc,
                           int N, int C, int H, int W) {
  bwd_naive(da, db, dy, NULL, NULL, 0, bc, N, C, H, W);
}

void hy_mul_forward_naive(float *y, const float *a, const float *b,
                          hy_bcast bc, int N, int C, int H, int W) {
  fwd_naive(y, a, b, 1, bc, N, C, H, W);
}

void hy_mul_backward_naive(float *da, float *db, const float *dy,
                           const float *a, const float *b, hy_bcast bc, int N,
                           int C, int H, int W) {
  bwd_naive(da, db, dy, a, b, 1, bc, N, C, H, W);
}
