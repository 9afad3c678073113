#include "resize.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "vecmath.h"

/* Output floats per forward task (a band of output rows of one plane). */
#define TASK_FLOATS 16384

typedef struct {
  float *y, *dx, *scratch;
  const float *x, *dy;
  int H, W, OH, OW;
  int rows, bands; /* rows per band (output rows forward, input rows backward) */
  int x2;          /* bilinear column taps follow the x2 stencil (below) */
} rs_ctx;

static int imin(int a, int b) { return a < b ? a : b; }

int hy_resize_nearest_src(int o, int in, int out) {
  int s = (int)((float)o * ((float)in / (float)out));
  return s < in - 1 ? s : in - 1;
}

/* the bilinear taps of output index o */
typedef struct {
  int i0, i1;
  float l0, l1;
} taps;

static taps lin_taps(int o, int in, int out) {
  if (in == out) return (taps){o, o, 1.0f, 0.0f};
  float ratio = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
  float real = ratio * (float)o;
  int i0 = imin((int)real, in - 1);
  float l1 = real - (float)i0;
  l1 = l1 < 0.0f ? 0.0f : l1 > 1.0f ? 1.0f : l1;
  return (taps){i0, i0 + (i0 < in - 1), 1.0f - l1, l1};
}

/* Bands of rows: `per` rows each (at least 1), and how many there are. */
static void banding(rs_ctx *c, int rows_total, int per) {
  c->rows = per < 1 ? 1 : per;
  c->bands = (rows_total + c->rows - 1) / c->rows;
}

/* ---- nearest ---- */

static HY_HOT void nearest_row(float *y, const float *x, int W, int OW) {
  if (OW == 2 * W) {
    for (int i = 0; i < W; i++) y[2 * i] = y[2 * i + 1] = x[i];
    return;
  }
  if (W == 2 * OW) { /* scale 2.0f is exact: src = 2·o */
    for (int o = 0; o < OW; o++) y[o] = x[2 * o];
    return;
  }
  float sc = (float)W / (float)OW;
  for (int o = 0; o < OW; o++) {
    int s = (int)((float)o * sc);
    y[o] = x[s < W - 1 ? s : W - 1];
  }
}

static void nearest_fwd_task(void *p, int t, int thread) {
  const rs_ctx *c = p;
  int plane = t / c->bands, oy0 = t % c->bands * c->rows;
  int oy1 = imin(oy0 + c->rows, c->OH);
  const float *x = c->x + (size_t)plane * c->H * c->W;
  float *y = c->y + (size_t)plane * c->OH * c->OW;
  int prev = -1;
  for (int oy = oy0; oy < oy1; oy++) {
    int sy = hy_resize_nearest_src(oy, c->H, c->OH);
    float *yr = y + (size_t)oy * c->OW;
    if (sy == prev) memcpy(yr, yr - c->OW, (size_t)c->OW * sizeof *yr);
    else nearest_row(yr, x + (size_t)sy * c->W, c->W, c->OW);
    prev = sy;
  }
}

void hy_resize_nearest_forward(float *y, const float *x, int N, int C, int H,
                               int W, int OH, int OW, hy_pool *pool) {
  rs_ctx c = {.y = y, .x = x, .H = H, .W = W, .OH = OH, .OW = OW};
  banding(&c, OH, TASK_FLOATS / OW);
  hy_pool_run(pool, N * C * c.bands, nearest_fwd_task, &c);
}

static HY_HOT void nearest_row_bwd(float *dx, const float *dy, int W, int OW) {
  if (OW == 2 * W) {
    for (int i = 0; i < W; i++) dx[i] += dy[2 * i] + dy[2 * i + 1];
    return;
  }
  if (W == 2 * OW) {
    for (int o = 0; o < OW; o++) dx[2 * o] += dy[o];
    return;
  }
  float sc = (float)W / (float)OW;
  for (int o = 0; o < OW; o++) {
    int s = (int)((float)o * sc);
    dx[s < W - 1 ? s : W - 1] += dy[o];
  }
}

