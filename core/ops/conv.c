#include "conv.h"

#include <cblas.h>
#include <string.h>

#include "activation.h"
#include "conv_direct.h"
#include "conv_winograd.h"
#include "dwconv.h"
#include "gemm_small.h"
#include "vecmath.h"

/* ~0.75 MB of col per band: the band's GEMM then runs at full speed from L2
 * (c-dl-anchors §6.0: 0.6-4.7 MB tiles all reach the whole-image rate). */
#define DEFAULT_BAND_FLOATS ((size_t)196608)
/* Below this many col floats per band, im2col is not worth waking the pool. */
#define POOL_MIN_FLOATS ((size_t)32768)

static size_t band_floats_override;

void hy_conv_set_band_floats(size_t n) { band_floats_override = n; }

int hy_conv_band_rows(size_t rows_k, int Hout) {
  size_t target = band_floats_override ? band_floats_override : DEFAULT_BAND_FLOATS;
  size_t rows = rows_k ? target / rows_k : (size_t)Hout;
  if (rows < 1) rows = 1;
  return rows > (size_t)Hout ? Hout : (int)rows;
}

int hy_conv_band_threads(int rows, int threads) {
  if (threads < 1) threads = 1;
  return rows >= 2 * threads ? threads : 1;
}

int hy_conv_out_size(int in, int k, int stride, int pad, int dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

static int is_depthwise(int Cin, int Cout, int kh, int kw, int ph, int pw,
                        int dil, int groups) {
  return groups == Cin && Cin == Cout && kh == kw && ph == pw && dil == 1;
}

static int is_pointwise(int kh, int kw, int stride, int ph, int pw) {
  return kh == 1 && kw == 1 && stride == 1 && ph == 0 && pw == 0;
}

/* Stride 1 with padding at most the dilated kernel's reach: dx is then the
 * forward conv of dy (padded by dil*(k-1) - p) with the flipped, transposed
 * filter. That GEMM has the forward's good shape (reduction over Cout*kh*kw)
 * and writes dx directly; the col2im route instead reduces over only Cout
 * and scatters a col of Cin*kh*kw rows. */
static int dx_as_conv(int kh, int kw, int stride, int ph, int pw, int dil) {
  return stride == 1 && ph <= dil * (kh - 1) && pw <= dil * (kw - 1);
}

/* The direct kernel's shapes: square kernel, same padding on both axes. */
static int direct(int Cin, int Cout, int kh, int kw, int stride, int ph, int pw, int groups) {
  return kh == kw && ph == pw && hy_conv_direct_fits(Cin, Cout, kh, stride, groups);
}

/* The Winograd kernel's shapes: 3x3, same padding on both axes. */
static int winograd(int Cin, int Cout, int kh, int kw, int stride, int ph, int pw, int dil,
                    int groups, int Ho, int Wo) {
  return kh == kw && ph == pw && hy_conv_winograd_fits(Cin, Cout, kh, stride, dil, groups, Ho, Wo);
}

/* Floats of the flipped filter at the start of scratch, rounded to 64 bytes. */
static size_t flipped_size(int Cin, int Cout, int kh, int kw, int groups) {
  return ((size_t)Cout * (Cin / groups) * kh * kw + 15) / 16 * 16;
}

/* The 4x4, stride 2, padding 1 patch embeddings on even sizes: split into
 * the input's four (row, column) parities, a 2x2 stride-1 conv without
 * padding over 4*Cin planes of (H/2 + 1) x (W/2 + 1), which the direct
 * kernel runs. Plane c4 = 4c + 2pr + pc holds x[c][2i - pr][2j - pc] (zero
 * outside x), and its tap (ty, tx) is w[co][c][2ty + 1 - pr][2tx + 1 - pc]. */
static int by_parities(int Cin, int H, int W, int Cout, int kh, int kw, int stride, int ph,
                       int pw, int dil, int groups) {
  return kh == 4 && kw == 4 && stride == 2 && ph == 1 && pw == 1 && dil == 1 && groups == 1 &&
         H % 2 == 0 && W % 2 == 0 && direct(4 * Cin, Cout, 2, 2, 1, 0, 0, 1);
}

static size_t al16(size_t n) { return (n + 15) / 16 * 16; }

/* Scratch of the parity path: wp [Cout][4Cin][2][2] | P [4Cin][h+1][w+1] |
 * dP (same) | dwp (as wp) | the 2x2 conv's own scratch. */
typedef struct {
  float *wp, *P, *dP, *dwp, *conv;
} parity_parts;

static size_t parity_w(int Cin, int Cout) { return al16((size_t)Cout * Cin * 16); }

static size_t parity_planes(int Cin, int H, int W) {
  return al16((size_t)4 * Cin * (H / 2 + 1) * (W / 2 + 1));
}

static size_t parity_scratch(int Cin, int H, int W, int Cout, int threads) {
  return 2 * parity_w(Cin, Cout) + 2 * parity_planes(Cin, H, W) +
         hy_conv_scratch(4 * Cin, H / 2 + 1, W / 2 + 1, Cout, 2, 2, 1, 0, 0, 1, 1, threads);
}

static parity_parts parity_layout(float *base, int Cin, int H, int W, int Cout) {
  size_t nw = parity_w(Cin, Cout), nP = parity_planes(Cin, H, W);
  return (parity_parts){base, base + nw, base + nw + nP, base + nw + 2 * nP, base + 2 * nw + 2 * nP};
}

typedef struct {
  const float *x;
  float *P, *dx;
  const float *dP;
  int H, W;
} parity_job;

/* Parity plane 4c + par of input channel c: P[i][jx] = x[2i - pr][2jx - pc],
 * zero outside x (W is even, so only column 0 or w1 - 1 is). One task a
 * plane, not a channel: the s1 embedding has a single input channel. */
static HY_HOT void split_task(void *p, int plane, int thread) {
  const parity_job *j = p;
  int h1 = j->H / 2 + 1, w1 = j->W / 2 + 1, half = j->W / 2;
  int c = plane / 4, par = plane % 4;
  int pr = par / 2, pc = par % 2;
  const float *x = j->x + (size_t)c * j->H * j->W;
  float *P = j->P + (size_t)plane * h1 * w1;
  for (int i = 0; i < h1; i++) {
    int iy = 2 * i - pr;
    float *row = P + (size_t)i * w1;
    if (iy < 0 || iy >= j->H) {
      memset(row, 0, sizeof(float) * (size_t)w1);
      continue;
    }
    const float *xr = x + (size_t)iy * j->W + pc; /* row[pc + k] = column 2k + pc */
    float *dst = row + pc;
    for (int k = 0; k < half; k++) dst[k] = xr[2 * k];
    row[pc ? 0 : half] = 0.0f;
  }
}

/* dx[c] += the four parity planes of dP, back in place. */
static void merge_task(void *p, int c, int thread) {
  const parity_job *j = p;
  int h1 = j->H / 2 + 1, w1 = j->W / 2 + 1;
  float *dx = j->dx + (size_t)c * j->H * j->W;
  for (int par = 0; par < 4; par++) {
    int pr = par / 2, pc = par % 2;
    const float *P = j->dP + ((size_t)c * 4 + par) * h1 * w1;
    for (int i = 0; i < h1; i++) {
      int iy = 2 * i - pr;
      if (iy < 0 || iy >= j->H) continue;
      for (int jx = 0; jx < w1; jx++) {
        int ix = 2 * jx - pc;
        if (ix >= 0 && ix < j->W) dx[(size_t)iy * j->W + ix] += P[(size_t)i * w1 + jx];
      }
    }
  }
}

/* The tap of w that parity plane par's tap t is. */
static size_t parity_tap(int Cin, int co, int c, int par, int t) {
  int ky = 2 * (t / 2) + 1 - par / 2, kx = 2 * (t % 2) + 1 - par % 2;
  return (((size_t)co * Cin + c) * 4 + ky) * 4 + kx;
}

/* wp[co][4c + par][t] = w[parity_tap(co, c, par, t)] */
static void parity_weights(float *wp, const float *w, int Cin, int Cout) {
  for (int co = 0; co < Cout; co++)
    for (int c = 0; c < Cin; c++)
      for (int par = 0; par < 4; par++)
        for (int t = 0; t < 4; t++) *wp++ = w[parity_tap(Cin, co, c, par, t)];
}

static void forward_parities(float *y, const float *x, const float *w, const float *b, int N,
                             int Cin, int H, int W, int Cout, float *scratch, hy_pool *pool) {
  parity_parts s = parity_layout(scratch, Cin, H, W, Cout);
  parity_weights(s.wp, w, Cin, Cout);
  for (int n = 0; n < N; n++) {
    parity_job j = {.x = x + (size_t)n * Cin * H * W, .P = s.P, .H = H, .W = W};
    hy_pool_run(pool, 4 * Cin, split_task, &j);
    hy_conv_forward(y + (size_t)n * Cout * (H / 2) * (W / 2), s.P, s.wp, b, 1, 4 * Cin, H / 2 + 1,
                    W / 2 + 1, Cout, 2, 2, 1, 0, 0, 1, 1, s.conv, pool);
  }
}

static void backward_parities(float *dx, float *dw, const float *dy, const float *x,
                              const float *w, int N, int Cin, int H, int W, int Cout,
                              float *scratch, hy_pool *pool) {
  parity_parts s = parity_layout(scratch, Cin, H, W, Cout);
  parity_weights(s.wp, w, Cin, Cout);
  size_t nP = parity_planes(Cin, H, W);
  if (dw) memset(s.dwp, 0, (size_t)Cout * Cin * 16 * sizeof *s.dwp);
  for (int n = 0; n < N; n++) {
    parity_job j = {.x = x + (size_t)n * Cin * H * W, .P = s.P, .dP = s.dP,
                    .dx = dx ? dx + (size_t)n * Cin * H * W : NULL, .H = H, .W = W};
    hy_pool_run(pool, 4 * Cin, split_task, &j);
    if (dx) memset(s.dP, 0, nP * sizeof *s.dP);
    hy_conv_backward(dx ? s.dP : NULL, dw ? s.dwp : NULL, NULL,
                     dy + (size_t)n * Cout * (H / 2) * (W / 2), s.P, s.wp, 1, 4 * Cin, H / 2 + 1,
                     W / 2 + 1, Cout, 2, 2, 1, 0, 0, 1, 1, s.conv, pool);
    if (dx) hy_pool_run(pool, Cin, merge_task, &j);
  }
  if (!dw) return;
  const float *g = s.dwp;
  for (int co = 0; co < Cout; co++)
    for (int c = 0; c < Cin; c++)
      for (int par = 0; par < 4; par++)
        for (int t = 0; t < 4; t++) dw[parity_tap(Cin, co, c, par, t)] += *g++;
}

size_t hy_conv_scratch(int Cin, int H, int W, int Cout, int kh, int kw,
                       int stride, int ph, int pw, int dil, int groups, int threads) {
  if (is_depthwise(Cin, Cout, kh, kw, ph, pw, dil, groups) ||
      is_pointwise(kh, kw, stride, ph, pw))
    return 0;
  int Ho = hy_conv_out_size(H, kh, stride, ph, dil);
  int Wo = hy_conv_out_size(W, kw, stride, pw, dil);
  size_t K = (size_t)(Cin / groups) * kh * kw;
  size_t n = K * (size_t)hy_conv_band_rows(K * Wo, Ho) * Wo;
  if (direct(Cin, Cout, kh, kw, stride, ph, pw, groups)) {
    size_t t = hy_conv_direct_scratch(Cin, H, W, Cout, kh, ph, dil, threads);
    if (t > n) n = t;
  }
  if (winograd(Cin, Cout, kh, kw, stride, ph, pw, dil, groups, Ho, Wo)) {
    size_t t = hy_conv_winograd_scratch(Cin, H, W, Cout, ph, threads);
    if (t > n) n = t;
  }
  if (dx_as_conv(kh, kw, stride, ph, pw, dil)) {
    int Cg = Cin / groups, Mg = Cout / groups, q = dil * (kh - 1) - ph;
    size_t Kt = (size_t)Mg * kh * kw;
    size_t t = flipped_size(Cin, Cout, kh, kw, groups) +
               (winograd(Mg, Cg, kh, kw, 1, q, dil * (kw - 1) - pw, dil, 1, H, W)
                    ? hy_conv_winograd_scratch(Mg, Ho, Wo, Cg, q, threads)
                : direct(Mg, Cg, kh, kw, 1, ph, pw, 1)
                    ? hy_conv_direct_scratch(Mg, Ho, Wo, Cg, kh, q, dil, threads)
                    : Kt * (size_t)hy_conv_band_rows(Kt * W, H) * W);
    if (t > n) n = t;
  }
  if (by_parities(Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups)) {
    size_t t = parity_scratch(Cin, H, W, Cout, threads);
    if (t > n) n = t;
  }
  return n;
}

double hy_conv_flops(int N, int Cin, int H, int W, int Cout, int kh, int kw,
                     int stride, int ph, int pw, int dil, int groups) {
  return 2.0 * N * Cout * (Cin / groups) * kh * kw *
         hy_conv_out_size(H, kh, stride, ph, dil) *
         hy_conv_out_size(W, kw, stride, pw, dil);
}

static int ceil_div(int a, int b) { /* b > 0, any sign of a */
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Output columns [lo, hi) whose tap at input column offset `off` (ix = ox*s
 * + off) lands inside [0, W). */
static void valid_cols(int *lo, int *hi, int W, int Wout, int s, int off) {
  *lo = clampi(ceil_div(-off, s), 0, Wout);
  int last = W - 1 - off;
  *hi = last < 0 ? *lo : clampi(last / s + 1, *lo, Wout);
}

typedef struct {
  float *col, *img;
  const float *ccol, *cimg;
  int H, W, Hout, Wout, kh, kw, s, ph, pw, d, r0, r1;
} im2col_job;

static void im2col_task(void *p, int c, int thread) {
  const im2col_job *j = p;
  size_t npix = (size_t)(j->r1 - j->r0) * j->Wout;
  const float *img = j->cimg + (size_t)c * j->H * j->W;
  for (int ky = 0; ky < j->kh; ky++)
    for (int kx = 0; kx < j->kw; kx++) {
      float *dst = j->col + ((size_t)(c * j->kh + ky) * j->kw + kx) * npix;
      int off = kx * j->d - j->pw, lo, hi;
      valid_cols(&lo, &hi, j->W, j->Wout, j->s, off);
      for (int oy = j->r0; oy < j->r1; oy++, dst += j->Wout) {
        int iy = oy * j->s - j->ph + ky * j->d;
        if (iy < 0 || iy >= j->H) {
          memset(dst, 0, sizeof(float) * (size_t)j->Wout);
          continue;
        }
        /* the first valid tap; lo*s + off >= 0 by construction */
        const float *src = img + (size_t)iy * j->W + (lo * j->s + off);
        memset(dst, 0, sizeof(float) * (size_t)lo);
        if (j->s == 1)
          memcpy(dst + lo, src, sizeof(float) * (size_t)(hi - lo));
        else
          for (int i = 0; i < hi - lo; i++) dst[lo + i] = src[(size_t)i * j->s];
        memset(dst + hi, 0, sizeof(float) * (size_t)(j->Wout - hi));
      }
    }
}

static void col2im_task(void *p, int c, int thread) {
  const im2col_job *j = p;
  size_t npix = (size_t)(j->r1 - j->r0) * j->Wout;
  float *img = j->img + (size_t)c * j->H * j->W;
  for (int ky = 0; ky < j->kh; ky++)
    for (int kx = 0; kx < j->kw; kx++) {
      const float *src = j->ccol + ((size_t)(c * j->kh + ky) * j->kw + kx) * npix;
      int off = kx * j->d - j->pw, lo, hi;
      valid_cols(&lo, &hi, j->W, j->Wout, j->s, off);
      for (int oy = j->r0; oy < j->r1; oy++, src += j->Wout) {
        int iy = oy * j->s - j->ph + ky * j->d;
        if (iy < 0 || iy >= j->H) continue;
        float *dst = img + (size_t)iy * j->W + (lo * j->s + off);
        if (j->s == 1)
          for (int i = 0; i < hi - lo; i++) dst[i] += src[lo + i];
        else
          for (int i = 0; i < hi - lo; i++) dst[(size_t)i * j->s] += src[lo + i];
      }
    }
}

static hy_pool *pool_for(hy_pool *pool, int C, int kh, int kw, int r0, int r1,
                         int Wout) {
  return (size_t)C * kh * kw * (r1 - r0) * Wout >= POOL_MIN_FLOATS ? pool : NULL;
}

void hy_conv_im2col(float *col, const float *img, int C, int H, int W,
                    int Hout, int Wout, int kh, int kw, int stride, int ph,
                    int pw, int dil, int r0, int r1, hy_pool *pool) {
  im2col_job j = {.col = col, .cimg = img, .H = H, .W = W, .Hout = Hout,
                  .Wout = Wout, .kh = kh, .kw = kw, .s = stride, .ph = ph,
                  .pw = pw, .d = dil, .r0 = r0, .r1 = r1};
  hy_pool_run(pool_for(pool, C, kh, kw, r0, r1, Wout), C, im2col_task, &j);
}

void hy_conv_col2im(float *img, const float *col, int C, int H, int W,
                    int Hout, int Wout, int kh, int kw, int stride, int ph,
                    int pw, int dil, int r0, int r1, hy_pool *pool) {
  im2col_job j = {.img = img, .ccol = col, .H = H, .W = W, .Hout = Hout,
                  .Wout = Wout, .kh = kh, .kw = kw, .s = stride, .ph = ph,
                  .pw = pw, .d = dil, .r0 = r0, .r1 = r1};
  hy_pool_run(pool_for(pool, C, kh, kw, r0, r1, Wout), C, col2im_task, &j);
}

/* Fixed-order 8-lane sum: vectorisable without reassociation. */
static double sum8(const float *a, size_t n) {
  float acc[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[i + l];
  double s = 0;
  for (; i < n; i++) s += a[i];
  for (int l = 0; l < 8; l++) s += acc[l];
  return s;
}

static void add_bias(float *y, const float *b, int C, size_t len, size_t stride) {
  for (int c = 0; c < C; c++)
    for (size_t i = 0; i < len; i++) y[c * stride + i] += b[c];
}

/* Output channels per task of the small forward GEMMs that pool_sgemm
 * splits (fixed, so the result does not depend on the pool's thread
 * count), and the largest M N K it splits: past that OpenBLAS's own
 * threads pay for their wake-up, and repacking B for each task costs more. */
enum { GEMM_ROWS = 64, SPLIT_MAX_MNK = 1 << 26 };

typedef struct {
  float *C;
  const float *A, *B;
  int M, N, K, ldb, ldc;
} gemm_rows_job;

static void gemm_rows_task(void *p, int t, int thread) {
  const gemm_rows_job *g = p;
  int m0 = t * GEMM_ROWS, m = g->M - m0 < GEMM_ROWS ? g->M - m0 : GEMM_ROWS;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, g->N, g->K, 1.0f, g->A + (size_t)m0 * g->K,
              g->K, g->B, g->ldb, 0.0f, g->C + (size_t)m0 * g->ldc, g->ldc);
}

/* C = A B, A [M][K]: the forward's GEMMs (im2col and 1x1 convs past the
 * small-K kernel). A small one with more than GEMM_ROWS rows (s5's
 * convs: 128 outputs on a 16 x 13 map) runs as tasks of GEMM_ROWS rows on
 * the pool, OpenBLAS on one thread in each: on 2 threads 0.63 -> 0.45 ms
 * a conv (its own workers, woken for each call, cost more than the split). */
static void pool_sgemm(float *C, int ldc, const float *A, const float *B, int ldb, int M, int N,
                       int K, hy_pool *pool) {
  if (M <= GEMM_ROWS || (double)M * N * K > SPLIT_MAX_MNK) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C,
                ldc);
    return;
  }
  gemm_rows_job g = {C, A, B, M, N, K, ldb, ldc};
  hy_pool_run_sgemm(pool, (M + GEMM_ROWS - 1) / GEMM_ROWS, gemm_rows_task, &g);
}

