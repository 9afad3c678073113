/* Transposed 2-D convolution, NCHW, PyTorch's nn.ConvTranspose2d with
 * groups 1, dilation 1, output_padding 0 and an optional bias. The weight
 * keeps PyTorch's layout [Cin][Cout][kh][kw].
 *
 *   y[n][co][iy*s - ph + ky][ix*s - pw + kx] += x[n][ci][iy][ix] * w[ci][co][ky][kx]
 *   (then + b[co]); Hout = (H - 1)*s - 2*ph + kh, Wout likewise.
 *
 * It is the data-gradient of a conv from y's shape to x's shape, so it reuses
 * that conv's im2col/col2im (conv.h): forward col = w^T x (sgemm) then col2im
 * into y; backward dx += w im2col(dy), dw += x im2col(dy)^T, each in bands of
 * x's rows. The 4x4 stride-2 padding-1 upsampler instead runs as four 2x2
 * stride-1 convs, one per output phase (conv_transpose.c). Nothing is saved
 * for backward.
 *
 * Constraints (unchecked): all dims >= 1, ph, pw >= 0, Hout, Wout >= 1. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* (in - 1)*stride - 2*pad + k */
int hy_conv_transpose_out_size(int in, int k, int stride, int pad);

/* On a pool of at most `threads` threads. */
size_t hy_conv_transpose_scratch(int Cin, int H, int W, int Cout, int kh,
                                 int kw, int stride, int ph, int pw, int threads);

double hy_conv_transpose_flops(int N, int Cin, int H, int W, int Cout, int kh,
                               int kw);

void hy_conv_transpose_forward(float *y,       /* [N][Cout][Hout][Wout] */
                               const float *x, /* [N][Cin][H][W] */
                               const float *w, /* [Cin][Cout][kh][kw] */
                               const float *b, /* [Cout] or NULL */
                               int N, int Cin, int H, int W, int Cout, int kh,
                               int kw, int stride, int ph, int pw,
                               float *scratch, hy_pool *pool);

/* The same followed by ReLU, fused into the last pass where the algorithm
 * has one (the 4x4 stride-2 upsampler by Winograd). */
void hy_conv_transpose_relu_forward(float *y, const float *x, const float *w, const float *b,
                                    int N, int Cin, int H, int W, int Cout, int kh, int kw,
                                    int stride, int ph, int pw, float *scratch, hy_pool *pool);

/* Accumulates into dx, dw, db; any of them may be NULL. */
void hy_conv_transpose_backward(float *dx,       /* [N][Cin][H][W] */
                                float *dw,       /* [Cin][Cout][kh][kw] */
                                float *db,       /* [Cout] */
                                const float *dy, /* [N][Cout][Hout][Wout] */
                                const float *x,  /* [N][Cin][H][W] */
                                const float *w,  /* [Cin][Cout][kh][kw] */
                                int N, int Cin, int H, int W, int Cout, int kh,
                                int kw, int stride, int ph, int pw,
                                float *scratch, hy_pool *pool);

void hy_conv_transpose_forward_naive(float *y, const float *x, const float *w,
                                     const float *b, int N, int Cin, int H,
                                     int W, int Cout, int kh, int kw,
                                     int stride, int ph, int pw);
void hy_conv_transpose_backward_naive(float *dx, float *dw, float *db,
                                      const float *dy, const float *x,
                                      const float *w, int N, int Cin, int H,
                                      int W, int Cout, int kh, int kw,
                                      int stride, int ph, int pw);
