#include "conv_direct.h"

#include <string.h>

#include "conv.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#else
#define HAVE_KERNEL 0
#endif

enum {
  CO = 4,      /* output channels per tile */
  PX = 24,     /* pixels per tile (3 vectors of 8) */
  CHUNK = 4,   /* tiles per pool task */
  MAX_K = 7,   /* largest kernel side (CBAM's spatial conv) */
  MAX_TAPS = MAX_K * MAX_K,
};
static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

/* Output rows per band: the padded band about as big as conv.c's col band
 * (hy_conv_band_rows, so hy_conv_set_band_floats reaches it too). */
static int band_rows(int Cin, int Ho, int Wp, int reach) {
  int rows = hy_conv_band_rows((size_t)Cin * Wp, Ho + reach) - reach;
  return rows < 1 ? 1 : rows > Ho ? Ho : rows;
}

/* The kernel reads up to a tile and one tap reach past a band's last pixel. */
static size_t slack(int Wp, int reach) { return PX + (size_t)reach * (Wp + 1); }

static size_t packed_w(int Cin, int Cout, int k) {
  return round16((size_t)(Cout + CO - 1) / CO * CO * Cin * k * k);
}

int hy_conv_direct_fits(int Cin, int Cout, int k, int stride, int groups) {
#if HAVE_KERNEL
  static int cpu = -1;
  if (cpu < 0) cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  /* Wider outputs reuse each col element enough for sgemm to win. */
  return cpu && stride == 1 && groups == 1 && k > 1 && k <= MAX_K && Cout <= 64 && Cin <= 1024;
#else
  (void)Cin, (void)Cout, (void)k, (void)stride, (void)groups;
  return 0;
#endif
}

/* Floats per output channel of the padded dy band: whole vectors. */
static size_t dy_plane(int rows, int Wp) { return ((size_t)rows * Wp + 7) / 8 * 8; }

size_t hy_conv_direct_scratch(int Cin, int H, int W, int Cout, int k, int pad, int dil) {
  if (!hy_conv_direct_fits(Cin, Cout, k, 1, 1)) return 0;
  int reach = dil * (k - 1), Wp = W + 2 * pad, Ho = H + 2 * pad - reach;
  int rows = band_rows(Cin, Ho, Wp, reach);
  size_t xb = (size_t)Cin * (rows + reach) * Wp + slack(Wp, reach);
  size_t w = packed_w(Cin, Cout, k), dyb = (size_t)Cout * dy_plane(rows, Wp);
  return xb + (w > dyb ? w : dyb);
}

typedef struct {
  float *y;
  const float *x, *b, *wp;
  float *xb, *dyb, *dw;
  const float *dy;
  int Cin, H, W, Cout, k, pad, dil, accumulate;
  int Ho, Wo, Wp, reach, r0, rows;
  size_t plane; /* floats per channel of the padded band */
  int tiles;    /* per output-channel block */
  size_t dplane; /* floats per channel of the padded dy band */
} direct_job;

/* One channel of the band: rows r0 - pad .. r0 + rows + reach - pad, zero
 * outside the image. */
static void pad_task(void *p, int c, int thread) {
  const direct_job *j = p;
  float *dst = j->xb + (size_t)c * j->plane;
  const float *src = j->x + (size_t)c * j->H * j->W;
  for (int i = 0; i < j->rows + j->reach; i++, dst += j->Wp) {
    int iy = j->r0 - j->pad + i;
    if (iy < 0 || iy >= j->H) {
      memset(dst, 0, sizeof(float) * (size_t)j->Wp);
      continue;
    }
    memset(dst, 0, sizeof(float) * (size_t)j->pad);
    memcpy(dst + j->pad, src + (size_t)iy * j->W, sizeof(float) * (size_t)j->W);
    memset(dst + j->pad + j->W, 0, sizeof(float) * (size_t)j->pad);
  }
  /* a short last band: dw's tail vectors read a little past its rows */
  size_t used = (size_t)(j->rows + j->reach) * j->Wp;
  memset(j->xb + (size_t)c * j->plane + used, 0, sizeof(float) * (j->plane - used));
}

