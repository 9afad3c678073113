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
  CHUNK = 4,   /* tiles per pool task */
  MAX_K = 7,   /* largest kernel side (CBAM's spatial conv) */
  MAX_TAPS = MAX_K * MAX_K,
  DW_UNITS = 8,   /* units of (input channel, tap) pairs per dw task */
  DW_CHUNK = 512, /* pixels per dw chunk: its dy and x stay in L1 */
  MAX_CO = 8,  /* output channels of the largest forward tile */
  MAX_TILE = MAX_CO * 48, /* its floats */
};
static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

typedef struct direct_job direct_job;

/* One instruction set's kernels and their tile shapes. */
typedef struct {
  int co, px;   /* forward tile: output channels x pixels */
  int dco, du;  /* dw tile: output channels x (input channel, tap) pairs */
  void (*tile)(const direct_job *j, const float *wcb, const int *off, size_t p0, float *out);
  void (*dw_tile)(const direct_job *j, int cb, int u0, int n, const int *off);
} kernels;

struct direct_job {
  const kernels *kn;
  float *y;
  const float *x, *b, *wp;
  float *xb, *dyb, *dw;
  const float *dy;
  int Cin, H, W, Cout, k, pad, dil, accumulate, relu;
  int Ho, Wo, Wp, reach, r0, rows;
  size_t plane; /* floats per channel of the padded band */
  int tiles;    /* per output-channel block */
  size_t dplane; /* floats per channel of the padded dy band */
};

#if HAVE_KERNEL
#define SUFFIX avx2
#define TARGET "avx2,fma"
#define V __m256
#define VW 8
#define TCO 4
#define TNV 3
#define DCO 4
#define DU 3
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSET1(f) _mm256_set1_ps(f)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#define VHSUM(v) hsum8(v)
__attribute__((target("avx2,fma"))) static float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
#include "conv_direct_kernels.inc"

/* Twice the width, and 32 registers: twice the channels per tile. */
#define SUFFIX avx512
#define TARGET "avx512f"
#define V __m512
#define VW 16
#define TCO 8
#define TNV 3
#define DCO 8
#define DU 3
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSET1(f) _mm512_set1_ps(f)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#define VHSUM(v) _mm512_reduce_add_ps(v)
#include "conv_direct_kernels.inc"
#endif

static int avx2_only;

void hy_conv_direct_set_avx2(int on) { avx2_only = on; }

/* The kernels for Cout output channels on this CPU, NULL without AVX2 +
 * FMA. AVX-512's 8-channel tiles would run half empty below 5 channels
 * (CBAM's spatial conv, the s1 embedding's dx): AVX2 is faster there. */
static const kernels *pick(int Cout) {
#if HAVE_KERNEL
  static int cpu = -1;
  if (cpu < 0)
    cpu = !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 0
          : __builtin_cpu_supports("avx512f")                                ? 2
                                                                             : 1;
  return cpu == 2 && !avx2_only && Cout > 4 ? &kernels_avx512 : cpu ? &kernels_avx2 : NULL;
#else
  (void)Cout;
  return NULL;
#endif
}

/* Output rows per band: the padded band about as big as conv.c's col band
 * (hy_conv_band_rows, so hy_conv_set_band_floats reaches it too). */
static int band_rows(int Cin, int Ho, int Wp, int reach) {
  int rows = hy_conv_band_rows((size_t)Cin * Wp, Ho + reach) - reach;
  return rows < 1 ? 1 : rows > Ho ? Ho : rows;
}

/* The kernel reads up to a tile and one tap reach past a band's last pixel;
 * rounded so that the dy band after it starts on 64 bytes. */
static size_t slack(const kernels *kn, size_t xfloats, int Wp, int reach) {
  return round16(xfloats + kn->px + (size_t)reach * (Wp + 1)) - xfloats;
}

static size_t packed_w(const kernels *kn, int Cin, int Cout, int k) {
  return round16((size_t)(Cout + kn->co - 1) / kn->co * kn->co * Cin * k * k);
}

int hy_conv_direct_fits(int Cin, int Cout, int k, int stride, int groups) {
  /* Wider outputs reuse each col element enough for sgemm to win. */
  return pick(Cout) && stride == 1 && groups == 1 && k > 1 && k <= MAX_K && Cout <= 64 && Cin <= 1024;
}

/* Floats per output channel of the padded dy band: whole 64-byte lines. */
static size_t dy_plane(int rows, int Wp) { return round16((size_t)rows * Wp); }

/* Floats of one padded input band with its slack. */
static size_t band_size(const kernels *kn, int Cin, int rows, int Wp, int reach) {
  size_t x = (size_t)Cin * (rows + reach) * Wp;
  return x + slack(kn, x, Wp, reach);
}