/* A task owns a band of input rows: the output rows reading them form a
 * contiguous range (the index rule is monotone), so no two tasks write the
 * same dx row. */
static void nearest_bwd_task(void *p, int t, int thread) {
  const rs_ctx *c = p;
  int plane = t / c->bands, r0 = t % c->bands * c->rows;
  int r1 = imin(r0 + c->rows, c->H);
  float *dx = c->dx + (size_t)plane * c->H * c->W;
  const float *dy = c->dy + (size_t)plane * c->OH * c->OW;
  for (int oy = 0; oy < c->OH; oy++) {
    int sy = hy_resize_nearest_src(oy, c->H, c->OH);
    if (sy >= r1) break;
    if (sy >= r0)
      nearest_row_bwd(dx + (size_t)sy * c->W, dy + (size_t)oy * c->OW, c->W, c->OW);
  }
}

void hy_resize_nearest_backward(float *dx, const float *dy, int N, int C, int H,
                                int W, int OH, int OW, hy_pool *pool) {
  rs_ctx c = {.dx = dx, .dy = dy, .H = H, .W = W, .OH = OH, .OW = OW};
  banding(&c, H, (int)((long long)TASK_FLOATS / OW * H / OH));
  hy_pool_run(pool, N * C * c.bands, nearest_bwd_task, &c);
}

/* ---- bilinear, align_corners=True ----
 * scratch: column taps i0[OW], i1[OW] (int32), l0[OW], l1[OW], the same
 * weights split by output parity for the x2 stencil (4 x OW/2), then two
 * rows of OW floats per thread. */
#define TABLES 6

size_t hy_resize_bilinear_scratch(int OW, int n_threads) {
  return (size_t)OW * (TABLES + 2 * (size_t)n_threads);
}

/* Fills the column taps; returns whether they follow the x2 stencil: for
 * OW = 2W (H3's upsampling) the interior outputs 2k-1 and 2k both read
 * inputs k-1 and k, so the horizontal pass needs no gathers. Only the taps'
 * positions are assumed; the weights still come from the table (copied
 * split by output parity, so the vector loops load them without shuffles). */
static int column_taps(float *scratch, int W, int OW) {
  int32_t *i0 = (int32_t *)scratch, *i1 = i0 + OW;
  float *l0 = scratch + 2 * (size_t)OW, *l1 = l0 + OW;
  int x2 = OW == 2 * W && W >= 2;
  for (int o = 0; o < OW; o++) {
    taps t = lin_taps(o, W, OW);
    i0[o] = t.i0;
    i1[o] = t.i1;
    l0[o] = t.l0;
    l1[o] = t.l1;
    if (o > 0 && o < OW - 1 && (t.i0 != (o - 1) / 2 || t.i1 != t.i0 + 1)) x2 = 0;
  }
  /* for k in [1, OW/2): odd = output 2k-1, even = output 2k */
  float *odd0 = scratch + 4 * (size_t)OW, *even0 = odd0 + OW / 2;
  float *odd1 = even0 + OW / 2, *even1 = odd1 + OW / 2;
  for (int k = 1; x2 && k < OW / 2; k++) {
    odd0[k] = l0[2 * k - 1];
    even0[k] = l0[2 * k];
    odd1[k] = l1[2 * k - 1];
    even1[k] = l1[2 * k];
  }
  return x2;
}

/* one input row interpolated horizontally, by the column taps */
static void hinterp(float *out, const float *x, const float *scratch, int OW) {
  const int32_t *i0 = (const int32_t *)scratch, *i1 = i0 + OW;
  const float *l0 = scratch + 2 * (size_t)OW, *l1 = l0 + OW;
  for (int o = 0; o < OW; o++) out[o] = l0[o] * x[i0[o]] + l1[o] * x[i1[o]];
}