/* relu: the Winograd, direct and small-GEMM paths clamp in their last
 * pass; the others get a ReLU pass of their own. */
static void conv_forward(float *y, const float *x, const float *w, const float *b, int N,
                         int Cin, int H, int W, int Cout, int kh, int kw, int stride, int ph,
                         int pw, int dil, int groups, int relu, float *scratch, hy_pool *pool) {
  int Ho = hy_conv_out_size(H, kh, stride, ph, dil);
  int Wo = hy_conv_out_size(W, kw, stride, pw, dil);
  int use_winograd = winograd(Cin, Cout, kh, kw, stride, ph, pw, dil, groups, Ho, Wo);
  int small_gemm = is_pointwise(kh, kw, stride, ph, pw) && hy_gemm_small_fits(Cin / groups);
  int use_direct = direct(Cin, Cout, kh, kw, stride, ph, pw, groups);
  int relu_fused = !is_depthwise(Cin, Cout, kh, kw, ph, pw, dil, groups) &&
                   !by_parities(Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups) &&
                   (use_winograd || use_direct || small_gemm);
  if (relu && !relu_fused) {
    conv_forward(y, x, w, b, N, Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups, 0, scratch,
                 pool);
    hy_relu_forward(y, y, N * Cout * Ho * Wo, pool);
    return;
  }
  if (is_depthwise(Cin, Cout, kh, kw, ph, pw, dil, groups)) {
    hy_dwconv_forward(y, x, w, b, N, Cin, H, W, kh, stride, ph, pool);
    return;
  }
  if (by_parities(Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups)) {
    forward_parities(y, x, w, b, N, Cin, H, W, Cout, scratch, pool);
    return;
  }
  int Cg = Cin / groups, Mg = Cout / groups, K = Cg * kh * kw;
  size_t in = (size_t)H * W, out = (size_t)Ho * Wo;
  int pointwise = is_pointwise(kh, kw, stride, ph, pw);
  int rows = hy_conv_band_rows((size_t)K * Wo, Ho);
  for (int n = 0; n < N; n++)
    for (int g = 0; g < groups; g++) {
      const float *xg = x + ((size_t)n * Cin + (size_t)g * Cg) * in;
      const float *wg = w + (size_t)g * Mg * K;
      float *yg = y + ((size_t)n * Cout + (size_t)g * Mg) * out;
      if (use_winograd) {
        hy_conv_winograd_forward(yg, xg, wg, b, Cin, H, W, Cout, ph, 0, relu, scratch, pool);
        continue;
      }
      if (use_direct) {
        hy_conv_direct_forward(yg, xg, wg, b, Cin, H, W, Cout, kh, ph, dil, 0, relu, scratch, pool);
        continue;
      }
      if (small_gemm) {
        hy_gemm_small(yg, (int)out, wg, K, xg, (int)out, Mg, (int)out, K,
                      b ? b + (size_t)g * Mg : NULL, NULL, relu, pool);
        continue;
      }
      if (pointwise) {
        pool_sgemm(yg, (int)out, wg, xg, (int)out, Mg, (int)out, K, pool);
        if (b) add_bias(yg, b + (size_t)g * Mg, Mg, out, out);
        continue;
      }
      for (int r0 = 0; r0 < Ho; r0 += rows) {
        int r1 = r0 + rows < Ho ? r0 + rows : Ho, npix = (r1 - r0) * Wo;
        hy_conv_im2col(scratch, xg, Cg, H, W, Ho, Wo, kh, kw, stride, ph, pw,
                       dil, r0, r1, pool);
        float *yb = yg + (size_t)r0 * Wo;
        pool_sgemm(yb, (int)out, wg, scratch, npix, Mg, npix, K, pool);
        if (b) add_bias(yb, b + (size_t)g * Mg, Mg, (size_t)npix, out);
      }
    }
}

