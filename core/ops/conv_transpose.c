#include "conv_transpose.h"

#include <cblas.h>
#include <string.h>

#include "activation.h"
#include "conv.h"
#include "conv_winograd.h"

int hy_conv_transpose_out_size(int in, int k, int stride, int pad) {
  return (in - 1) * stride - 2 * pad + k;
}

/* Bands run over x's rows; a band's col holds Cout*kh*kw rows of W pixels. */
static int band_rows(int Cout, int kh, int kw, int H, int W) {
  return hy_conv_band_rows((size_t)Cout * kh * kw * W, H);
}

/* The 4x4, stride 2, padding 1 upsampler (HYATT-Net's head 2) splits into
 * four 2x2 stride-1 convs of x, one per output phase (a, b) = (oy % 2,
 * ox % 2): output (2i + a, 2j + b) only sees taps ky = 3 - a - 2ty,
 * kx = 3 - b - 2tx (ty, tx in {0, 1}) of input rows i - 1 + a + ty and
 * columns j - 1 + b + tx. Each phase is then hy_conv_forward with padding 1
 * (its output z[i + a][j + b] is y's pixel), which takes the direct kernel
 * where it fits; backward is hy_conv_backward of the same four convs. No
 * col of Cout*16 rows to write and scatter back. */
static int by_phases(int kh, int kw, int stride, int ph, int pw) {
  return kh == 4 && kw == 4 && stride == 2 && ph == 1 && pw == 1;
}

/* Scratch of the phase path: wp [4][Cout][Cin][2][2] | z [Cout][H+1][W+1] |
 * dwp [Cout][Cin][2][2] | the 2x2 conv's own scratch. */
typedef struct {
  float *wp, *z, *dwp, *conv;
} phase_parts;

static size_t al16(size_t n) { return (n + 15) / 16 * 16; }

/* Floats before the 2x2 conv's scratch. */
static size_t phase_head(int Cin, int H, int W, int Cout) {
  size_t w = (size_t)Cout * Cin * 4;
  return al16(4 * w) + al16((size_t)Cout * (H + 1) * (W + 1)) + al16(w);
}

static phase_parts phase_layout(float *base, int Cin, int H, int W, int Cout) {
  phase_parts p;
  size_t w = (size_t)Cout * Cin * 4;
  p.wp = base;
  p.z = p.wp + al16(4 * w);
  p.dwp = p.z + al16((size_t)Cout * (H + 1) * (W + 1));
  p.conv = base + phase_head(Cin, H, W, Cout);
  return p;
}

/* The four phases' 2x2 taps all lie in x's 3x3 neighbourhood of (i, j):
 * the forward is also one 3x3 conv (padding 1) of x with 4*Cout outputs,
 * q[ph * Cout + co], zero where a phase has no tap; y[co][2i + a][2j + b] =
 * q[ph][co][i][j], which hy_conv_winograd_phases_forward stores there
 * directly. With Winograd that is 2.25 Cin multiplications per output
 * instead of 4 Cin. Scratch: w3 [4 Cout][Cin][3][3] | the 3x3 conv's own
 * scratch. */
static int by_winograd(int Cin, int H, int W, int Cout) {
  return hy_conv_winograd_fits(Cin, 4 * Cout, 3, 1, 1, 1, H, W);
}

static size_t wino_head(int Cout, int Cin) { return al16((size_t)36 * Cout * Cin); }

/* wp[ph][co][ci][ty][tx] = w[ci][co][3 - a - 2ty][3 - b - 2tx], ph = 2a + b */
static void phase_weights(float *wp, const float *w, int Cin, int Cout) {
  for (int ph = 0; ph < 4; ph++)
    for (int co = 0; co < Cout; co++)
      for (int ci = 0; ci < Cin; ci++)
        for (int t = 0; t < 4; t++) {
          int ky = 3 - ph / 2 - 2 * (t / 2), kx = 3 - ph % 2 - 2 * (t % 2);
          *wp++ = w[(((size_t)ci * Cout + co) * 4 + ky) * 4 + kx];
        }
}

typedef struct {
  float *y, *z;
  const float *cy, *cz, *b;
  int H, W, a, bx;
} phase_job;

/* y[co][2i + a][2j + b] = z[co][i + a][j + b] + bias */
static void scatter_task(void *p, int co, int thread) {
  const phase_job *j = p;
  int W1 = j->W + 1, Wo = 2 * j->W;
  float bias = j->b ? j->b[co] : 0.0f;
  const float *z = j->cz + (size_t)co * (j->H + 1) * W1;
  float *y = j->y + (size_t)co * 4 * j->H * j->W;
  for (int i = 0; i < j->H; i++) {
    const float *zr = z + (size_t)(i + j->a) * W1 + j->bx;
    float *yr = y + (size_t)(2 * i + j->a) * Wo + j->bx;
    for (int jx = 0; jx < j->W; jx++) yr[2 * jx] = zr[jx] + bias;
  }
}

