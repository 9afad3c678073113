#include "bra.h"

#include <math.h>
#include <string.h>

#include "linear.h"
#include "vecmath.h"

/* LePE kernels keep K row pointers on the stack. */
#define LEPE_KMAX 15
/* Row chunks of the token linears: fixed, so the partial sums of dW (added
 * in chunk order) do not depend on the thread count. */
#define LIN_CHUNKS 8
/* Row bands per image: fixed by the dimensions, so the per-band partial
 * sums of dW (added in band order) do not depend on the thread count. */
#define LEPE_BANDS 8

static size_t al16(size_t n) { return (n + 15) & ~(size_t)15; }

/* GCC vector extensions for the hot kernels: GCC's own vectoriser turns
 * these channel-blocked loops into lane gathers. A vector times a scalar
 * broadcasts the scalar. LD8/ST8: unaligned, aliasing float data. */
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define LD8(p) (*(const v8u *)(p))
#define ST8(p, v) (*(v8u *)(p) = (v))
/* lane-wise max; a comparison gives an all-ones / all-zeros int lane */
typedef int v8i __attribute__((vector_size(32)));
#define MAX8(a, b) ((v8)((((a) > (b)) & (v8i)(a)) | (~((a) > (b)) & (v8i)(b))))

/* ---- geometry ---------------------------------------------------------- */

typedef struct geo {
  int N, H, W, C, S, K, M, pool; /* K = topk, M = heads */
  int Hp, Wp, rh, rw;            /* padded map, region size */
  int T, R, P, L, dh;            /* tokens/region, regions, pooled/region,
                                    keys per query region, head width */
  float scale;
} geo;

static geo geo_of(hy_bra_dims d) {
  geo g;
  g.N = d.N, g.H = d.H, g.W = d.W, g.C = d.C, g.S = d.S;
  g.K = d.topk, g.M = d.heads, g.pool = d.pool;
  g.rh = (d.H + d.S - 1) / d.S;
  g.rw = (d.W + d.S - 1) / d.S;
  g.Hp = g.rh * d.S;
  g.Wp = g.rw * d.S;
  g.T = g.rh * g.rw;
  g.R = d.S * d.S;
  g.P = d.pool * d.pool;
  g.L = d.topk * g.P;
  g.dh = d.C / d.heads;
  g.scale = (float)(1.0 / sqrt((double)d.C));
  return g;
}

/* A bump allocator over a float buffer; with base NULL it only measures. */
typedef struct bump {
  float *base;
  size_t used;
} bump;

static float *take(bump *b, size_t n) {
  float *p = b->base ? b->base + b->used : NULL;
  b->used += al16(n);
  return p;
}

typedef struct cache_parts {
  float *qkv, *kvp, *stat, *opre;
  int32_t *idx;
  size_t size;
} cache_parts;

static cache_parts cache_layout(float *base, geo g) {
  bump b = {base, 0};
  cache_parts c;
  size_t nr = (size_t)g.N * g.R;
  c.qkv = take(&b, nr * g.T * 3 * g.C);
  c.kvp = take(&b, nr * g.P * 2 * g.C);
  c.stat = take(&b, nr * g.M * g.T * 2);
  c.opre = take(&b, nr * g.T * g.C);
  c.idx = (int32_t *)take(&b, nr * g.K);
  c.size = b.used;
  return c;
}

size_t hy_bra_cache_size(hy_bra_dims d) {
  return cache_layout(NULL, geo_of(d)).size;
}

const int32_t *hy_bra_cache_idx(const float *cache, hy_bra_dims d) {
  return cache_layout((float *)cache, geo_of(d)).idx;
}

typedef struct scratch_parts {
  float *lepe;  /* hy_bra_lepe_scratch_size */
  float *lin;   /* hy_bra_linear_scratch_size of the qkv linear */
  float *stats; /* [N][R][2C] forward: region means of q | k */
  float *A;     /* [R][R] forward: routing logits of one image */
  float *yr;    /* [N][R][T][C] forward: proj output, region-major */
  float *dyr;   /* [N][R][T][C] backward: dy region-major, then padded x */
  float *dopre; /* [N][R][T][C] backward: d opre, then d padded x */
  float *dqkv;  /* [N][R][T][3C] backward */
  float *dkvg;  /* [N][R][L][2C] backward: d gathered k | v per query region */
  float *G;     /* [threads][L][2C] gathered k | v */
  float *Xt;    /* [threads][2][C][L] gathered k and v, transposed */
  float *Pb;    /* [threads][2][T][L] probabilities, d probabilities */
  float *acc;   /* [threads][P][2C] backward: d pooled k | v of one region */
  size_t size;
} scratch_parts;

/* Forward and backward share the parts up to Pb; the rest overlaps. */
static scratch_parts scratch_layout(float *base, geo g, int nt) {
  scratch_parts s;
  size_t nrt = (size_t)g.N * g.R * g.T;
  bump b = {base, 0};
  s.lepe = take(&b, hy_bra_lepe_scratch_size(g.N, g.S, g.rh, g.rw, g.C, 5, nt));
  s.lin = take(&b, hy_bra_linear_scratch_size(g.C, 3 * g.C));
  s.G = take(&b, (size_t)nt * g.L * 2 * g.C);
  s.Xt = take(&b, (size_t)nt * 2 * g.C * g.L);
  s.Pb = take(&b, (size_t)nt * 2 * g.T * g.L);
  size_t shared = b.used;

  s.stats = take(&b, (size_t)g.N * g.R * 2 * g.C);
  s.A = take(&b, (size_t)g.R * g.R);
  s.yr = take(&b, nrt * g.C);
  size_t fwd = b.used;

  b.used = shared;
  s.dyr = take(&b, nrt * g.C);
  s.dopre = take(&b, nrt * g.C);
  s.dqkv = take(&b, nrt * 3 * g.C);
  s.dkvg = take(&b, (size_t)g.N * g.R * g.L * 2 * g.C);
  s.acc = take(&b, (size_t)nt * g.P * 2 * g.C);
  s.size = b.used > fwd ? b.used : fwd;
  return s;
}

size_t hy_bra_scratch_size(hy_bra_dims d, int n_threads) {
  return scratch_layout(NULL, geo_of(d), n_threads < 1 ? 1 : n_threads).size;
}

double hy_bra_flops(hy_bra_dims d) {
  geo g = geo_of(d);
  double tok = (double)g.N * g.R * g.T;
  double f = 2.0 * tok * g.C * 3 * g.C;           /* qkv */
  f += 2.0 * tok * g.L * g.C * 2;                  /* q.k^T and p.v */
  f += 2.0 * tok * g.C * 25;                       /* LePE */
  f += 2.0 * tok * g.C * g.C;                      /* proj */
  f += 2.0 * g.N * (double)g.R * g.R * g.C;        /* routing */
  return f;
}

/* ---- layout changes ---------------------------------------------------- */

typedef struct regions_job {
  float *dst;       /* to_regions: [N][R][T][C]; from_regions: [N][H][W][C] */
  const float *src;
  geo g;
  const float *res; /* from_regions: NULL, or added (may be dst) */
} regions_job;

/* One padded map row: cropped copy in, zeros for the padding. */
static void to_regions_task(void *ctx, int task, int thread) {
  const regions_job *j = ctx;
  geo g = j->g;
  int n = task / g.Hp, y = task % g.Hp;
  int ry = y / g.rh, i = y % g.rh;
  for (int rx = 0; rx < g.S; rx++) {
    float *d = j->dst + ((size_t)(n * g.R + ry * g.S + rx) * g.T + (size_t)i * g.rw) * g.C;
    int x0 = rx * g.rw;
    int nv = y < g.H ? g.W - x0 : 0; /* valid columns in this chunk */
    nv = nv < 0 ? 0 : nv > g.rw ? g.rw : nv;
    if (nv) memcpy(d, j->src + ((size_t)(n * g.H + y) * g.W + x0) * g.C,
                   (size_t)nv * g.C * sizeof *d);
    memset(d + (size_t)nv * g.C, 0, (size_t)(g.rw - nv) * g.C * sizeof *d);
  }
}

static void from_regions_task(void *ctx, int task, int thread) {
  const regions_job *j = ctx;
  geo g = j->g;
  int n = task / g.H, y = task % g.H;
  int ry = y / g.rh, i = y % g.rh;
  for (int rx = 0; rx < g.S; rx++) {
    const float *s = j->src + ((size_t)(n * g.R + ry * g.S + rx) * g.T + (size_t)i * g.rw) * g.C;
    int x0 = rx * g.rw;
    int nv = g.W - x0;
    nv = nv < 0 ? 0 : nv > g.rw ? g.rw : nv;
    float *d = j->dst + ((size_t)(n * g.H + y) * g.W + x0) * g.C;
    size_t cnt = (size_t)nv * g.C;
    if (j->res) {
      const float *r = j->res + ((size_t)(n * g.H + y) * g.W + x0) * g.C;
      for (size_t k = 0; k < cnt; k++) d[k] = r[k] + s[k];
    } else {
      memcpy(d, s, cnt * sizeof *d);
    }
  }
}

