/* 2-D convolution, NCHW, PyTorch's nn.Conv2d semantics (cross-correlation,
 * zero padding): any kernel kh x kw, one stride and one dilation for both
 * axes, symmetric padding ph (rows) and pw (columns), groups, optional bias.
 *
 *   y[n][co][oy][ox] = b[co] + sum over ci in co's group, ky, kx of
 *     w[co][ci - g*Cin/groups][ky][kx] * x[n][ci][oy*s - ph + ky*d][ox*s - pw + kx*d]
 *
 * Strategy by shape (c-dl-anchors §6.1-6.4):
 *   groups == Cin == Cout, kh == kw, dilation 1, ph == pw -> hy_dwconv (direct);
 *   1x1, stride 1, padding 0 -> one sgemm per image and group on x as it is;
 *   stride 1, square kernel, groups 1, few output channels, AVX2+FMA ->
 *     hy_conv_direct (conv_direct.h), forward, dx and dw;
 *   4x4 stride 2 padding 1 on even sizes (the patch embeddings) -> a 2x2
 *     stride-1 conv over the input's four row/column parities, on the same;
 *   otherwise -> im2col in bands of output rows + sgemm, band col tile ~0.75 MB:
 *     forward y = w . col; dw += dy . col^T; dx: with stride 1 and padding
 *     <= dil*(k-1) (every "same" conv) as the forward conv of dy with the
 *     flipped, transposed filter (written straight into dx), otherwise
 *     dcol = w^T . dy then col2im (+=).
 * The sgemms run on OpenBLAS's threads (the caller sets their count); im2col
 * and col2im run on `pool`, split by input channel, never while an sgemm
 * runs. Results do not depend on the pool's thread count.
 *
 * Constraints (not checked at run time; the planner checks them once):
 * all dims >= 1, ph, pw >= 0, Cin and Cout divisible by groups, and
 * Hout = hy_conv_out_size(H, kh, stride, ph, dil) >= 1 (same for W).
 * Nothing is saved for backward: it recomputes im2col from x. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* floor((in + 2*pad - dil*(k - 1) - 1) / stride) + 1, PyTorch's formula. */
int hy_conv_out_size(int in, int k, int stride, int pad, int dil);

/* Floats of scratch needed by forward and backward (0 for the depthwise and
 * 1x1 paths) on a pool of at most `threads` threads. */
size_t hy_conv_scratch(int Cin, int H, int W, int Cout, int kh, int kw,
                       int stride, int ph, int pw, int dil, int groups, int threads);

/* Multiply-adds x 2 of one forward pass (backward costs about twice that). */
double hy_conv_flops(int N, int Cin, int H, int W, int Cout, int kh, int kw,
                     int stride, int ph, int pw, int dil, int groups);

void hy_conv_forward(float *y,       /* [N][Cout][Hout][Wout] */
                     const float *x, /* [N][Cin][H][W] */
                     const float *w, /* [Cout][Cin/groups][kh][kw] */
                     const float *b, /* [Cout] or NULL */
                     int N, int Cin, int H, int W, int Cout, int kh, int kw,
                     int stride, int ph, int pw, int dil, int groups,
                     float *scratch, hy_pool *pool);

/* The same followed by ReLU, y = max(0, b + conv(x, w)): fused into the
 * conv's last pass where its algorithm has one (Winograd, direct, small GEMM). */
void hy_conv_relu_forward(float *y, const float *x, const float *w, const float *b, int N,
                          int Cin, int H, int W, int Cout, int kh, int kw, int stride, int ph,
                          int pw, int dil, int groups, float *scratch, hy_pool *pool);

/* Accumulates into dx, dw, db; any of them may be NULL. */
void hy_conv_backward(float *dx,       /* [N][Cin][H][W] */
                      float *dw,       /* [Cout][Cin/groups][kh][kw] */
                      float *db,       /* [Cout] */
                      const float *dy, /* [N][Cout][Hout][Wout] */
                      const float *x,  /* [N][Cin][H][W] */
                      const float *w,  /* [Cout][Cin/groups][kh][kw] */
                      int N, int Cin, int H, int W, int Cout, int kh, int kw,
                      int stride, int ph, int pw, int dil, int groups,
                      float *scratch, hy_pool *pool);

/* Plain loops, the specification; same arguments without scratch and pool. */
void hy_conv_forward_naive(float *y, const float *x, const float *w,
                           const float *b, int N, int Cin, int H, int W,
                           int Cout, int kh, int kw, int stride, int ph, int pw,
                           int dil, int groups);
void hy_conv_backward_naive(float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w, int N, int Cin,
                            int H, int W, int Cout, int kh, int kw, int stride,
                            int ph, int pw, int dil, int groups);

/* Tuning and tests: the col tile the dense path aims for, in floats
 * (0 restores the default). Process-global; set it before sizing scratch. */
void hy_conv_set_band_floats(size_t n);

/* Output rows per band for a col tile of `rows_k` floats per output row
 * (K x Wout), at least 1, at most Hout. */
int hy_conv_band_rows(size_t rows_k, int Hout);

/* Threads of a pool of `threads` that each run whole bands of the direct
 * and Winograd kernels (a band's transformed or padded input then stays in
 * the L2 of the core that wrote it, and no thread waits for the other
 * twice a band): all of them when there are at least two rows (output or
 * tile rows) a thread, else 1 (the threads share each band). */
int hy_conv_band_threads(int rows, int threads);

/* The building blocks, shared with conv_transpose. Geometry of a conv from
 * an image [C][H][W] to [Hout][Wout]; a band is output rows [r0, r1).
 * im2col writes col[C*kh*kw][(r1 - r0)*Wout] (zeros where the window
 * leaves the image); col2im adds col back into img. Split over channels on
 * pool. */
void hy_conv_im2col(float *col, const float *img, int C, int H, int W,
                    int Hout, int Wout, int kh, int kw, int stride, int ph,
                    int pw, int dil, int r0, int r1, hy_pool *pool);
void hy_conv_col2im(float *img, const float *col, int C, int H, int W,
                    int Hout, int Wout, int kh, int kw, int stride, int ph,
                    int pw, int dil, int r0, int r1, hy_pool *pool);