#if HAVE_KERNEL
/* out[q][i] = sum over (c, t = ky*k + kx) of wcb[c][t][q] * xb[c][p0 + i + off[t]].
 * Twelve named accumulators: GCC keeps an array of vectors in memory. */
__attribute__((target("avx2,fma"))) static void tile(const direct_job *j, const float *wcb,
                                                     const int *off, size_t p0, float out[CO][PX]) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
  int kk = j->k * j->k;
  const float *xc = j->xb + p0, *wc = wcb;
  for (int c = 0; c < j->Cin; c++, xc += j->plane) {
    for (int t = 0; t < kk; t++, wc += CO) {
      const float *xp = xc + off[t];
      __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8), x2 = _mm256_loadu_ps(xp + 16);
      __m256 w = _mm256_broadcast_ss(wc);
      a00 = _mm256_fmadd_ps(w, x0, a00), a01 = _mm256_fmadd_ps(w, x1, a01), a02 = _mm256_fmadd_ps(w, x2, a02);
      w = _mm256_broadcast_ss(wc + 1);
      a10 = _mm256_fmadd_ps(w, x0, a10), a11 = _mm256_fmadd_ps(w, x1, a11), a12 = _mm256_fmadd_ps(w, x2, a12);
      w = _mm256_broadcast_ss(wc + 2);
      a20 = _mm256_fmadd_ps(w, x0, a20), a21 = _mm256_fmadd_ps(w, x1, a21), a22 = _mm256_fmadd_ps(w, x2, a22);
      w = _mm256_broadcast_ss(wc + 3);
      a30 = _mm256_fmadd_ps(w, x0, a30), a31 = _mm256_fmadd_ps(w, x1, a31), a32 = _mm256_fmadd_ps(w, x2, a32);
    }
  }
  _mm256_storeu_ps(out[0], a00), _mm256_storeu_ps(out[0] + 8, a01), _mm256_storeu_ps(out[0] + 16, a02);
  _mm256_storeu_ps(out[1], a10), _mm256_storeu_ps(out[1] + 8, a11), _mm256_storeu_ps(out[1] + 16, a12);
  _mm256_storeu_ps(out[2], a20), _mm256_storeu_ps(out[2] + 8, a21), _mm256_storeu_ps(out[2] + 16, a22);
  _mm256_storeu_ps(out[3], a30), _mm256_storeu_ps(out[3] + 8, a31), _mm256_storeu_ps(out[3] + 16, a32);
}
#endif

/* Tiles [t*CHUNK, (t+1)*CHUNK) of one output-channel block, stored where
 * they fall inside the output (pixels in the padding columns dropped). */
static void tiles_task(void *p, int task, int thread) {
#if HAVE_KERNEL
  const direct_job *j = p;
  int chunks = (j->tiles + CHUNK - 1) / CHUNK;
  int cb = task / chunks, t0 = task % chunks * CHUNK;
  int t1 = t0 + CHUNK < j->tiles ? t0 + CHUNK : j->tiles;
  const float *wcb = j->wp + (size_t)cb * j->Cin * j->k * j->k * CO;
  size_t npix = (size_t)j->rows * j->Wp, out_plane = (size_t)j->Ho * j->Wo;
  float out[CO][PX], bias[CO] = {0};
  int qn = j->Cout - cb * CO < CO ? j->Cout - cb * CO : CO;
  for (int q = 0; q < qn; q++)
    if (j->b && !j->accumulate) bias[q] = j->b[cb * CO + q];
  int off[MAX_TAPS];
  for (int ky = 0, t = 0; ky < j->k; ky++)
    for (int kx = 0; kx < j->k; kx++) off[t++] = (ky * j->Wp + kx) * j->dil;
  for (int t = t0; t < t1; t++) {
    size_t p0 = (size_t)t * PX;
    tile(j, wcb, off, p0, out);
    size_t oy = p0 / (size_t)j->Wp, ox = p0 % (size_t)j->Wp;
    if (ox + PX <= (size_t)j->Wo && p0 + PX <= npix) { /* the tile within one row */
      float *dst = j->y + (size_t)cb * CO * out_plane + ((size_t)j->r0 + oy) * j->Wo + ox;
      for (int q = 0; q < qn; q++, dst += out_plane)
        for (int i = 0; i < PX; i++) dst[i] = j->accumulate ? dst[i] + out[q][i] : out[q][i] + bias[q];
      continue;
    }
    for (size_t i = 0; i < PX && p0 + i < npix; i++) {
      if (ox < (size_t)j->Wo) {
        float *dst = j->y + (size_t)cb * CO * out_plane + ((size_t)j->r0 + oy) * j->Wo + ox;
        for (int q = 0; q < qn; q++, dst += out_plane)
          *dst = j->accumulate ? *dst + out[q][i] : out[q][i] + bias[q];
      }
      if (++ox == (size_t)j->Wp) ox = 0, oy++;
    }
  }
#else
  (void)p, (void)task;
#endif
}