static void to_regions(float *xr, const float *x, geo g, hy_pool *pool) {
  regions_job j = {xr, x, g, NULL};
  hy_pool_run(pool, g.N * g.Hp, to_regions_task, &j);
}

static void from_regions(float *y, const float *yr, const float *res, geo g, hy_pool *pool) {
  regions_job j = {y, yr, g, res};
  hy_pool_run(pool, g.N * g.H, from_regions_task, &j);
}

/* ---- token linears over the pool ---------------------------------------- */

/* With K = C (8..64) these GEMMs are small: splitting the rows over our pool
 * with OpenBLAS at 1 thread keeps OpenBLAS's own workers (which spin for a
 * while after each threaded call) off the cores our pool phases need. */
typedef struct lin_job {
  float *y;
  const float *x, *w, *b;
  float *dx, *dw, *db; /* backward: dw, db are per-chunk partials */
  const float *dy;
  int T, Cin, Cout;
} lin_job;

static void lin_rows(const lin_job *j, int task, int *r0, int *n) {
  *r0 = (int)((long long)j->T * task / LIN_CHUNKS);
  *n = (int)((long long)j->T * (task + 1) / LIN_CHUNKS) - *r0;
}

static void lin_fwd_task(void *ctx, int task, int thread) {
  const lin_job *j = ctx;
  int r0, n;
  lin_rows(j, task, &r0, &n);
  if (n > 0)
    hy_linear_forward(j->y + (size_t)r0 * j->Cout, j->x + (size_t)r0 * j->Cin,
                      j->w, j->b, n, j->Cin, j->Cout);
}

static void lin_bwd_task(void *ctx, int task, int thread) {
  const lin_job *j = ctx;
  int r0, n;
  lin_rows(j, task, &r0, &n);
  float *dw = j->dw ? j->dw + (size_t)task * j->Cout * j->Cin : NULL;
  float *db = j->db ? j->db + (size_t)task * j->Cout : NULL;
  if (dw) memset(dw, 0, (size_t)j->Cout * j->Cin * sizeof *dw);
  if (db) memset(db, 0, (size_t)j->Cout * sizeof *db);
  if (n > 0)
    hy_linear_backward(j->dx ? j->dx + (size_t)r0 * j->Cin : NULL, dw, db,
                       j->dy + (size_t)r0 * j->Cout, j->x + (size_t)r0 * j->Cin,
                       j->w, n, j->Cin, j->Cout);
}

size_t hy_bra_linear_scratch_size(int Cin, int Cout) {
  return (size_t)LIN_CHUNKS * ((size_t)Cout * Cin + Cout);
}

void hy_bra_linear_forward(float *y, const float *x, const float *w,
                           const float *b, int T, int Cin, int Cout,
                           hy_pool *pool) {
  lin_job j = {.y = y, .x = x, .w = w, .b = b, .T = T, .Cin = Cin, .Cout = Cout};
  hy_pool_run_sgemm(pool, LIN_CHUNKS, lin_fwd_task, &j);
}

void hy_bra_linear_backward(float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w, int T, int Cin,
                            int Cout, float *scratch, hy_pool *pool) {
  size_t nw = (size_t)Cout * Cin;
  lin_job j = {.x = x, .w = w, .dx = dx, .dy = dy, .T = T, .Cin = Cin, .Cout = Cout};
  j.dw = dw ? scratch : NULL;
  j.db = db ? scratch + LIN_CHUNKS * nw : NULL;
  hy_pool_run_sgemm(pool, LIN_CHUNKS, lin_bwd_task, &j);
  for (int k = 0; k < LIN_CHUNKS; k++) {
    if (dw)
      for (size_t e = 0; e < nw; e++) dw[e] += j.dw[k * nw + e];
    if (db)
      for (int o = 0; o < Cout; o++) db[o] += j.db[(size_t)k * Cout + o];
  }
}

/* ---- LePE: depthwise K x K conv on a region-major channels-last map ----- */

/* Each output row is computed in a contiguous row accumulator from K padded
 * input rows (a ring per thread, so each map row is gathered once per band),
 * then added into the region chunks of the output. */
typedef struct lepe_job {
  float *out;         /* forward: out; backward: din (may be NULL) */
  int ldo;
  const float *in;    /* the conv input (backward: for dw) */
  int ldi;
  const float *dout;  /* backward */
  int lddo;
  const float *wt;    /* [K*K][C] taps, channels innermost */
  const float *b;     /* [C] or NULL */
  float *ring;        /* [threads][2][K][rowlen] padded rows */
  float *acc;         /* [threads][Wp][C] row accumulator */
  float *part;        /* [N*bands][K*K + 1][C] backward partial dw | db */
  int N, S, rh, rw, C, K, Hp, Wp, bands;
  size_t rowlen;      /* (Wp + K - 1) * C */
} lepe_job;

static int lepe_bands(int Hp) { return Hp < LEPE_BANDS ? Hp : LEPE_BANDS; }

size_t hy_bra_lepe_scratch_size(int N, int S, int rh, int rw, int C, int K,
                                int n_threads) {
  size_t rowlen = (size_t)(S * rw + K - 1) * C;
  size_t nb = (size_t)N * lepe_bands(S * rh);
  int nt = n_threads < 1 ? 1 : n_threads;
  return al16((size_t)K * K * C) + al16((size_t)nt * 2 * K * rowlen) +
         al16((size_t)nt * S * rw * C) + al16(nb * (K * K + 1) * C);
}

/* Fills buf with map row yy of image n (zeros outside the map), K/2 zero
 * columns on both sides. */
static void lepe_load_row(float *buf, const float *src, int ld, int n, int yy,
                          const lepe_job *j) {
  int p = j->K / 2, C = j->C;
  if (yy < 0 || yy >= j->Hp) {
    memset(buf, 0, j->rowlen * sizeof *buf);
    return;
  }
  memset(buf, 0, (size_t)p * C * sizeof *buf);
  memset(buf + (size_t)(p + j->Wp) * C, 0, (size_t)p * C * sizeof *buf);
  int ry = yy / j->rh, i = yy % j->rh, T = j->rh * j->rw;
  for (int rx = 0; rx < j->S; rx++) {
    size_t tok = (size_t)(n * j->S * j->S + ry * j->S + rx) * T + (size_t)i * j->rw;
    const float *s = src + tok * ld;
    float *d = buf + (size_t)(p + rx * j->rw) * C;
    if (ld == C) {
      memcpy(d, s, (size_t)j->rw * C * sizeof *d);
    } else {
      for (int x = 0; x < j->rw; x++)
        for (int c = 0; c < C; c++) d[(size_t)x * C + c] = s[(size_t)x * ld + c];
    }
  }
}

/* acc[x][c] += sum over taps of rows[ky][x + kx][c] * wt[ky][kx][c] for
 * x < n; rows are padded (column 0 of a row is map column -K/2). */
HY_HOT static void lepe_rowacc(float *restrict acc, const float *const *rows,
                               const float *restrict wt, int n, int C, int K) {
  for (int ky = 0; ky < K; ky++) {
    const float *in = rows[ky];
    const float *w = wt + (size_t)ky * K * C;
    if (K == 5 && C % 8 == 0) {
      /* 8 channels at a time, the row's 5 taps held in registers */
      for (int c = 0; c < C; c += 8) {
        v8 w0 = LD8(w + c), w1 = LD8(w + C + c), w2 = LD8(w + 2 * C + c),
           w3 = LD8(w + 3 * C + c), w4 = LD8(w + 4 * C + c);
        for (int x = 0; x < n; x++) {
          const float *i0 = in + (size_t)x * C + c;
          float *a = acc + (size_t)x * C + c;
          ST8(a, LD8(a) + (LD8(i0) * w0 + LD8(i0 + C) * w1 + LD8(i0 + 2 * C) * w2 +
                           LD8(i0 + 3 * C) * w3 + LD8(i0 + 4 * C) * w4));
        }
      }
    } else {
      for (int x = 0; x < n; x++)
        for (int kx = 0; kx < K; kx++) {
          const float *i0 = in + (size_t)(x + kx) * C;
          const float *wk = w + (size_t)kx * C;
          float *a = acc + (size_t)x * C;
          for (int c = 0; c < C; c++) a[c] += i0[c] * wk[c];
        }
    }
  }
}

/* part[ky][kx][c] += sum over x < n of g[x][c] * rows[ky][x + kx][c];
 * part[K*K][c] += sum over x of g[x][c]. */