void hy_conv_forward(float *y, const float *x, const float *w, const float *b, int N, int Cin,
                     int H, int W, int Cout, int kh, int kw, int stride, int ph, int pw, int dil,
                     int groups, float *scratch, hy_pool *pool) {
  conv_forward(y, x, w, b, N, Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups, 0, scratch,
               pool);
}

void hy_conv_relu_forward(float *y, const float *x, const float *w, const float *b, int N,
                          int Cin, int H, int W, int Cout, int kh, int kw, int stride, int ph,
                          int pw, int dil, int groups, float *scratch, hy_pool *pool) {
  conv_forward(y, x, w, b, N, Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups, 1, scratch,
               pool);
}

/* dx[Cg][H][W] += conv of dy[Mg][Ho][Wo] with wt[c][m][ky][kx] =
 * w[m][c][kh-1-ky][kw-1-kx], stride 1, padding dil*(k-1) - p; see dx_as_conv. */
static void dx_by_conv(float *dx, const float *dy, const float *w, int Cg,
                       int H, int W, int Mg, int Ho, int Wo, int kh, int kw,
                       int ph, int pw, int dil, float *scratch, hy_pool *pool) {
  int kk = kh * kw, Kt = Mg * kk;
  float *wt = scratch;
  float *col = scratch + flipped_size(Cg, Mg, kh, kw, 1);
  for (int m = 0; m < Mg; m++)
    for (int c = 0; c < Cg; c++)
      for (int t = 0; t < kk; t++)
        wt[((size_t)c * Mg + m) * kk + t] = w[((size_t)m * Cg + c) * kk + kk - 1 - t];
  int qh = dil * (kh - 1) - ph, qw = dil * (kw - 1) - pw;
  if (winograd(Mg, Cg, kh, kw, 1, qh, qw, dil, 1, H, W)) {
    hy_conv_winograd_forward(dx, dy, wt, NULL, Mg, Ho, Wo, Cg, qh, 1, 0, col, pool);
    return;
  }
  if (direct(Mg, Cg, kh, kw, 1, ph, pw, 1)) {
    hy_conv_direct_forward(dx, dy, wt, NULL, Mg, Ho, Wo, Cg, kh, qh, dil, 1, 0, col, pool);
    return;
  }
  int rows = hy_conv_band_rows((size_t)Kt * W, H);
  for (int r0 = 0; r0 < H; r0 += rows) {
    int r1 = r0 + rows < H ? r0 + rows : H, npix = (r1 - r0) * W;
    hy_conv_im2col(col, dy, Mg, Ho, Wo, H, W, kh, kw, 1, qh, qw, dil, r0, r1, pool);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cg, npix, Kt, 1.0f,
                wt, Kt, col, npix, 1.0f, dx + (size_t)r0 * W, H * W);
  }
}