static HY_HOT void vblend(float *restrict y, const float *restrict a, float wa,
                          const float *restrict b, float wb, int n) {
  for (int i = 0; i < n; i++) y[i] = wa * a[i] + wb * b[i];
}

/* The x2 stencil fused with the vertical blend of input rows a and b:
 * blended columns k-1 and k give outputs 2k-1 and 2k; no gathers, no row
 * buffers. (Vertical first, so the last bits differ from hinterp+vblend.) */
static HY_HOT void bilinear_row_x2(float *restrict y, const float *restrict a,
                                   float wa, const float *restrict b, float wb,
                                   const float *scratch, int OW) {
  const int32_t *i0 = (const int32_t *)scratch, *i1 = i0 + OW;
  const float *l0 = scratch + 2 * (size_t)OW, *l1 = l0 + OW;
  const float *odd0 = scratch + 4 * (size_t)OW, *even0 = odd0 + OW / 2;
  const float *odd1 = even0 + OW / 2, *even1 = odd1 + OW / 2;
  for (int k = 1; k < OW / 2; k++) {
    float p = wa * a[k - 1] + wb * b[k - 1], q = wa * a[k] + wb * b[k];
    y[2 * k - 1] = odd0[k] * p + odd1[k] * q;
    y[2 * k] = even0[k] * p + even1[k] * q;
  }
  for (int o = 0; o < OW; o += OW - 1)
    y[o] = l0[o] * (wa * a[i0[o]] + wb * b[i0[o]]) + l1[o] * (wa * a[i1[o]] + wb * b[i1[o]]);
}

/* dst[0..n) = src[0..n), with non-temporal stores where dst is aligned.
 * The x2 upsampling writes the network's full-size heatmaps (16 MB for
 * `small`), read only after the pass, from memory either way: without the
 * read for ownership, writing them costs half (measured 2.4 -> 1.2 ms). */
static void stream_row(float *dst, const float *src, int n) {
#if defined(__SSE2__)
  int i = 0;
  for (; i < n && ((uintptr_t)(dst + i) & 15); i++) dst[i] = src[i];
  for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < n; i++) dst[i] = src[i];
#else
  memcpy(dst, src, sizeof(float) * (size_t)n);
#endif
}

typedef struct {
  float *buf[2];
  int tag[2];
} row_cache;

/* The horizontally interpolated input row r, computed at most once per run
 * of output rows; never evicts the row `keep`. */
static const float *cached_row(row_cache *rc, int r, int keep, const rs_ctx *c,
                               const float *x) {
  for (int k = 0; k < 2; k++)
    if (rc->tag[k] == r) return rc->buf[k];
  int k = rc->tag[0] == keep ? 1 : 0;
  hinterp(rc->buf[k], x + (size_t)r * c->W, c->scratch, c->OW);
  rc->tag[k] = r;
  return rc->buf[k];
}

static void bilinear_fwd_task(void *p, int t, int thread) {
  const rs_ctx *c = p;
  int plane = t / c->bands, oy0 = t % c->bands * c->rows;
  int oy1 = imin(oy0 + c->rows, c->OH);
  const float *x = c->x + (size_t)plane * c->H * c->W;
  float *y = c->y + (size_t)plane * c->OH * c->OW;
  float *mine = c->scratch + (size_t)c->OW * (TABLES + 2 * (size_t)thread);
  row_cache rc = {{mine, mine + c->OW}, {-1, -1}};
  for (int oy = oy0; oy < oy1; oy++) {
    taps v = lin_taps(oy, c->H, c->OH);
    if (c->x2) { /* the row in L1 first, then streamed out */
      bilinear_row_x2(mine, x + (size_t)v.i0 * c->W, v.l0, x + (size_t)v.i1 * c->W, v.l1,
                      c->scratch, c->OW);
      stream_row(y + (size_t)oy * c->OW, mine, c->OW);
      continue;
    }
    const float *a = cached_row(&rc, v.i0, v.i1, c, x);
    const float *b = cached_row(&rc, v.i1, v.i0, c, x);
    vblend(y + (size_t)oy * c->OW, a, v.l0, b, v.l1, c->OW);
  }
#if defined(__SSE2__)
  _mm_sfence(); /* the streamed rows are visible before the task counts as done */
#endif
}

