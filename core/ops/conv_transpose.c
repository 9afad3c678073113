#include "conv_transpose.h"

#include <cblas.h>

#include "conv.h"

int hy_conv_transpose_out_size(int in, int k, int stride, int pad) {
  return (in - 1) * stride - 2 * pad + k;
}

/* Bands run over x's rows; a band's col holds Cout*kh*kw rows of W pixels. */
static int band_rows(int Cout, int kh, int kw, int H, int W) {
  return hy_conv_band_rows((size_t)Cout * kh * kw * W, H);
}

size_t hy_conv_transpose_scratch(int Cin, int H, int W, int Cout, int kh,
                                 int kw, int stride, int ph, int pw) {
  return (size_t)Cout * kh * kw * band_rows(Cout, kh, kw, H, W) * W;
}

double hy_conv_transpose_flops(int N, int Cin, int H, int W, int Cout, int kh,
                               int kw) {
  return 2.0 * N * Cin * Cout * kh * kw * H * W;
}

void hy_conv_transpose_forward(float *y, const float *x, const float *w,
                               const float *b, int N, int Cin, int H, int W,
                               int Cout, int kh, int kw, int stride, int ph,
                               int pw, float *scratch, hy_pool *pool) {
  int Ho = hy_conv_transpose_out_size(H, kh, stride, ph);
  int Wo = hy_conv_transpose_out_size(W, kw, stride, pw);
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