void hy_conv_backward(float *dx, float *dw, float *db, const float *dy,
                      const float *x, const float *w, int N, int Cin, int H,
                      int W, int Cout, int kh, int kw, int stride, int ph,
                      int pw, int dil, int groups, float *scratch,
                      hy_pool *pool) {
  if (is_depthwise(Cin, Cout, kh, kw, ph, pw, dil, groups)) {
    hy_dwconv_backward(dx, dw, db, dy, x, w, N, Cin, H, W, kh, stride, ph, pool);
    return;
  }
  int Ho = hy_conv_out_size(H, kh, stride, ph, dil);
  int Wo = hy_conv_out_size(W, kw, stride, pw, dil);
  int Cg = Cin / groups, Mg = Cout / groups, K = Cg * kh * kw;
  size_t in = (size_t)H * W, out = (size_t)Ho * Wo;
  int pointwise = is_pointwise(kh, kw, stride, ph, pw);
  int as_conv = !pointwise && dx_as_conv(kh, kw, stride, ph, pw, dil);
  int use_direct = direct(Cin, Cout, kh, kw, stride, ph, pw, groups);
  int rows = hy_conv_band_rows((size_t)K * Wo, Ho);
  if (db)
    for (int c = 0; c < Cout; c++) {
      double s = 0;
      for (int n = 0; n < N; n++) s += sum8(dy + ((size_t)n * Cout + c) * out, out);
      db[c] += (float)s;
    }
  if (!dx && !dw) return;
  if (by_parities(Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups)) {
    backward_parities(dx, dw, dy, x, w, N, Cin, H, W, Cout, scratch, pool);
    return;
  }
  for (int n = 0; n < N; n++)
    for (int g = 0; g < groups; g++) {
      const float *xg = x + ((size_t)n * Cin + (size_t)g * Cg) * in;
      const float *wg = w + (size_t)g * Mg * K;
      const float *dyg = dy + ((size_t)n * Cout + (size_t)g * Mg) * out;
      float *dxg = dx ? dx + ((size_t)n * Cin + (size_t)g * Cg) * in : NULL;
      float *dwg = dw ? dw + (size_t)g * Mg * K : NULL;
      if (pointwise) {
        if (dwg)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Mg, K, (int)out,
                      1.0f, dyg, (int)out, xg, (int)out, 1.0f, dwg, K);
        if (dxg)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, (int)out, Mg,
                      1.0f, wg, K, dyg, (int)out, 1.0f, dxg, (int)out);
        continue;
      }
      if (dwg && use_direct) {
        hy_conv_direct_dw(dwg, dyg, xg, Cin, H, W, Cout, kh, ph, dil, scratch, pool);
        dwg = NULL;
      }
      for (int r0 = 0; r0 < Ho; r0 += rows) {
        int r1 = r0 + rows < Ho ? r0 + rows : Ho, npix = (r1 - r0) * Wo;
        const float *dyb = dyg + (size_t)r0 * Wo;
        if (dwg) {
          hy_conv_im2col(scratch, xg, Cg, H, W, Ho, Wo, kh, kw, stride, ph, pw,
                         dil, r0, r1, pool);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Mg, K, npix,
                      1.0f, dyb, (int)out, scratch, npix, 1.0f, dwg, K);
        }
        if (dxg && !as_conv) {
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, npix, Mg,
                      1.0f, wg, K, dyb, (int)out, 0.0f, scratch, npix);
          hy_conv_col2im(dxg, scratch, Cg, H, W, Ho, Wo, kh, kw, stride, ph, pw,
                         dil, r0, r1, pool);
        }
      }
      if (dxg && as_conv)
        dx_by_conv(dxg, dyg, wg, Cg, H, W, Mg, Ho, Wo, kh, kw, ph, pw, dil,
                   scratch, pool);
    }
}