HY_HOT static void lepe_rowdw(float *restrict part, const float *restrict g,
                              const float *const *rows, int n, int C, int K) {
  float *db = part + (size_t)K * K * C;
  for (int x = 0; x < n; x++)
    for (int c = 0; c < C; c++) db[c] += g[(size_t)x * C + c];
  for (int ky = 0; ky < K; ky++) {
    const float *in = rows[ky];
    float *pk = part + (size_t)ky * K * C;
    if (K == 5 && C % 8 == 0) {
      for (int c = 0; c < C; c += 8) {
        v8 a0 = (v8){0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0;
        for (int x = 0; x < n; x++) {
          const float *i0 = in + (size_t)x * C + c;
          v8 gx = LD8(g + (size_t)x * C + c);
          a0 += gx * LD8(i0), a1 += gx * LD8(i0 + C), a2 += gx * LD8(i0 + 2 * C);
          a3 += gx * LD8(i0 + 3 * C), a4 += gx * LD8(i0 + 4 * C);
        }
        ST8(pk + c, LD8(pk + c) + a0), ST8(pk + C + c, LD8(pk + C + c) + a1);
        ST8(pk + 2 * C + c, LD8(pk + 2 * C + c) + a2);
        ST8(pk + 3 * C + c, LD8(pk + 3 * C + c) + a3);
        ST8(pk + 4 * C + c, LD8(pk + 4 * C + c) + a4);
      }
    } else {
      for (int x = 0; x < n; x++)
        for (int kx = 0; kx < K; kx++) {
          const float *i0 = in + (size_t)(x + kx) * C;
          const float *gx = g + (size_t)x * C;
          float *a = pk + (size_t)kx * C;
          for (int c = 0; c < C; c++) a[c] += gx[c] * i0[c];
        }
    }
  }
}

/* out chunks of map row y (image n) += acc */
static void lepe_store_row(const lepe_job *j, float *out, int ld, int n, int y,
                           const float *acc) {
  int ry = y / j->rh, i = y % j->rh, T = j->rh * j->rw, C = j->C;
  for (int rx = 0; rx < j->S; rx++) {
    float *o = out + ((size_t)(n * j->S * j->S + ry * j->S + rx) * T + (size_t)i * j->rw) * ld;
    const float *a = acc + (size_t)rx * j->rw * C;
    for (int x = 0; x < j->rw; x++)
      for (int c = 0; c < C; c++) o[(size_t)x * ld + c] += a[(size_t)x * C + c];
  }
}

static void lepe_band(const lepe_job *j, int task, int *n, int *y0, int *y1) {
  *n = task / j->bands;
  int b = task % j->bands;
  *y0 = (int)((long long)j->Hp * b / j->bands);
  *y1 = (int)((long long)j->Hp * (b + 1) / j->bands);
}

static int ring_slot(int yy, int K) { return ((yy % K) + K) % K; }

/* Keeps map rows y - K/2 .. y + K/2 of `src` in the ring (row y + K/2 is
 * loaded now, the others were before) and points rows[] at them. */
static void lepe_advance(const lepe_job *j, float *ring, const float **rows,
                         const float *src, int ld, int n, int y, int first) {
  int K = j->K, p = K / 2;
  for (int yy = first ? y - p : y + p; yy <= y + p; yy++)
    lepe_load_row(ring + ring_slot(yy, K) * j->rowlen, src, ld, n, yy, j);
  for (int ky = 0; ky < K; ky++) rows[ky] = ring + ring_slot(y - p + ky, K) * j->rowlen;
}

static void lepe_fwd_task(void *ctx, int task, int thread) {
  const lepe_job *j = ctx;
  int n, y0, y1, C = j->C;
  lepe_band(j, task, &n, &y0, &y1);
  float *ring = j->ring + (size_t)thread * 2 * j->K * j->rowlen;
  float *acc = j->acc + (size_t)thread * j->Wp * C;
  const float *rows[LEPE_KMAX];
  for (int y = y0; y < y1; y++) {
    lepe_advance(j, ring, rows, j->in, j->ldi, n, y, y == y0);
    for (int x = 0; x < j->Wp; x++)
      for (int c = 0; c < C; c++) acc[(size_t)x * C + c] = j->b ? j->b[c] : 0.0f;
    lepe_rowacc(acc, rows, j->wt, j->Wp, C, j->K);
    lepe_store_row(j, j->out, j->ldo, n, y, acc);
  }
}

/* din (if any) through the flipped taps on dout's ring; dw | db partials of
 * this band from dout's rows and the input's ring. */
static void lepe_bwd_task(void *ctx, int task, int thread) {
  const lepe_job *j = ctx;
  int n, y0, y1, K = j->K, p = K / 2, C = j->C;
  lepe_band(j, task, &n, &y0, &y1);
  float *gring = j->ring + (size_t)thread * 2 * K * j->rowlen;
  float *iring = gring + (size_t)K * j->rowlen;
  float *acc = j->acc + (size_t)thread * j->Wp * C;
  float *part = j->part ? j->part + (size_t)task * (K * K + 1) * C : NULL;
  const float *grows[LEPE_KMAX], *irows[LEPE_KMAX];
  if (part) memset(part, 0, (size_t)(K * K + 1) * C * sizeof *part);
  for (int y = y0; y < y1; y++) {
    lepe_advance(j, gring, grows, j->dout, j->lddo, n, y, y == y0);
    if (j->out) {
      memset(acc, 0, (size_t)j->Wp * C * sizeof *acc);
      lepe_rowacc(acc, grows, j->wt, j->Wp, C, K);
      lepe_store_row(j, j->out, j->ldo, n, y, acc);
    }
    if (part) {
      lepe_advance(j, iring, irows, j->in, j->ldi, n, y, y == y0);
      lepe_rowdw(part, grows[p] + (size_t)p * C, irows, j->Wp, C, K);
    }
  }
}

static lepe_job lepe_setup(float *scratch, int N, int S, int rh, int rw, int C,
                           int K, int nt) {
  lepe_job j;
  memset(&j, 0, sizeof j);
  j.N = N, j.S = S, j.rh = rh, j.rw = rw, j.C = C, j.K = K;
  j.Hp = S * rh, j.Wp = S * rw;
  j.bands = lepe_bands(j.Hp);
  j.rowlen = (size_t)(j.Wp + K - 1) * C;
  bump b = {scratch, 0};
  j.wt = take(&b, (size_t)K * K * C);
  j.ring = take(&b, (size_t)nt * 2 * K * j.rowlen);
  j.acc = take(&b, (size_t)nt * j.Wp * C);
  j.part = take(&b, (size_t)N * j.bands * (K * K + 1) * C);
  return j;
}

void hy_bra_lepe_forward(float *out, int ldo, const float *in, int ldi,
                         const float *w, const float *b, int N, int S, int rh,
                         int rw, int C, int K, float *scratch, hy_pool *pool) {
  lepe_job j = lepe_setup(scratch, N, S, rh, rw, C, K, hy_pool_threads(pool));
  float *wt = (float *)j.wt;
  for (int c = 0; c < C; c++)
    for (int t = 0; t < K * K; t++) wt[(size_t)t * C + c] = w[(size_t)c * K * K + t];
  j.out = out, j.ldo = ldo, j.in = in, j.ldi = ldi, j.b = b;
  hy_pool_run(pool, N * j.bands, lepe_fwd_task, &j);
}

void hy_bra_lepe_backward(float *din, int lddi, float *dw, float *db,
                          const float *dout, int lddo, const float *in,
                          int ldi, const float *w, int N, int S, int rh,
                          int rw, int C, int K, float *scratch, hy_pool *pool) {
  if (!din && !dw && !db) return;
  lepe_job j = lepe_setup(scratch, N, S, rh, rw, C, K, hy_pool_threads(pool));
  float *wt = (float *)j.wt;
  /* din[y][x] = sum of dout[y + p - ky][x + p - kx] * w[ky][kx]: the same
   * row kernel with the taps flipped */
  for (int c = 0; c < C; c++)
    for (int t = 0; t < K * K; t++)
      wt[(size_t)t * C + c] = w[(size_t)c * K * K + (K * K - 1 - t)];
  j.out = din, j.ldo = lddi, j.in = in, j.ldi = ldi, j.dout = dout, j.lddo = lddo;
  if (!dw && !db) j.part = NULL;
  hy_pool_run(pool, N * j.bands, lepe_bwd_task, &j);
  if (!j.part) return;
  int nb = N * j.bands;
  for (int c = 0; c < C; c++) {
    for (int t = 0; t <= K * K; t++) {
      float s = 0.0f;
      for (int k = 0; k < nb; k++) s += j.part[((size_t)k * (K * K + 1) + t) * C + c];
      if (t < K * K) {
        if (dw) dw[(size_t)c * K * K + t] += s;
      } else if (db) {
        db[c] += s;
      }
    }
  }
}

/* ---- routing ----------------------------------------------------------- */

/* idx[0..k) = the k largest of a[0..n), descending, ties to the lower index:
 * each pick is the best among those ranked after the previous pick. */
static void topk_row(int32_t *idx, const float *a, int n, int k) {
  int prev = -1;
  for (int j = 0; j < k; j++) {
    int best = -1;
    for (int s = 0; s < n; s++) {
      if (prev >= 0 && !(a[s] < a[prev] || (a[s] == a[prev] && s > prev))) continue;
      if (best < 0 || a[s] > a[best]) best = s;
    }
    if (best < 0) best = (prev + 1) % n; /* only with NaN scores */
    idx[j] = best;
    prev = best;
  }
}

static void route(int32_t *idx, const float *stats, float *A, geo g) {
  int C = g.C;
  for (int r = 0; r < g.R; r++) {
    const float *qb = stats + (size_t)r * 2 * C;
    for (int s = 0; s < g.R; s++) {
      const float *kb = stats + (size_t)s * 2 * C + C;
      float acc = 0.0f;
      for (int c = 0; c < C; c++) acc += (qb[c] * g.scale) * kb[c];
      A[(size_t)r * g.R + s] = acc;
    }
    topk_row(idx + (size_t)r * g.K, A + (size_t)r * g.R, g.R, g.K);
  }
}

/* ---- forward ------------------------------------------------------------ */

typedef struct bra_job {
  geo g;
  cache_parts c;
  scratch_parts s;
} bra_job;

/* Adaptive-pool bin [*lo, *hi) of output i of n along a side of length len. */
static void bin(int i, int len, int n, int *lo, int *hi) {
  *lo = i * len / n;
  *hi = ((i + 1) * len + n - 1) / n;
}

/* Region means of q and k, and the pooled k | v of one region. */
static void stats_task(void *ctx, int task, int thread) {
  const bra_job *j = ctx;
  geo g = j->g;
  int C2 = 2 * g.C, C3 = 3 * g.C;
  const float *base = j->c.qkv + (size_t)task * g.T * C3;
  float *st = j->s.stats + (size_t)task * C2;
  memset(st, 0, (size_t)C2 * sizeof *st);
  for (int t = 0; t < g.T; t++)
    for (int c = 0; c < C2; c++) st[c] += base[(size_t)t * C3 + c];
  float inv = 1.0f / (float)g.T;
  for (int c = 0; c < C2; c++) st[c] *= inv;

  for (int py = 0; py < g.pool; py++) {
    int y0, y1;
    bin(py, g.rh, g.pool, &y0, &y1);
    for (int px = 0; px < g.pool; px++) {
      int x0, x1;
      bin(px, g.rw, g.pool, &x0, &x1);
      float *o = j->c.kvp + ((size_t)task * g.P + py * g.pool + px) * C2;
      memset(o, 0, (size_t)C2 * sizeof *o);
      for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) {
          const float *t = base + (size_t)(yy * g.rw + xx) * C3 + g.C;
          for (int c = 0; c < C2; c++) o[c] += t[c];
        }
      float ia = 1.0f / (float)((y1 - y0) * (x1 - x0));
      for (int c = 0; c < C2; c++) o[c] *= ia;
    }
  }
}