void hy_resize_bilinear_forward(float *y, const float *x, int N, int C, int H,
                                int W, int OH, int OW, float *scratch,
                                hy_pool *pool) {
  rs_ctx c = {.y = y, .x = x, .scratch = scratch, .H = H, .W = W, .OH = OH,
              .OW = OW};
  c.x2 = column_taps(scratch, W, OW);
  banding(&c, OH, TASK_FLOATS / OW);
  hy_pool_run(pool, N * C * c.bands, bilinear_fwd_task, &c);
}

/* g (=, or += when acc) the weighted sum of 1 to 4 rows, in one pass;
 * missing rows repeat row 0 with weight 0 */
static HY_HOT void blend_rows(float *restrict g, int acc,
                              const float *const *rows, const float *w,
                              int count, int n) {
  const float *r0 = rows[0], *r1 = rows[count > 1], *r2 = rows[count > 2 ? 2 : 0],
              *r3 = rows[count > 3 ? 3 : 0];
  float w0 = w[0], w1 = count > 1 ? w[1] : 0.0f, w2 = count > 2 ? w[2] : 0.0f,
        w3 = count > 3 ? w[3] : 0.0f;
  if (acc)
    for (int i = 0; i < n; i++)
      g[i] += (w0 * r0[i] + w1 * r1[i]) + (w2 * r2[i] + w3 * r3[i]);
  else
    for (int i = 0; i < n; i++)
      g[i] = (w0 * r0[i] + w1 * r1[i]) + (w2 * r2[i] + w3 * r3[i]);
}

/* The transpose of hinterp; on the x2 stencil input j gathers the l0 parts
 * of outputs 2j+1, 2j+2 and the l1 parts of outputs 2j-1, 2j. */
static HY_HOT void hscatter(float *dx, const float *g, const float *scratch,
                            int OW, int x2) {
  const int32_t *i0 = (const int32_t *)scratch, *i1 = i0 + OW;
  const float *l0 = scratch + 2 * (size_t)OW, *l1 = l0 + OW;
  if (!x2) {
    for (int o = 0; o < OW; o++) {
      dx[i0[o]] += l0[o] * g[o];
      dx[i1[o]] += l1[o] * g[o];
    }
    return;
  }
  int W = OW / 2;
  const float *odd0 = scratch + 4 * (size_t)OW, *even0 = odd0 + W;
  const float *odd1 = even0 + W, *even1 = odd1 + W;
  dx[0] += l0[1] * g[1] + l0[2] * g[2];
  for (int j = 1; j < W - 1; j++)
    dx[j] += (odd0[j + 1] * g[2 * j + 1] + even0[j + 1] * g[2 * j + 2]) +
             (odd1[j] * g[2 * j - 1] + even1[j] * g[2 * j]);
  dx[W - 1] += l1[2 * W - 3] * g[2 * W - 3] + l1[2 * W - 2] * g[2 * W - 2];
  for (int o = 0; o < OW; o += OW - 1) {
    dx[i0[o]] += l0[o] * g[o];
    dx[i1[o]] += l1[o] * g[o];
  }
}

/* A task owns a band of input rows r. The output rows reading r (as i0 or
 * i1) are contiguous since both taps grow with oy; their gradient rows are
 * blended vertically into one row (up to 4 rows per pass; x2 has 4), which
 * is then scattered horizontally. */