size_t hy_conv_direct_scratch(int Cin, int H, int W, int Cout, int k, int pad, int dil,
                              int threads) {
  if (!hy_conv_direct_fits(Cin, Cout, k, 1, 1)) return 0;
  const kernels *kn = pick(Cout);
  int reach = dil * (k - 1), Wp = W + 2 * pad, Ho = H + 2 * pad - reach;
  int rows = band_rows(Cin, Ho, Wp, reach);
  size_t xb = band_size(kn, Cin, rows, Wp, reach);
  size_t fwd = packed_w(kn, Cin, Cout, k) + (size_t)hy_conv_band_threads(Ho, threads) * xb;
  size_t dw = xb + (size_t)Cout * dy_plane(rows, Wp);
  return fwd > dw ? fwd : dw;
}

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

/* Tiles [t*CHUNK, (t+1)*CHUNK) of one output-channel block, stored where
 * they fall inside the output (pixels in the padding columns dropped). */
static void tiles_task(void *p, int task, int thread) {
  const direct_job *j = p;
  int co = j->kn->co, px = j->kn->px;
  int chunks = (j->tiles + CHUNK - 1) / CHUNK;
  int cb = task / chunks, t0 = task % chunks * CHUNK;
  int t1 = t0 + CHUNK < j->tiles ? t0 + CHUNK : j->tiles;
  const float *wcb = j->wp + (size_t)cb * j->Cin * j->k * j->k * co;
  size_t npix = (size_t)j->rows * j->Wp, out_plane = (size_t)j->Ho * j->Wo;
  _Alignas(64) float out[MAX_TILE];
  float bias[MAX_CO] = {0};
  int qn = j->Cout - cb * co < co ? j->Cout - cb * co : co;
  for (int q = 0; q < qn; q++)
    if (j->b && !j->accumulate) bias[q] = j->b[cb * co + q];
  int off[MAX_TAPS];
  for (int ky = 0, t = 0; ky < j->k; ky++)
    for (int kx = 0; kx < j->k; kx++) off[t++] = (ky * j->Wp + kx) * j->dil;
  for (int t = t0; t < t1; t++) {
    size_t p0 = (size_t)t * px;
    j->kn->tile(j, wcb, off, p0, out);
    /* row by row: the pixels up to the row's end, those < Wo stored */
    for (size_t i = 0; i < (size_t)px && p0 + i < npix;) {
      size_t oy = (p0 + i) / (size_t)j->Wp, ox = (p0 + i) % (size_t)j->Wp;
      size_t n = (size_t)j->Wp - ox, m = ox < (size_t)j->Wo ? (size_t)j->Wo - ox : 0;
      if (n > px - i) n = px - i;
      if (n > npix - p0 - i) n = npix - p0 - i;
      if (m > n) m = n;
      float *dst = j->y + (size_t)cb * co * out_plane + ((size_t)j->r0 + oy) * j->Wo + ox;
      for (int q = 0; q < qn; q++, dst += out_plane) {
        const float *o = out + q * px + i;
        if (j->accumulate)
          for (size_t r = 0; r < m; r++) dst[r] += o[r];
        else if (j->relu) /* NaN stays NaN, as in hy_relu_forward */
          for (size_t r = 0; r < m; r++) {
            float v = o[r] + bias[q];
            dst[r] = v < 0.0f ? 0.0f : v;
          }
        else
          for (size_t r = 0; r < m; r++) dst[r] = o[r] + bias[q];
      }
      i += n;
    }
  }
}

typedef struct {
  float *wp;
  const float *w;
  int Cin, Cout, kk, CO;
} pack_job;

/* w[co][c][t] -> wp[co / CO][c][t][co % CO] for block cb, missing channels zero */
static void pack_task(void *p, int cb, int thread) {
  const pack_job *j = p;
  float *wp = j->wp + (size_t)cb * j->Cin * j->kk * j->CO;
  for (int c = 0; c < j->Cin; c++)
    for (int t = 0; t < j->kk; t++)
      for (int q = 0; q < j->CO; q++) {
        int co = cb * j->CO + q;
        *wp++ = co < j->Cout ? j->w[((size_t)co * j->Cin + c) * j->kk + t] : 0.0f;
      }
}

static void set_band(direct_job *j, int r0, int rows) {
  j->r0 = r0;
  j->rows = r0 + rows < j->Ho ? rows : j->Ho - r0;
  j->tiles = (int)(((size_t)j->rows * j->Wp + j->kn->px - 1) / j->kn->px);
}

typedef struct {
  const direct_job *j;
  size_t xb; /* floats from one thread's padded band to the next */
  int rows;  /* per band */
} band_job;