/* k | v of the routed regions of query region `task`, back to back. */
static float *gather(const bra_job *j, int task, int thread) {
  geo g = j->g;
  size_t blk = (size_t)g.P * 2 * g.C;
  float *G = j->s.G + (size_t)thread * g.L * 2 * g.C;
  const int32_t *ix = j->c.idx + (size_t)task * g.K;
  int n = task / g.R;
  for (int k = 0; k < g.K; k++)
    memcpy(G + k * blk, j->c.kvp + (size_t)(n * g.R + ix[k]) * blk, blk * sizeof *G);
  return G;
}

/* The attention products are many tiny matrices (in `small`, head width 8
 * against 16..128 keys), where sgemm spends most of its time packing and
 * scaling; these block kernels keep a region's keys in L1 instead. */

/* S[i][l] = scale * sum_c A[i][c] * Bt[c][l] for i < T, l < L: rows of A
 * against keys stored transposed, Bt [dh][L]. Four rows at a time share
 * each load of Bt. */
HY_HOT static void mm_abt(float *restrict S, const float *restrict A, int lda,
                          const float *restrict Bt, int T, int L, int dh,
                          float scale) {
  int i = 0;
  for (; i + 4 <= T; i += 4) {
    const float *a = A + (size_t)i * lda;
    float *s = S + (size_t)i * L;
    int l = 0;
    for (; l + 16 <= L; l += 16) {
      v8 x0 = (v8){0}, x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0, w0 = x0, w1 = x0;
      for (int c = 0; c < dh; c++) {
        v8 b0 = LD8(Bt + (size_t)c * L + l), b1 = LD8(Bt + (size_t)c * L + l + 8);
        float a0 = a[c] * scale, a1 = a[lda + c] * scale;
        float a2 = a[2 * (size_t)lda + c] * scale, a3 = a[3 * (size_t)lda + c] * scale;
        x0 += a0 * b0, x1 += a0 * b1, y0 += a1 * b0, y1 += a1 * b1;
        z0 += a2 * b0, z1 += a2 * b1, w0 += a3 * b0, w1 += a3 * b1;
      }
      ST8(s + l, x0), ST8(s + l + 8, x1);
      ST8(s + L + l, y0), ST8(s + L + l + 8, y1);
      ST8(s + 2 * (size_t)L + l, z0), ST8(s + 2 * (size_t)L + l + 8, z1);
      ST8(s + 3 * (size_t)L + l, w0), ST8(s + 3 * (size_t)L + l + 8, w1);
    }
    for (; l < L; l++)
      for (int u = 0; u < 4; u++) {
        float acc = 0.0f;
        for (int c = 0; c < dh; c++)
          acc += (a[(size_t)u * lda + c] * scale) * Bt[(size_t)c * L + l];
        s[(size_t)u * L + l] = acc;
      }
  }
  for (; i < T; i++) {
    const float *a = A + (size_t)i * lda;
    float *s = S + (size_t)i * L;
    int l = 0;
    for (; l + 16 <= L; l += 16) {
      v8 acc0 = (v8){0}, acc1 = acc0;
      for (int c = 0; c < dh; c++) {
        float ac = a[c] * scale;
        const float *b = Bt + (size_t)c * L + l;
        acc0 += ac * LD8(b), acc1 += ac * LD8(b + 8);
      }
      ST8(s + l, acc0), ST8(s + l + 8, acc1);
    }
    for (; l < L; l++) {
      float acc = 0.0f;
      for (int c = 0; c < dh; c++) acc += (a[c] * scale) * Bt[(size_t)c * L + l];
      s[l] = acc;
    }
  }
}

/* O[i][c] = scale * sum_l P[i][l] * V[l][c] for i < T, c < dh. */
HY_HOT static void mm_pv(float *restrict O, int ldo, const float *restrict P,
                         const float *restrict V, int ldv, int T, int L, int dh,
                         float scale) {
  for (int i = 0; i < T; i++) {
    const float *p = P + (size_t)i * L;
    float *o = O + (size_t)i * ldo;
    int c = 0;
    for (; c + 8 <= dh; c += 8) {
      v8 a0 = (v8){0}, a1 = a0, a2 = a0, a3 = a0;
      const float *v = V + c;
      int l = 0;
      for (; l + 4 <= L; l += 4) {
        a0 += p[l] * LD8(v + (size_t)l * ldv);
        a1 += p[l + 1] * LD8(v + (size_t)(l + 1) * ldv);
        a2 += p[l + 2] * LD8(v + (size_t)(l + 2) * ldv);
        a3 += p[l + 3] * LD8(v + (size_t)(l + 3) * ldv);
      }
      for (; l < L; l++) a0 += p[l] * LD8(v + (size_t)l * ldv);
      ST8(o + c, scale * ((a0 + a1) + (a2 + a3)));
    }
    for (; c < dh; c++) {
      float acc = 0.0f;
      for (int l = 0; l < L; l++) acc += p[l] * V[(size_t)l * ldv + c];
      o[c] = scale * acc;
    }
  }
}