static void bilinear_bwd_task(void *p, int t, int thread) {
  const rs_ctx *c = p;
  int plane = t / c->bands, r0 = t % c->bands * c->rows;
  int r1 = imin(r0 + c->rows, c->H);
  float *dx = c->dx + (size_t)plane * c->H * c->W;
  const float *dy = c->dy + (size_t)plane * c->OH * c->OW;
  float *g = c->scratch + (size_t)c->OW * (TABLES + 2 * (size_t)thread);
  int lo = 0;
  for (int r = r0; r < r1; r++) {
    while (lo < c->OH && lin_taps(lo, c->H, c->OH).i1 < r) lo++;
    int used = 0, count = 0;
    const float *rows[4];
    float w[4];
    for (int oy = lo; oy <= c->OH; oy++) { /* oy == OH: a sentinel that flushes */
      taps v = oy < c->OH ? lin_taps(oy, c->H, c->OH) : (taps){r + 1, 0, 0, 0};
      if (count == 4 || (v.i0 > r && count)) {
        blend_rows(g, used, rows, w, count, c->OW);
        used = 1;
        count = 0;
      }
      if (v.i0 > r) break;
      w[count] = (v.i0 == r ? v.l0 : 0.0f) + (v.i1 == r ? v.l1 : 0.0f);
      rows[count++] = dy + (size_t)oy * c->OW;
    }
    if (used) hscatter(dx + (size_t)r * c->W, g, c->scratch, c->OW, c->x2);
  }
}

void hy_resize_bilinear_backward(float *dx, const float *dy, int N, int C,
                                 int H, int W, int OH, int OW, float *scratch,
                                 hy_pool *pool) {
  rs_ctx c = {.dx = dx, .dy = dy, .scratch = scratch, .H = H, .W = W, .OH = OH,
              .OW = OW};
  c.x2 = column_taps(scratch, W, OW);
  banding(&c, H, (int)((long long)TASK_FLOATS / OW * H / OH));
  hy_pool_run(pool, N * C * c.bands, bilinear_bwd_task, &c);
}

/* ---- naive references ---- */

void hy_resize_nearest_forward_naive(float *y, const float *x, int N, int C,
                                     int H, int W, int OH, int OW) {
  for (size_t q = 0; q < (size_t)N * C; q++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        y[(q * OH + oy) * OW + ox] =
            x[(q * H + hy_resize_nearest_src(oy, H, OH)) * W +
              hy_resize_nearest_src(ox, W, OW)];
}

void hy_resize_nearest_backward_naive(float *dx, const float *dy, int N, int C,
                                      int H, int W, int OH, int OW) {
  for (size_t q = 0; q < (size_t)N * C; q++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        dx[(q * H + hy_resize_nearest_src(oy, H, OH)) * W +
           hy_resize_nearest_src(ox, W, OW)] += dy[(q * OH + oy) * OW + ox];
}

void hy_resize_bilinear_forward_naive(float *y, const float *x, int N, int C,
                                      int H, int W, int OH, int OW) {
  for (size_t q = 0; q < (size_t)N * C; q++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        taps v = lin_taps(oy, H, OH), h = lin_taps(ox, W, OW);
        const float *r0 = x + (q * H + v.i0) * W, *r1 = x + (q * H + v.i1) * W;
        y[(q * OH + oy) * OW + ox] = v.l0 * (h.l0 * r0[h.i0] + h.l1 * r0[h.i1]) +
                                     v.l1 * (h.l0 * r1[h.i0] + h.l1 * r1[h.i1]);
      }
}

void hy_resize_bilinear_backward_naive(float *dx, const float *dy, int N,
                                       int C, int H, int W, int OH, int OW) {
  for (size_t q = 0; q < (size_t)N * C; q++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        taps v = lin_taps(oy, H, OH), h = lin_taps(ox, W, OW);
        float g = dy[(q * OH + oy) * OW + ox];
        float *r0 = dx + (q * H + v.i0) * W, *r1 = dx + (q * H + v.i1) * W;
        r0[h.i0] += v.l0 * h.l0 * g;
        r0[h.i1] += v.l0 * h.l1 * g;
        r1[h.i0] += v.l1 * h.l0 * g;
        r1[h.i1] += v.l1 * h.l1 * g;
      }
}