/* dz[co][i + a][j + b] = dy[co][2i + a][2j + b], zero in the other row and column */
static void gather_task(void *p, int co, int thread) {
  const phase_job *j = p;
  int W1 = j->W + 1, Wo = 2 * j->W;
  float *z = j->z + (size_t)co * (j->H + 1) * W1;
  const float *dy = j->cy + (size_t)co * 4 * j->H * j->W;
  memset(z, 0, sizeof(float) * (size_t)(j->H + 1) * W1);
  for (int i = 0; i < j->H; i++) {
    float *zr = z + (size_t)(i + j->a) * W1 + j->bx;
    const float *dr = dy + (size_t)(2 * i + j->a) * Wo + j->bx;
    for (int jx = 0; jx < j->W; jx++) zr[jx] = dr[2 * jx];
  }
}

size_t hy_conv_transpose_scratch(int Cin, int H, int W, int Cout, int kh,
                                 int kw, int stride, int ph, int pw, int threads) {
  size_t n = (size_t)Cout * kh * kw * band_rows(Cout, kh, kw, H, W) * W;
  if (by_phases(kh, kw, stride, ph, pw)) {
    size_t t = phase_head(Cin, H, W, Cout) + hy_conv_scratch(Cin, H, W, Cout, 2, 2, 1, 1, 1, 1, 1, threads);
    if (t > n) n = t;
  }
  if (by_phases(kh, kw, stride, ph, pw) && by_winograd(Cin, H, W, Cout)) {
    size_t t = wino_head(Cout, Cin) + hy_conv_winograd_scratch(Cin, H, W, 4 * Cout, 1, threads);
    if (t > n) n = t;
  }
  return n;
}


/* w3[ph][co][ci]: tap (a + ty, b + tx) of the 3x3 (offsets a - 1 + ty,
 * b - 1 + tx) is w[ci][co][3 - a - 2ty][3 - b - 2tx], ph = 2a + b; the
 * others zero. */
static void wino_weights(float *w3, const float *w, int Cin, int Cout) {
  memset(w3, 0, sizeof(float) * 36 * (size_t)Cout * Cin);
  for (int ph = 0; ph < 4; ph++)
    for (int co = 0; co < Cout; co++)
      for (int ci = 0; ci < Cin; ci++)
        for (int t = 0; t < 4; t++) {
          int a = ph / 2, bb = ph % 2, ty = t / 2, tx = t % 2;
          float *k = w3 + (((size_t)ph * Cout + co) * Cin + ci) * 9;
          k[(a + ty) * 3 + bb + tx] = w[(((size_t)ci * Cout + co) * 4 + 3 - a - 2 * ty) * 4 + 3 - bb - 2 * tx];
        }
}

static void forward_winograd(float *y, const float *x, const float *w, const float *b, int N,
                             int Cin, int H, int W, int Cout, int relu, float *scratch,
                             hy_pool *pool) {
  float *w3 = scratch, *conv = scratch + wino_head(Cout, Cin);
  wino_weights(w3, w, Cin, Cout);
  for (int n = 0; n < N; n++)
    hy_conv_winograd_phases_forward(y + (size_t)n * Cout * 4 * H * W, x + (size_t)n * Cin * H * W,
                                    w3, b, Cin, H, W, Cout, relu, conv, pool);
}

static void forward_phases(float *y, const float *x, const float *w, const float *b, int N,
                           int Cin, int H, int W, int Cout, float *scratch, hy_pool *pool) {
  phase_parts s = phase_layout(scratch, Cin, H, W, Cout);
  phase_weights(s.wp, w, Cin, Cout);
  size_t wsz = (size_t)Cout * Cin * 4;
  for (int n = 0; n < N; n++)
    for (int ph = 0; ph < 4; ph++) {
      hy_conv_forward(s.z, x + (size_t)n * Cin * H * W, s.wp + ph * wsz, NULL, 1, Cin, H, W, Cout,
                      2, 2, 1, 1, 1, 1, 1, s.conv, pool);
      phase_job j = {.y = y + (size_t)n * Cout * 4 * H * W, .cz = s.z, .b = b, .H = H, .W = W,
                     .a = ph / 2, .bx = ph % 2};
      hy_pool_run(pool, Cout, scatter_task, &j);
    }
}