/* D[l][c] = scale * sum_i P[i][l] * B[i][c] for l < L, c < dh. */
HY_HOT static void mm_ptb(float *restrict D, int ldd, const float *restrict P,
                          const float *restrict B, int ldb, int T, int L, int dh,
                          float scale) {
  for (int l = 0; l < L; l++) {
    float *d = D + (size_t)l * ldd;
    const float *p = P + l;
    int c = 0;
    for (; c + 8 <= dh; c += 8) {
      v8 a0 = (v8){0}, a1 = a0, a2 = a0, a3 = a0;
      const float *b = B + c;
      int i = 0;
      for (; i + 4 <= T; i += 4) {
        a0 += p[(size_t)i * L] * LD8(b + (size_t)i * ldb);
        a1 += p[(size_t)(i + 1) * L] * LD8(b + (size_t)(i + 1) * ldb);
        a2 += p[(size_t)(i + 2) * L] * LD8(b + (size_t)(i + 2) * ldb);
        a3 += p[(size_t)(i + 3) * L] * LD8(b + (size_t)(i + 3) * ldb);
      }
      for (; i < T; i++) a0 += p[(size_t)i * L] * LD8(b + (size_t)i * ldb);
      ST8(d + c, scale * ((a0 + a1) + (a2 + a3)));
    }
    for (; c < dh; c++) {
      float acc = 0.0f;
      for (int i = 0; i < T; i++) acc += p[(size_t)i * L] * B[(size_t)i * ldb + c];
      d[c] = scale * acc;
    }
  }
}

#if HY_HAVE_V8FMA
/* exp(x[l] - m) for l < L, 8 at a time (the tail through a zero-padded vector). */
HY_V8FMA static void exp_row_fma(float *x, int L, float m) {
  __m256 mv = _mm256_set1_ps(m), zero = _mm256_setzero_ps();
  int l = 0;
  for (; l + 8 <= L; l += 8) _mm256_storeu_ps(x + l, hy_v8expf2(_mm256_sub_ps(_mm256_loadu_ps(x + l), mv), zero));
  if (l < L) {
    float buf[8] = {0};
    memcpy(buf, x + l, sizeof(float) * (size_t)(L - l));
    _mm256_storeu_ps(buf, hy_v8expf2(_mm256_sub_ps(_mm256_loadu_ps(buf), mv), zero));
    memcpy(x + l, buf, sizeof(float) * (size_t)(L - l));
  }
}

/* The same 16 at a time (AVX-512): the same numbers, lane for lane. */
HY_V16 static void exp_row_avx512(float *x, int L, float m) {
  __m512 mv = _mm512_set1_ps(m), zero = _mm512_setzero_ps();
  for (int l = 0; l < L; l += 16) {
    __mmask16 k = hy_v16mask(L - l);
    _mm512_mask_storeu_ps(x + l, k, hy_v16expf2(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + l), mv), zero));
  }
}
#endif

/* exp(x[l] - m) for l < L: the FMA kernel where the CPU has it. softmax_keep
 * and softmax_replay both call this, so the replay is exact. */
HY_HOT static void exp_row(float *x, int L, float m) {
#if HY_HAVE_V8FMA
  if (hy_cpu_avx512()) {
    exp_row_avx512(x, L, m);
    return;
  }
  if (hy_cpu_fma()) {
    exp_row_fma(x, L, m);
    return;
  }
#endif
  for (int l = 0; l < L; l++) x[l] = hy_vexpf(x[l] - m);
}

/* Row softmax in place that keeps each row's max and 1/sum, so backward
 * can replay exactly the same probabilities from recomputed logits instead
 * of keeping T x L of them per head in memory. */
HY_HOT static void softmax_keep(float *s, float *stat, int T, int L) {
  for (int i = 0; i < T; i++) {
    float *x = s + (size_t)i * L;
    v8 m8 = (v8){0} + x[0];
    int l = 0;
    for (; l + 8 <= L; l += 8) m8 = MAX8(LD8(x + l), m8);
    float m = x[0];
    for (int j = 0; j < 8; j++) m = m8[j] > m ? m8[j] : m;
    for (; l < L; l++) m = x[l] > m ? x[l] : m;
    exp_row(x, L, m);
    v8 s8 = (v8){0};
    for (l = 0; l + 8 <= L; l += 8) s8 += LD8(x + l);
    float sum = ((s8[0] + s8[4]) + (s8[1] + s8[5])) + ((s8[2] + s8[6]) + (s8[3] + s8[7]));
    for (; l < L; l++) sum += x[l];
    float inv = 1.0f / sum;
    for (l = 0; l < L; l++) x[l] *= inv;
    stat[2 * i] = m;
    stat[2 * i + 1] = inv;
  }
}

/* dp <- p * (dp - sum(p * dp)) per row: softmax backward, in place. */
HY_HOT static void softmax_grad(float *dp, const float *p, int T, int L) {
  for (int i = 0; i < T; i++) {
    float *g = dp + (size_t)i * L;
    const float *q = p + (size_t)i * L;
    float acc[8] = {0};
    int l = 0;
    for (; l + 8 <= L; l += 8)
      for (int j = 0; j < 8; j++) acc[j] += g[l + j] * q[l + j];
    for (; l < L; l++) acc[l & 7] += g[l] * q[l];
    float dot = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (l = 0; l < L; l++) g[l] = q[l] * (g[l] - dot);
  }
}

HY_HOT static void softmax_replay(float *s, const float *stat, int T, int L) {
  for (int i = 0; i < T; i++) {
    float *x = s + (size_t)i * L, m = stat[2 * i], inv = stat[2 * i + 1];
    exp_row(x, L, m);
    for (int l = 0; l < L; l++) x[l] *= inv;
  }
}

/* xt[c][l] = G[l][off + c] for c < C: k or v of the gathered tokens,
 * transposed so that a logits row reads keys contiguously. */
static void transpose_kv(float *xt, const float *G, int off, int L, int C) {
  for (int l = 0; l < L; l++)
    for (int c = 0; c < C; c++) xt[(size_t)c * L + l] = G[(size_t)l * 2 * C + off + c];
}

static void attn_fwd_task(void *ctx, int task, int thread) {
  const bra_job *j = ctx;
  geo g = j->g;
  int C = g.C, T = g.T, L = g.L, dh = g.dh;
  const float *G = gather(j, task, thread);
  float *Kt = j->s.Xt + (size_t)thread * 2 * C * L;
  float *Pm = j->s.Pb + (size_t)thread * 2 * T * L;
  transpose_kv(Kt, G, 0, L, C);
  const float *Q = j->c.qkv + (size_t)task * T * 3 * C;
  float *O = j->c.opre + (size_t)task * T * C;
  for (int h = 0; h < g.M; h++) {
    mm_abt(Pm, Q + h * dh, 3 * C, Kt + (size_t)h * dh * L, T, L, dh, g.scale);
    softmax_keep(Pm, j->c.stat + ((size_t)task * g.M + h) * T * 2, T, L);
    mm_pv(O + h * dh, C, Pm, G + C + h * dh, 2 * C, T, L, dh, 1.0f);
  }
}

#if HY_HAVE_V8FMA
enum { FUSED_DH = 8, FUSED_PMAX = 64 };

/* The attention of 16 queries (lanes) of one head: q [16][3C] rows of
 * qkv, out [16][C] rows of opre, m the valid lanes. Each routed region's P
 * pooled keys are one block of the online softmax: the running max, sum
 * and output are rescaled once per block, so no T x L logits are stored. */
HY_V16 static void attn_queries16(const bra_job *j, int task, int h, const float *q, float *out,
                                  __mmask16 m) {
  geo g = j->g;
  int C2 = 2 * g.C, P = g.P;
  __m512i idx = hy_v16rows(3 * g.C);
  __m512 zero = _mm512_setzero_ps(), sc = _mm512_set1_ps(g.scale);
  __m512 qc[FUSED_DH], o[FUSED_DH];
  for (int c = 0; c < FUSED_DH; c++) {
    qc[c] = _mm512_mul_ps(sc, _mm512_mask_i32gather_ps(zero, m, idx, q + h * FUSED_DH + c, 4));
    o[c] = zero;
  }
  __m512 mx = _mm512_set1_ps(-INFINITY), sum = zero;
  float s[FUSED_PMAX][16] __attribute__((aligned(64)));
  const int32_t *ix = j->c.idx + (size_t)task * g.K;
  int n = task / g.R;
  for (int k = 0; k < g.K; k++) {
    const float *kv = j->c.kvp + (size_t)(n * g.R + ix[k]) * P * C2 + h * FUSED_DH;
    __m512 bm = _mm512_set1_ps(-INFINITY);
    for (int l = 0; l < P; l++) {
      const float *key = kv + (size_t)l * C2;
      __m512 a = _mm512_mul_ps(qc[0], _mm512_set1_ps(key[0]));
      for (int c = 1; c < FUSED_DH; c++) a = _mm512_fmadd_ps(qc[c], _mm512_set1_ps(key[c]), a);
      _mm512_store_ps(s[l], a);
      bm = _mm512_max_ps(bm, a);
    }
    __m512 nm = _mm512_max_ps(mx, bm);
    __m512 alpha = hy_v16exp_nonpos(_mm512_sub_ps(mx, nm));
    sum = _mm512_mul_ps(sum, alpha);
    for (int c = 0; c < FUSED_DH; c++) o[c] = _mm512_mul_ps(o[c], alpha);
    for (int l = 0; l < P; l++) {
      const float *val = kv + (size_t)l * C2 + g.C;
      __m512 e = hy_v16exp_nonpos(_mm512_sub_ps(_mm512_load_ps(s[l]), nm));
      sum = _mm512_add_ps(sum, e);
      for (int c = 0; c < FUSED_DH; c++) o[c] = _mm512_fmadd_ps(e, _mm512_set1_ps(val[c]), o[c]);
    }
    mx = nm;
  }
  __m512i odx = hy_v16rows(g.C);
  __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), sum);
  for (int c = 0; c < FUSED_DH; c++)
    _mm512_mask_i32scatter_ps(out + h * FUSED_DH + c, m, odx, _mm512_mul_ps(o[c], inv), 4);
}