void hy_conv_direct_forward(float *y, const float *x, const float *w, const float *b, int Cin,
                            int H, int W, int Cout, int k, int pad, int dil, int accumulate,
                            float *scratch, hy_pool *pool) {
  int reach = dil * (k - 1), Wp = W + 2 * pad;
  direct_job j = {.y = y, .x = x, .b = b, .wp = scratch, .Cin = Cin, .H = H, .W = W,
                  .Cout = Cout, .k = k, .pad = pad, .dil = dil, .accumulate = accumulate,
                  .Ho = H + 2 * pad - reach, .Wo = W + 2 * pad - reach, .Wp = Wp, .reach = reach};
  /* w[co][c][t] -> wp[co / CO][c][t][co % CO], missing channels zero */
  int kk = k * k, blocks = (Cout + CO - 1) / CO;
  float *wp = scratch;
  for (int cb = 0; cb < blocks; cb++)
    for (int c = 0; c < Cin; c++)
      for (int t = 0; t < kk; t++)
        for (int q = 0; q < CO; q++) {
          int co = cb * CO + q;
          *wp++ = co < Cout ? w[((size_t)co * Cin + c) * kk + t] : 0.0f;
        }
  int rows = band_rows(Cin, j.Ho, Wp, reach);
  j.xb = scratch + packed_w(Cin, Cout, k);
  j.plane = (size_t)(rows + reach) * Wp;
  /* the slack past the last channel: read by tiles that are dropped */
  memset(j.xb + (size_t)Cin * j.plane, 0, sizeof(float) * slack(Wp, reach));
  for (j.r0 = 0; j.r0 < j.Ho; j.r0 += rows) {
    j.rows = j.r0 + rows < j.Ho ? rows : j.Ho - j.r0;
    hy_pool_run(pool, Cin, pad_task, &j);
    j.tiles = (int)(((size_t)j.rows * Wp + PX - 1) / PX);
    hy_pool_run(pool, blocks * ((j.tiles + CHUNK - 1) / CHUNK), tiles_task, &j);
  }
}

/* One output channel of dy into the band's padded rows, zero elsewhere. */
static void pad_dy_task(void *p, int co, int thread) {
  const direct_job *j = p;
  float *dst = j->dyb + (size_t)co * j->dplane;
  const float *src = j->dy + ((size_t)co * j->Ho + j->r0) * j->Wo;
  memset(dst, 0, sizeof(float) * j->dplane);
  for (int i = 0; i < j->rows; i++) memcpy(dst + (size_t)i * j->Wp, src + (size_t)i * j->Wo, sizeof(float) * (size_t)j->Wo);
}

enum { DW_U = 3 }; /* (input channel, tap) pairs per dw tile */

#if HAVE_KERNEL
__attribute__((target("avx2,fma"))) static float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* dw[co][u] += sum over the band's pixels p of dyb[co][p] * x_u[p] for the
 * 4 channels of block cb (those < Cout) and the pairs u0 .. u0 + n - 1. */