static void band_task(void *p, int band, int thread) {
  const band_job *bj = p;
  direct_job j = *bj->j;
  j.xb += (size_t)thread * bj->xb;
  j.plane = (size_t)(bj->rows + j.reach) * j.Wp;
  set_band(&j, band * bj->rows, bj->rows);
  for (int c = 0; c < j.Cin; c++) pad_task(&j, c, thread);
  size_t xfloats = (size_t)j.Cin * j.plane;
  memset(j.xb + xfloats, 0, sizeof(float) * slack(j.kn, xfloats, j.Wp, j.reach));
  int blocks = (j.Cout + j.kn->co - 1) / j.kn->co;
  for (int t = 0; t < blocks * ((j.tiles + CHUNK - 1) / CHUNK); t++) tiles_task(&j, t, thread);
}

void hy_conv_direct_forward(float *y, const float *x, const float *w, const float *b, int Cin,
                            int H, int W, int Cout, int k, int pad, int dil, int accumulate,
                            int relu, float *scratch, hy_pool *pool) {
  const kernels *kn = pick(Cout);
  int reach = dil * (k - 1), Wp = W + 2 * pad, CO = kn->co;
  direct_job j = {.kn = kn, .y = y, .x = x, .b = b, .wp = scratch, .Cin = Cin, .H = H, .W = W,
                  .Cout = Cout, .k = k, .pad = pad, .dil = dil, .accumulate = accumulate, .relu = relu,
                  .Ho = H + 2 * pad - reach, .Wo = W + 2 * pad - reach, .Wp = Wp, .reach = reach};
  int blocks = (Cout + CO - 1) / CO;
  pack_job pj = {scratch, w, Cin, Cout, k * k, CO};
  hy_pool_run(pool, blocks, pack_task, &pj);
  int rows = band_rows(Cin, j.Ho, Wp, reach);
  j.xb = scratch + packed_w(kn, Cin, Cout, k);
  j.plane = (size_t)(rows + reach) * Wp;
  int threads = hy_conv_band_threads(j.Ho, hy_pool_threads(pool));
  if (threads > 1) {
    /* bands in a multiple of the thread count, as even as they can be */
    int nb = (j.Ho + rows - 1) / rows;
    nb = (nb + threads - 1) / threads * threads;
    band_job bj = {&j, band_size(kn, Cin, rows, Wp, reach), (j.Ho + nb - 1) / nb};
    hy_pool_run(pool, (j.Ho + bj.rows - 1) / bj.rows, band_task, &bj);
    return;
  }
  /* the slack past the last channel: read by tiles that are dropped */
  size_t xfloats = (size_t)Cin * j.plane;
  memset(j.xb + xfloats, 0, sizeof(float) * slack(kn, xfloats, Wp, reach));
  for (j.r0 = 0; j.r0 < j.Ho; j.r0 += rows) {
    set_band(&j, j.r0, rows);
    hy_pool_run(pool, Cin, pad_task, &j);
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

static void dw_task(void *p, int task, int thread) {
  const direct_job *j = p;
  int per = j->kn->du * DW_UNITS, total = j->Cin * j->k * j->k, parts = (total + per - 1) / per;
  int cb = task / parts, u0 = task % parts * per;
  int off[MAX_TAPS];
  for (int ky = 0, t = 0; ky < j->k; ky++)
    for (int kx = 0; kx < j->k; kx++) off[t++] = (ky * j->Wp + kx) * j->dil;
  j->kn->dw_tile(j, cb, u0, total - u0 < per ? total - u0 : per, off);
}

void hy_conv_direct_dw(float *dw, const float *dy, const float *x, int Cin, int H, int W, int Cout,
                       int k, int pad, int dil, float *scratch, hy_pool *pool) {
  const kernels *kn = pick(Cout);
  int reach = dil * (k - 1), Wp = W + 2 * pad;
  direct_job j = {.kn = kn, .dw = dw, .dy = dy, .x = x, .Cin = Cin, .H = H, .W = W,
                  .Cout = Cout, .k = k, .pad = pad, .dil = dil, .Ho = H + 2 * pad - reach,
                  .Wo = W + 2 * pad - reach, .Wp = Wp, .reach = reach};
  int rows = band_rows(Cin, j.Ho, Wp, reach), blocks = (Cout + kn->dco - 1) / kn->dco;
  j.xb = scratch;
  j.plane = (size_t)(rows + reach) * Wp;
  size_t xfloats = (size_t)Cin * j.plane, sl = slack(kn, xfloats, Wp, reach);
  j.dyb = scratch + xfloats + sl;
  j.dplane = dy_plane(rows, Wp);
  memset(j.xb + xfloats, 0, sizeof(float) * sl);
  int per = kn->du * DW_UNITS, parts = (Cin * k * k + per - 1) / per;
  for (j.r0 = 0; j.r0 < j.Ho; j.r0 += rows) {
    j.rows = j.r0 + rows < j.Ho ? rows : j.Ho - j.r0;
    hy_pool_run(pool, Cin, pad_task, &j);
    hy_pool_run(pool, Cout, pad_dy_task, &j);
    hy_pool_run(pool, blocks * parts, dw_task, &j);
  }
}