static int fused_attention(geo g, hy_bra_dims d) {
  return d.infer && hy_cpu_avx512() && g.dh == FUSED_DH && g.P <= FUSED_PMAX;
}

/* attn_fwd_task in inference: queries 16 at a time, keys read in place
 * from kvp (no gather, no transposed copy). */
static void attn_infer_task(void *ctx, int task, int thread) {
  const bra_job *j = ctx;
  geo g = j->g;
  const float *Q = j->c.qkv + (size_t)task * g.T * 3 * g.C;
  float *O = j->c.opre + (size_t)task * g.T * g.C;
  for (int h = 0; h < g.M; h++)
    for (int i = 0; i < g.T; i += 16) {
      attn_queries16(j, task, h, Q + (size_t)i * 3 * g.C, O + (size_t)i * g.C,
                     hy_v16mask(g.T - i));
    }
}
#else
static int fused_attention(geo g, hy_bra_dims d) { return 0; }
static void attn_infer_task(void *ctx, int task, int thread) {}
#endif

void hy_bra_forward(float *y, float *cache, const float *x, const float *res, const float *qkv_w,
                    const float *qkv_b, const float *lepe_w,
                    const float *lepe_b, const float *proj_w,
                    const float *proj_b, hy_bra_dims d, float *scratch,
                    hy_pool *pool) {
  bra_job j;
  j.g = geo_of(d);
  geo g = j.g;
  j.c = cache_layout(cache, g);
  j.s = scratch_layout(scratch, g, hy_pool_threads(pool));
  int nr = g.N * g.R, nrt = nr * g.T;

  /* the padded input lives in opre until the attention overwrites it */
  to_regions(j.c.opre, x, g, pool);
  hy_bra_linear_forward(j.c.qkv, j.c.opre, qkv_w, qkv_b, nrt, g.C, 3 * g.C, pool);
  hy_pool_run(pool, nr, stats_task, &j);
  for (int n = 0; n < g.N; n++)
    route(j.c.idx + (size_t)n * g.R * g.K, j.s.stats + (size_t)n * g.R * 2 * g.C, j.s.A, g);
  hy_pool_run(pool, nr, fused_attention(g, d) ? attn_infer_task : attn_fwd_task, &j);
  hy_bra_lepe_forward(j.c.opre, g.C, j.c.qkv + 2 * g.C, 3 * g.C, lepe_w, lepe_b,
                      g.N, g.S, g.rh, g.rw, g.C, 5, j.s.lepe, pool);
  hy_bra_linear_forward(j.s.yr, j.c.opre, proj_w, proj_b, nrt, g.C, g.C, pool);
  from_regions(y, j.s.yr, res, g, pool);
}

/* ---- backward ----------------------------------------------------------- */

static void attn_bwd_task(void *ctx, int task, int thread) {
  const bra_job *j = ctx;
  geo g = j->g;
  int C = g.C, T = g.T, L = g.L, dh = g.dh;
  const float *G = gather(j, task, thread);
  float *Kt = j->s.Xt + (size_t)thread * 2 * C * L, *Vt = Kt + (size_t)C * L;
  float *Pm = j->s.Pb + (size_t)thread * 2 * T * L, *dP = Pm + (size_t)T * L;
  transpose_kv(Kt, G, 0, L, C);
  transpose_kv(Vt, G, C, L, C);
  const float *Q = j->c.qkv + (size_t)task * T * 3 * C;
  const float *dO = j->s.dopre + (size_t)task * T * C;
  float *dQ = j->s.dqkv + (size_t)task * T * 3 * C;
  float *dG = j->s.dkvg + (size_t)task * L * 2 * C;
  for (int h = 0; h < g.M; h++) {
    const float *gO = dO + h * dh;
    mm_abt(Pm, Q + h * dh, 3 * C, Kt + (size_t)h * dh * L, T, L, dh, g.scale);
    softmax_replay(Pm, j->c.stat + ((size_t)task * g.M + h) * T * 2, T, L);
    /* dv = P^T.dO; then dP -> d logits; logits = scale * q.k, so
     * dq = scale * dS.k and dk = scale * dS^T.q */
    mm_ptb(dG + C + h * dh, 2 * C, Pm, gO, C, T, L, dh, 1.0f);
    mm_abt(dP, gO, C, Vt + (size_t)h * dh * L, T, L, dh, 1.0f);
    softmax_grad(dP, Pm, T, L);
    mm_pv(dQ + h * dh, 3 * C, dP, G + h * dh, 2 * C, T, L, dh, g.scale);
    mm_ptb(dG + h * dh, 2 * C, dP, Q + h * dh, 3 * C, T, L, dh, g.scale);
  }
}

/* Key region `task`: sums the gathered gradients of every query region that
 * routed to it (query regions in order), then spreads them through the
 * pooling into its tokens' k | v gradients. One writer per region. */
static void kv_bwd_task(void *ctx, int task, int thread) {
  const bra_job *j = ctx;
  geo g = j->g;
  int C2 = 2 * g.C, C3 = 3 * g.C;
  int n = task / g.R, s = task % g.R;
  size_t blk = (size_t)g.P * C2;
  float *acc = j->s.acc + (size_t)thread * blk;
  memset(acc, 0, blk * sizeof *acc);
  for (int r = 0; r < g.R; r++) {
    const int32_t *ix = j->c.idx + (size_t)(n * g.R + r) * g.K;
    for (int k = 0; k < g.K; k++) {
      if (ix[k] != s) continue;
      const float *src = j->s.dkvg + (size_t)(n * g.R + r) * g.L * C2 + k * blk;
      for (size_t e = 0; e < blk; e++) acc[e] += src[e];
    }
  }
  float *base = j->s.dqkv + (size_t)task * g.T * C3 + g.C;
  for (int py = 0; py < g.pool; py++) {
    int y0, y1;
    bin(py, g.rh, g.pool, &y0, &y1);
    for (int px = 0; px < g.pool; px++) {
      int x0, x1;
      bin(px, g.rw, g.pool, &x0, &x1);
      float *a = acc + (size_t)(py * g.pool + px) * C2;
      float ia = 1.0f / (float)((y1 - y0) * (x1 - x0));
      for (int c = 0; c < C2; c++) a[c] *= ia;
      for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) {
          float *t = base + (size_t)(yy * g.rw + xx) * C3;
          for (int c = 0; c < C2; c++) t[c] += a[c];
        }
    }
  }
}

void hy_bra_backward(float *dx, float *dqkv_w, float *dqkv_b, float *dlepe_w,
                     float *dlepe_b, float *dproj_w, float *dproj_b,
                     const float *dy, const float *cache, const float *x,
                     const float *qkv_w, const float *lepe_w,
                     const float *proj_w, hy_bra_dims d, float *scratch,
                     hy_pool *pool) {
  bra_job j;
  j.g = geo_of(d);
  geo g = j.g;
  j.c = cache_layout((float *)cache, g);
  j.s = scratch_layout(scratch, g, hy_pool_threads(pool));
  int nr = g.N * g.R, nrt = nr * g.T;

  to_regions(j.s.dyr, dy, g, pool);
  memset(j.s.dopre, 0, (size_t)nrt * g.C * sizeof *j.s.dopre);
  hy_bra_linear_backward(j.s.dopre, dproj_w, dproj_b, j.s.dyr, j.c.opre, proj_w,
                         nrt, g.C, g.C, j.s.lin, pool);

  memset(j.s.dqkv, 0, (size_t)nrt * 3 * g.C * sizeof *j.s.dqkv);
  hy_pool_run(pool, nr, attn_bwd_task, &j);
  hy_pool_run(pool, nr, kv_bwd_task, &j);
  hy_bra_lepe_backward(j.s.dqkv + 2 * g.C, 3 * g.C, dlepe_w, dlepe_b, j.s.dopre,
                       g.C, j.c.qkv + 2 * g.C, 3 * g.C, lepe_w, g.N, g.S, g.rh,
                       g.rw, g.C, 5, j.s.lepe, pool);

  /* dyr now holds the padded input, dopre the padded input's gradient */
  if (dqkv_w) to_regions(j.s.dyr, x, g, pool);
  if (dx) memset(j.s.dopre, 0, (size_t)nrt * g.C * sizeof *j.s.dopre);
  hy_bra_linear_backward(dx ? j.s.dopre : NULL, dqkv_w, dqkv_b, j.s.dqkv, j.s.dyr,
                         qkv_w, nrt, g.C, 3 * g.C, j.s.lin, pool);
  if (dx) from_regions(dx, j.s.dopre, dx, g, pool);
}