static void backward_phases(float *dx, float *dw, const float *dy, const float *x,
                            const float *w, int N, int Cin, int H, int W, int Cout,
                            float *scratch, hy_pool *pool) {
  phase_parts s = phase_layout(scratch, Cin, H, W, Cout);
  phase_weights(s.wp, w, Cin, Cout);
  size_t wsz = (size_t)Cout * Cin * 4;
  for (int ph = 0; ph < 4; ph++) {
    if (dw) memset(s.dwp, 0, wsz * sizeof *s.dwp);
    for (int n = 0; n < N; n++) {
      phase_job j = {.z = s.z, .cy = dy + (size_t)n * Cout * 4 * H * W, .H = H, .W = W,
                     .a = ph / 2, .bx = ph % 2};
      hy_pool_run(pool, Cout, gather_task, &j);
      hy_conv_backward(dx ? dx + (size_t)n * Cin * H * W : NULL, dw ? s.dwp : NULL, NULL, s.z,
                       x + (size_t)n * Cin * H * W, s.wp + ph * wsz, 1, Cin, H, W, Cout, 2, 2, 1,
                       1, 1, 1, 1, s.conv, pool);
    }
    if (!dw) continue;
    const float *g = s.dwp;
    for (int co = 0; co < Cout; co++)
      for (int ci = 0; ci < Cin; ci++)
        for (int t = 0; t < 4; t++) {
          int ky = 3 - ph / 2 - 2 * (t / 2), kx = 3 - ph % 2 - 2 * (t % 2);
          dw[(((size_t)ci * Cout + co) * 4 + ky) * 4 + kx] += *g++;
        }
  }
}

double hy_conv_transpose_flops(int N, int Cin, int H, int W, int Cout, int kh,
                               int kw) {
  return 2.0 * N * Cin * Cout * kh * kw * H * W;
}

/* relu: the Winograd path clamps in its stores; the others get a ReLU
 * pass of their own. */
static void convt_forward(float *y, const float *x, const float *w, const float *b, int N,
                          int Cin, int H, int W, int Cout, int kh, int kw, int stride, int ph,
                          int pw, int relu, float *scratch, hy_pool *pool) {
  int Ho = hy_conv_transpose_out_size(H, kh, stride, ph);
  int Wo = hy_conv_transpose_out_size(W, kw, stride, pw);
  if (by_phases(kh, kw, stride, ph, pw) && by_winograd(Cin, H, W, Cout)) {
    forward_winograd(y, x, w, b, N, Cin, H, W, Cout, relu, scratch, pool);
    return;
  }
  if (relu) {
    convt_forward(y, x, w, b, N, Cin, H, W, Cout, kh, kw, stride, ph, pw, 0, scratch, pool);
    hy_relu_forward(y, y, N * Cout * Ho * Wo, pool);
    return;
  }
  if (by_phases(kh, kw, stride, ph, pw)) {
    forward_phases(y, x, w, b, N, Cin, H, W, Cout, scratch, pool);
    return;
  }
  int M = Cout * kh * kw, rows = band_rows(Cout, kh, kw, H, W);
  size_t in = (size_t)H * W, out = (size_t)Ho * Wo;
  for (int n = 0; n < N; n++) {
    float *yn = y + (size_t)n * Cout * out;
    for (int c = 0; c < Cout; c++) {
      float v = b ? b[c] : 0.0f;
      for (size_t i = 0; i < out; i++) yn[c * out + i] = v;
    }
    for (int r0 = 0; r0 < H; r0 += rows) {
      int r1 = r0 + rows < H ? r0 + rows : H, npix = (r1 - r0) * W;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, npix, Cin, 1.0f,
                  w, M, x + (size_t)n * Cin * in + (size_t)r0 * W, (int)in, 0.0f,
                  scratch, npix);
      hy_conv_col2im(yn, scratch, Cout, Ho, Wo, H, W, kh, kw, stride, ph, pw, 1,
                     r0, r1, pool);
    }
  }
}

void hy_conv_transpose_forward(float *y, const float *x, const float *w, const float *b, int N,
                               int Cin, int H, int W, int Cout, int kh, int kw, int stride,
                               int ph, int pw, float *scratch, hy_pool *pool) {
  convt_forward(y, x, w, b, N, Cin, H, W, Cout, kh, kw, stride, ph, pw, 0, scratch, pool);
}

void hy_conv_transpose_relu_forward(float *y, const float *x, const float *w, const float *b,
                                    int N, int Cin, int H, int W, int Cout, int kh, int kw,
                                    int stride, int ph, int pw, float *scratch, hy_pool *pool) {
  convt_forward(y, x, w, b, N, Cin, H, W, Cout, kh, kw, stride, ph, pw, 1, scratch, pool);
}