void hy_conv_forward_naive(float *y, const float *x, const float *w,
                           const float *b, int N, int Cin, int H, int W,
                           int Cout, int kh, int kw, int stride, int ph, int pw,
                           int dil, int groups) {
  int Ho = hy_conv_out_size(H, kh, stride, ph, dil);
  int Wo = hy_conv_out_size(W, kw, stride, pw, dil);
  int Cg = Cin / groups, Mg = Cout / groups;
  for (int n = 0; n < N; n++)
    for (int co = 0; co < Cout; co++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          double s = b ? b[co] : 0.0;
          for (int c = 0; c < Cg; c++) {
            int ci = co / Mg * Cg + c;
            for (int ky = 0; ky < kh; ky++)
              for (int kx = 0; kx < kw; kx++) {
                int iy = oy * stride - ph + ky * dil;
                int ix = ox * stride - pw + kx * dil;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += (double)w[(((size_t)co * Cg + c) * kh + ky) * kw + kx] *
                     x[(((size_t)n * Cin + ci) * H + iy) * W + ix];
              }
          }
          y[(((size_t)n * Cout + co) * Ho + oy) * Wo + ox] = (float)s;
        }
}

void hy_conv_backward_naive(float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w, int N, int Cin,
                            int H, int W, int Cout, int kh, int kw, int stride,
                            int ph, int pw, int dil, int groups) {
  int Ho = hy_conv_out_size(H, kh, stride, ph, dil);
  int Wo = hy_conv_out_size(W, kw, stride, pw, dil);
  int Cg = Cin / groups, Mg = Cout / groups;
  for (int n = 0; n < N; n++)
    for (int co = 0; co < Cout; co++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          float g = dy[(((size_t)n * Cout + co) * Ho + oy) * Wo + ox];
          if (db) db[co] += g;
          for (int c = 0; c < Cg; c++) {
            int ci = co / Mg * Cg + c;
            for (int ky = 0; ky < kh; ky++)
              for (int kx = 0; kx < kw; kx++) {
                int iy = oy * stride - ph + ky * dil;
                int ix = ox * stride - pw + kx * dil;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                size_t wi = (((size_t)co * Cg + c) * kh + ky) * kw + kx;
                size_t xi = (((size_t)n * Cin + ci) * H + iy) * W + ix;
                if (dx) dx[xi] += w[wi] * g;
                if (dw) dw[wi] += x[xi] * g;
              }
          }
        }
}