/* ---- naive reference ---------------------------------------------------- */

typedef struct naive_parts {
  float *qkv;   /* [N][Hp][Wp][3C] */
  float *o;     /* [N][Hp][Wp][C] attention + LePE */
  float *dO;    /* [N][Hp][Wp][C] */
  float *dqkv;  /* [N][Hp][Wp][3C] */
  float *kvp;   /* [N][R][P][2C] */
  float *dkvp;  /* [N][R][P][2C] */
  float *mean;  /* [N][R][2C] */
  float *A;     /* [R] */
  float *p;     /* [L] */
  float *dp;    /* [L] */
  int32_t *idx; /* [N][R][topk] */
  size_t size;
} naive_parts;

static naive_parts naive_layout(float *base, geo g) {
  bump b = {base, 0};
  naive_parts s;
  size_t px = (size_t)g.N * g.Hp * g.Wp;
  s.qkv = take(&b, px * 3 * g.C);
  s.o = take(&b, px * g.C);
  s.dO = take(&b, px * g.C);
  s.dqkv = take(&b, px * 3 * g.C);
  s.kvp = take(&b, (size_t)g.N * g.R * g.P * 2 * g.C);
  s.dkvp = take(&b, (size_t)g.N * g.R * g.P * 2 * g.C);
  s.mean = take(&b, (size_t)g.N * g.R * 2 * g.C);
  s.A = take(&b, (size_t)g.R);
  s.p = take(&b, (size_t)g.L);
  s.dp = take(&b, (size_t)g.L);
  s.idx = (int32_t *)take(&b, (size_t)g.N * g.R * g.K);
  s.size = b.used;
  return s;
}

size_t hy_bra_naive_scratch_size(hy_bra_dims d) {
  return naive_layout(NULL, geo_of(d)).size;
}

/* PyTorch's adaptive pooling bin, written as its definition */
static void naive_bin(int i, int len, int n, int *lo, int *hi) {
  *lo = (int)floor((double)i * len / n);
  *hi = (int)ceil((double)(i + 1) * len / n);
}

/* index of padded-map pixel (n, y, x) */
static size_t px_at(geo g, int n, int y, int x) {
  return ((size_t)n * g.Hp + y) * g.Wp + x;
}

/* Logits and probabilities of query pixel (n, y, x) in region r, head h,
 * over its routed keys: p[k*P + t]. */
static void naive_probs(float *p, const naive_parts *s, geo g, int n, int r,
                        size_t q, int h) {
  const float *qv = s->qkv + q * 3 * g.C;
  double mx = -INFINITY;
  for (int k = 0; k < g.K; k++) {
    int src = s->idx[((size_t)n * g.R + r) * g.K + k];
    for (int t = 0; t < g.P; t++) {
      const float *kv = s->kvp + (((size_t)n * g.R + src) * g.P + t) * 2 * g.C;
      double a = 0;
      for (int c = h * g.dh; c < (h + 1) * g.dh; c++) a += (double)qv[c] * kv[c];
      a *= g.scale;
      p[k * g.P + t] = (float)a;
      mx = a > mx ? a : mx;
    }
  }
  double sum = 0;
  for (int l = 0; l < g.L; l++) sum += exp((double)p[l] - mx);
  for (int l = 0; l < g.L; l++) p[l] = (float)(exp((double)p[l] - mx) / sum);
}

static const float *naive_kv(const naive_parts *s, geo g, int n, int r, int l) {
  int src = s->idx[((size_t)n * g.R + r) * g.K + l / g.P];
  return s->kvp + (((size_t)n * g.R + src) * g.P + l % g.P) * 2 * g.C;
}

/* qkv, idx, kvp and o (attention + LePE) on the padded map. */
static void naive_core(const naive_parts *s, const float *x, const float *qkv_w,
                       const float *qkv_b, const float *lepe_w,
                       const float *lepe_b, geo g) {
  int C = g.C, C2 = 2 * C, C3 = 3 * C;
  for (int n = 0; n < g.N; n++)
    for (int y = 0; y < g.Hp; y++)
      for (int xx = 0; xx < g.Wp; xx++) {
        const float *xi = y < g.H && xx < g.W ? x + (((size_t)n * g.H + y) * g.W + xx) * C : NULL;
        float *q = s->qkv + px_at(g, n, y, xx) * C3;
        for (int o = 0; o < C3; o++) {
          double a = qkv_b[o];
          if (xi)
            for (int i = 0; i < C; i++) a += (double)xi[i] * qkv_w[(size_t)o * C + i];
          q[o] = (float)a;
        }
      }
  for (int n = 0; n < g.N; n++) {
    for (int r = 0; r < g.R; r++) {
      int ry = r / g.S, rx = r % g.S;
      float *m = s->mean + ((size_t)n * g.R + r) * C2;
      for (int c = 0; c < C2; c++) {
        double a = 0;
        for (int y = 0; y < g.rh; y++)
          for (int xx = 0; xx < g.rw; xx++)
            a += s->qkv[px_at(g, n, ry * g.rh + y, rx * g.rw + xx) * C3 + c];
        m[c] = (float)(a / g.T);
      }
      for (int py = 0; py < g.pool; py++)
        for (int pxx = 0; pxx < g.pool; pxx++) {
          int y0, y1, x0, x1;
          naive_bin(py, g.rh, g.pool, &y0, &y1);
          naive_bin(pxx, g.rw, g.pool, &x0, &x1);
          float *kv = s->kvp + (((size_t)n * g.R + r) * g.P + py * g.pool + pxx) * C2;
          for (int c = 0; c < C2; c++) {
            double a = 0;
            for (int y = y0; y < y1; y++)
              for (int xx = x0; xx < x1; xx++)
                a += s->qkv[px_at(g, n, ry * g.rh + y, rx * g.rw + xx) * C3 + C + c];
            kv[c] = (float)(a / ((y1 - y0) * (x1 - x0)));
          }
        }
    }
    /* rank of s = how many regions beat it (higher score, or equal and lower) */
    for (int r = 0; r < g.R; r++) {
      const float *qm = s->mean + ((size_t)n * g.R + r) * C2;
      for (int t = 0; t < g.R; t++) {
        const float *km = s->mean + ((size_t)n * g.R + t) * C2 + C;
        double a = 0;
        for (int c = 0; c < C; c++) a += (double)qm[c] * km[c];
        s->A[t] = (float)(a * g.scale);
      }
      for (int t = 0; t < g.R; t++) {
        int rank = 0;
        for (int u = 0; u < g.R; u++)
          rank += s->A[u] > s->A[t] || (s->A[u] == s->A[t] && u < t);
        if (rank < g.K) s->idx[((size_t)n * g.R + r) * g.K + rank] = t;
      }
    }
  }
  for (int n = 0; n < g.N; n++)
    for (int y = 0; y < g.Hp; y++)
      for (int xx = 0; xx < g.Wp; xx++) {
        int r = (y / g.rh) * g.S + xx / g.rw;
        size_t q = px_at(g, n, y, xx);
        float *o = s->o + q * C;
        for (int h = 0; h < g.M; h++) {
          naive_probs(s->p, s, g, n, r, q, h);
          for (int c = h * g.dh; c < (h + 1) * g.dh; c++) {
            double a = 0;
            for (int l = 0; l < g.L; l++) a += (double)s->p[l] * naive_kv(s, g, n, r, l)[C + c];
            o[c] = (float)a;
          }
        }
        for (int c = 0; c < C; c++) {
          double a = lepe_b[c];
          for (int ky = 0; ky < 5; ky++)
            for (int kx = 0; kx < 5; kx++) {
              int iy = y + ky - 2, ix = xx + kx - 2;
              if (iy < 0 || iy >= g.Hp || ix < 0 || ix >= g.Wp) continue;
              a += (double)lepe_w[(size_t)c * 25 + ky * 5 + kx] *
                   s->qkv[px_at(g, n, iy, ix) * C3 + 2 * C + c];
            }
          o[c] = (float)(o[c] + a);
        }
      }
}