void hy_conv_transpose_backward(float *dx, float *dw, float *db,
                                const float *dy, const float *x, const float *w,
                                int N, int Cin, int H, int W, int Cout, int kh,
                                int kw, int stride, int ph, int pw,
                                float *scratch, hy_pool *pool) {
  int Ho = hy_conv_transpose_out_size(H, kh, stride, ph);
  int Wo = hy_conv_transpose_out_size(W, kw, stride, pw);
  int M = Cout * kh * kw, rows = band_rows(Cout, kh, kw, H, W);
  size_t in = (size_t)H * W, out = (size_t)Ho * Wo;
  if (db)
    for (int c = 0; c < Cout; c++) {
      double s = 0;
      for (int n = 0; n < N; n++) {
        const float *p = dy + ((size_t)n * Cout + c) * out;
        float acc[8] = {0};
        size_t i = 0;
        for (; i + 8 <= out; i += 8)
          for (int l = 0; l < 8; l++) acc[l] += p[i + l];
        for (; i < out; i++) s += p[i];
        for (int l = 0; l < 8; l++) s += acc[l];
      }
      db[c] += (float)s;
    }
  if (!dx && !dw) return;
  if (by_phases(kh, kw, stride, ph, pw)) {
    backward_phases(dx, dw, dy, x, w, N, Cin, H, W, Cout, scratch, pool);
    return;
  }
  for (int n = 0; n < N; n++)
    for (int r0 = 0; r0 < H; r0 += rows) {
      int r1 = r0 + rows < H ? r0 + rows : H, npix = (r1 - r0) * W;
      size_t at = (size_t)n * Cin * in + (size_t)r0 * W;
      hy_conv_im2col(scratch, dy + (size_t)n * Cout * out, Cout, Ho, Wo, H, W,
                     kh, kw, stride, ph, pw, 1, r0, r1, pool);
      if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cin, npix, M,
                    1.0f, w, M, scratch, npix, 1.0f, dx + at, (int)in);
      if (dw)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cin, M, npix, 1.0f,
                    x + at, (int)in, scratch, npix, 1.0f, dw, M);
    }
}

void hy_conv_transpose_forward_naive(float *y, const float *x, const float *w,
                                     const float *b, int N, int Cin, int H,
                                     int W, int Cout, int kh, int kw,
                                     int stride, int ph, int pw) {
  int Ho = hy_conv_transpose_out_size(H, kh, stride, ph);
  int Wo = hy_conv_transpose_out_size(W, kw, stride, pw);
  for (int n = 0; n < N; n++)
    for (int co = 0; co < Cout; co++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          double s = b ? b[co] : 0.0;
          for (int ci = 0; ci < Cin; ci++)
            for (int ky = 0; ky < kh; ky++)
              for (int kx = 0; kx < kw; kx++) {
                int ty = oy + ph - ky, tx = ox + pw - kx;
                if (ty < 0 || tx < 0 || ty % stride || tx % stride) continue;
                int iy = ty / stride, ix = tx / stride;
                if (iy >= H || ix >= W) continue;
                s += (double)x[(((size_t)n * Cin + ci) * H + iy) * W + ix] *
                     w[(((size_t)ci * Cout + co) * kh + ky) * kw + kx];
              }
          y[(((size_t)n * Cout + co) * Ho + oy) * Wo + ox] = (float)s;
        }
}

void hy_conv_transpose_backward_naive(float *dx, float *dw, float *db,
                                      const float *dy, const float *x,
                                      const float *w, int N, int Cin, int H,
                                      int W, int Cout, int kh, int kw,
                                      int stride, int ph, int pw) {
  int Ho = hy_conv_transpose_out_size(H, kh, stride, ph);
  int Wo = hy_conv_transpose_out_size(W, kw, stride, pw);
  for (int n = 0; n < N; n++)
    for (int ci = 0; ci < Cin; ci++)
      for (int iy = 0; iy < H; iy++)
        for (int ix = 0; ix < W; ix++) {
          size_t xi = (((size_t)n * Cin + ci) * H + iy) * W + ix;
          double gx = 0;
          for (int co = 0; co < Cout; co++)
            for (int ky = 0; ky < kh; ky++)
              for (int kx = 0; kx < kw; kx++) {
                int oy = iy * stride - ph + ky, ox = ix * stride - pw + kx;
                if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
                float g = dy[(((size_t)n * Cout + co) * Ho + oy) * Wo + ox];
                size_t wi = (((size_t)ci * Cout + co) * kh + ky) * kw + kx;
                gx += (double)w[wi] * g;
                if (dw) dw[wi] += x[xi] * g;
              }
          if (dx) dx[xi] += (float)gx;
        }
  if (db)
    for (int n = 0; n < N; n++)
      for (int co = 0; co < Cout; co++)
        for (size_t i = 0; i < (size_t)Ho * Wo; i++)
          db[co] += dy[((size_t)n * Cout + co) * Ho * Wo + i];
}