__attribute__((target("avx2,fma"))) static void dw_tile(const direct_job *j, int cb, int u0, int n,
                                                        const int *off) {
  const float *xs[DW_U];
  int kk = j->k * j->k;
  for (int v = 0; v < DW_U; v++) {
    int u = u0 + (v < n ? v : 0);
    xs[v] = j->xb + (size_t)(u / kk) * j->plane + off[u % kk];
  }
  const float *d[CO];
  for (int q = 0; q < CO; q++) d[q] = j->dyb + (size_t)(cb * CO + (cb * CO + q < j->Cout ? q : 0)) * j->dplane;
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
  size_t end = (size_t)j->rows * j->Wp;
  for (size_t p = 0; p < end; p += 8) {
    __m256 x0 = _mm256_loadu_ps(xs[0] + p), x1 = _mm256_loadu_ps(xs[1] + p), x2 = _mm256_loadu_ps(xs[2] + p);
    __m256 g = _mm256_loadu_ps(d[0] + p);
    a00 = _mm256_fmadd_ps(g, x0, a00), a01 = _mm256_fmadd_ps(g, x1, a01), a02 = _mm256_fmadd_ps(g, x2, a02);
    g = _mm256_loadu_ps(d[1] + p);
    a10 = _mm256_fmadd_ps(g, x0, a10), a11 = _mm256_fmadd_ps(g, x1, a11), a12 = _mm256_fmadd_ps(g, x2, a12);
    g = _mm256_loadu_ps(d[2] + p);
    a20 = _mm256_fmadd_ps(g, x0, a20), a21 = _mm256_fmadd_ps(g, x1, a21), a22 = _mm256_fmadd_ps(g, x2, a22);
    g = _mm256_loadu_ps(d[3] + p);
    a30 = _mm256_fmadd_ps(g, x0, a30), a31 = _mm256_fmadd_ps(g, x1, a31), a32 = _mm256_fmadd_ps(g, x2, a32);
  }
  __m256 acc[CO][DW_U] = {{a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32}};
  size_t per_co = (size_t)j->Cin * kk;
  for (int q = 0; q < CO && cb * CO + q < j->Cout; q++)
    for (int v = 0; v < n; v++) j->dw[(size_t)(cb * CO + q) * per_co + u0 + v] += hsum(acc[q][v]);
}
#endif

static void dw_task(void *p, int task, int thread) {
#if HAVE_KERNEL
  const direct_job *j = p;
  int units = (j->Cin * j->k * j->k + DW_U - 1) / DW_U, total = j->Cin * j->k * j->k;
  int cb = task / units, u0 = task % units * DW_U;
  int off[MAX_TAPS];
  for (int ky = 0, t = 0; ky < j->k; ky++)
    for (int kx = 0; kx < j->k; kx++) off[t++] = (ky * j->Wp + kx) * j->dil;
  dw_tile(j, cb, u0, total - u0 < DW_U ? total - u0 : DW_U, off);
#else
  (void)p, (void)task;
#endif
}

void hy_conv_direct_dw(float *dw, const float *dy, const float *x, int Cin, int H, int W, int Cout,
                       int k, int pad, int dil, float *scratch, hy_pool *pool) {
  int reach = dil * (k - 1), Wp = W + 2 * pad;
  direct_job j = {.dw = dw, .dy = dy, .x = x, .Cin = Cin, .H = H, .W = W, .Cout = Cout, .k = k,
                  .pad = pad, .dil = dil, .Ho = H + 2 * pad - reach, .Wo = W + 2 * pad - reach,
                  .Wp = Wp, .reach = reach};
  int rows = band_rows(Cin, j.Ho, Wp, reach), blocks = (Cout + CO - 1) / CO;
  j.xb = scratch;
  j.plane = (size_t)(rows + reach) * Wp;
  j.dyb = scratch + (size_t)Cin * j.plane + slack(Wp, reach);
  j.dplane = dy_plane(rows, Wp);
  memset(j.xb + (size_t)Cin * j.plane, 0, sizeof(float) * slack(Wp, reach));
  int units = (Cin * k * k + DW_U - 1) / DW_U;
  for (j.r0 = 0; j.r0 < j.Ho; j.r0 += rows) {
    j.rows = j.r0 + rows < j.Ho ? rows : j.Ho - j.r0;
    hy_pool_run(pool, Cin, pad_task, &j);
    hy_pool_run(pool, Cout, pad_dy_task, &j);
    hy_pool_run(pool, blocks * units, dw_task, &j);
  }
}