void hy_bra_forward_naive(float *y, int32_t *idx, const float *x,
                          const float *qkv_w, const float *qkv_b,
                          const float *lepe_w, const float *lepe_b,
                          const float *proj_w, const float *proj_b,
                          hy_bra_dims d, float *scratch) {
  geo g = geo_of(d);
  naive_parts s = naive_layout(scratch, g);
  naive_core(&s, x, qkv_w, qkv_b, lepe_w, lepe_b, g);
  for (int n = 0; n < g.N; n++)
    for (int yy = 0; yy < g.H; yy++)
      for (int xx = 0; xx < g.W; xx++) {
        const float *o = s.o + px_at(g, n, yy, xx) * g.C;
        float *out = y + (((size_t)n * g.H + yy) * g.W + xx) * g.C;
        for (int c = 0; c < g.C; c++) {
          double a = proj_b[c];
          for (int i = 0; i < g.C; i++) a += (double)o[i] * proj_w[(size_t)c * g.C + i];
          out[c] = (float)a;
        }
      }
  if (idx) memcpy(idx, s.idx, (size_t)g.N * g.R * g.K * sizeof *idx);
}

void hy_bra_backward_naive(float *dx, float *dqkv_w, float *dqkv_b,
                           float *dlepe_w, float *dlepe_b, float *dproj_w,
                           float *dproj_b, const float *dy, const float *x,
                           const float *qkv_w, const float *qkv_b,
                           const float *lepe_w, const float *lepe_b,
                           const float *proj_w, const float *proj_b,
                           hy_bra_dims d, float *scratch) {
  geo g = geo_of(d);
  naive_parts s = naive_layout(scratch, g);
  int C = g.C, C2 = 2 * C, C3 = 3 * C;
  size_t npx = (size_t)g.N * g.Hp * g.Wp;
  naive_core(&s, x, qkv_w, qkv_b, lepe_w, lepe_b, g);

  /* proj: dO on real pixels, zero on the padding */
  memset(s.dO, 0, npx * C * sizeof *s.dO);
  for (int n = 0; n < g.N; n++)
    for (int yy = 0; yy < g.H; yy++)
      for (int xx = 0; xx < g.W; xx++) {
        const float *gy = dy + (((size_t)n * g.H + yy) * g.W + xx) * C;
        float *dO = s.dO + px_at(g, n, yy, xx) * C;
        for (int i = 0; i < C; i++) {
          double a = 0;
          for (int o = 0; o < C; o++) a += (double)gy[o] * proj_w[(size_t)o * C + i];
          dO[i] = (float)a;
        }
      }
  for (int o = 0; o < C; o++) {
    double gb = 0;
    for (int i = 0; i < C; i++) {
      double a = 0;
      for (int n = 0; n < g.N; n++)
        for (int yy = 0; yy < g.H; yy++)
          for (int xx = 0; xx < g.W; xx++) {
            double gv = dy[(((size_t)n * g.H + yy) * g.W + xx) * C + o];
            a += gv * s.o[px_at(g, n, yy, xx) * C + i];
            if (i == 0) gb += gv;
          }
      if (dproj_w) dproj_w[(size_t)o * C + i] += (float)a;
    }
    if (dproj_b) dproj_b[o] += (float)gb;
  }

  memset(s.dqkv, 0, npx * C3 * sizeof *s.dqkv);
  /* LePE: dv by scattering every output's taps; dw, db summed in double */
  for (int n = 0; n < g.N; n++)
    for (int y = 0; y < g.Hp; y++)
      for (int xx = 0; xx < g.Wp; xx++)
        for (int c = 0; c < C; c++) {
          float gv = s.dO[px_at(g, n, y, xx) * C + c];
          for (int ky = 0; ky < 5; ky++)
            for (int kx = 0; kx < 5; kx++) {
              int iy = y + ky - 2, ix = xx + kx - 2;
              if (iy < 0 || iy >= g.Hp || ix < 0 || ix >= g.Wp) continue;
              s.dqkv[px_at(g, n, iy, ix) * C3 + 2 * C + c] +=
                  gv * lepe_w[(size_t)c * 25 + ky * 5 + kx];
            }
        }
  for (int c = 0; c < C; c++) {
    for (int t = 0; t < 25; t++) {
      int ky = t / 5, kx = t % 5;
      double a = 0;
      for (int n = 0; n < g.N; n++)
        for (int y = 0; y < g.Hp; y++)
          for (int xx = 0; xx < g.Wp; xx++) {
            int iy = y + ky - 2, ix = xx + kx - 2;
            if (iy < 0 || iy >= g.Hp || ix < 0 || ix >= g.Wp) continue;
            a += (double)s.dO[px_at(g, n, y, xx) * C + c] *
                 s.qkv[px_at(g, n, iy, ix) * C3 + 2 * C + c];
          }
      if (dlepe_w) dlepe_w[(size_t)c * 25 + t] += (float)a;
    }
    double gb = 0;
    for (size_t q = 0; q < npx; q++) gb += s.dO[q * C + c];
    if (dlepe_b) dlepe_b[c] += (float)gb;
  }

  /* attention: dq in place, dk | dv into the pooled tokens they came from */
  memset(s.dkvp, 0, (size_t)g.N * g.R * g.P * C2 * sizeof *s.dkvp);
  for (int n = 0; n < g.N; n++)
    for (int y = 0; y < g.Hp; y++)
      for (int xx = 0; xx < g.Wp; xx++) {
        int r = (y / g.rh) * g.S + xx / g.rw;
        size_t q = px_at(g, n, y, xx);
        const float *qv = s.qkv + q * C3;
        const float *gO = s.dO + q * C;
        for (int h = 0; h < g.M; h++) {
          naive_probs(s.p, &s, g, n, r, q, h);
          double dot = 0;
          for (int l = 0; l < g.L; l++) {
            const float *kv = naive_kv(&s, g, n, r, l);
            double a = 0;
            for (int c = h * g.dh; c < (h + 1) * g.dh; c++) a += (double)gO[c] * kv[C + c];
            s.dp[l] = (float)a;
            dot += a * s.p[l];
          }
          for (int l = 0; l < g.L; l++) {
            double ds = s.p[l] * (s.dp[l] - dot);
            float *dkv = s.dkvp + (naive_kv(&s, g, n, r, l) - s.kvp);
            const float *kv = naive_kv(&s, g, n, r, l);
            for (int c = h * g.dh; c < (h + 1) * g.dh; c++) {
              s.dqkv[q * C3 + c] += (float)(g.scale * ds * kv[c]);
              dkv[c] += (float)(g.scale * ds * qv[c]);
              dkv[C + c] += (float)((double)s.p[l] * gO[c]);
            }
          }
        }
      }
  /* pooling: each bin's gradient, divided by its area, to its pixels */
  for (int n = 0; n < g.N; n++)
    for (int r = 0; r < g.R; r++) {
      int ry = r / g.S, rx = r % g.S;
      for (int py = 0; py < g.pool; py++)
        for (int pxx = 0; pxx < g.pool; pxx++) {
          int y0, y1, x0, x1;
          naive_bin(py, g.rh, g.pool, &y0, &y1);
          naive_bin(pxx, g.rw, g.pool, &x0, &x1);
          const float *dkv = s.dkvp + (((size_t)n * g.R + r) * g.P + py * g.pool + pxx) * C2;
          double area = (y1 - y0) * (x1 - x0);
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) {
              float *t = s.dqkv + px_at(g, n, ry * g.rh + yy, rx * g.rw + xx) * C3 + C;
              for (int c = 0; c < C2; c++) t[c] += (float)(dkv[c] / area);
            }
        }
    }
  /* qkv linear over every padded pixel (padded inputs are 0) */
  for (int o = 0; o < C3; o++) {
    double gb = 0;
    for (size_t q = 0; q < npx; q++) gb += s.dqkv[q * C3 + o];
    if (dqkv_b) dqkv_b[o] += (float)gb;
    for (int i = 0; i < C && dqkv_w; i++) {
      double a = 0;
      for (int n = 0; n < g.N; n++)
        for (int yy = 0; yy < g.H; yy++)
          for (int xx = 0; xx < g.W; xx++)
            a += (double)s.dqkv[px_at(g, n, yy, xx) * C3 + o] *
                 x[(((size_t)n * g.H + yy) * g.W + xx) * C + i];
      dqkv_w[(size_t)o * C + i] += (float)a;
    }
  }
  if (dx)
    for (int n = 0; n < g.N; n++)
      for (int yy = 0; yy < g.H; yy++)
        for (int xx = 0; xx < g.W; xx++) {
          const float *gq = s.dqkv + px_at(g, n, yy, xx) * C3;
          float *out = dx + (((size_t)n * g.H + yy) * g.W + xx) * C;
          for (int i = 0; i < C; i++) {
            double a = 0;
            for (int o = 0; o < C3; o++) a += (double)gq[o] * qkv_w[(size_t)o * C + i];
            out[i] += (float)a;
          }
        }
}
