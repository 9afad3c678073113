/* Direct convolution for the stride-1 k x k convs with few output channels
 * (the heads, the neck, the ARM convs of the early stages), where im2col +
 * sgemm is bound by writing and packing a col k*k times the input's size:
 * the input is copied once per band of output rows into a zero-padded
 * buffer (~0.75 MB, stays in L2), and the kernel keeps an output tile in
 * registers across every input channel and tap: 8 channels x 48 pixels with
 * AVX-512 (picked at run time, for more than 4 output channels), else
 * 4 x 24 with AVX2+FMA. On a pool, each thread of the forward copies and
 * computes whole bands in a padded buffer of its own
 * (hy_conv_band_threads, conv.h).
 *
 * Pixels are walked in the padded buffer's row-major order (rows of
 * Wo + dil*(k-1)), so a tile runs on across row ends; the few pixels that
 * fall in the padding columns are computed and dropped. Each output element
 * is a sum in the fixed order (ci, ky, kx): the result does not depend on
 * the pool's thread count (nor on the instruction set). dw is the same
 * walk turned around: a tile of 8 (AVX-512) or 4 channels x 3 taps of dw
 * sums dy (copied to the padded row width, zero in the padding columns)
 * times the shifted input over each band's pixels, chunk by chunk so that
 * a chunk stays in L1 across the task's taps.
 * Used by hy_conv_forward and for dx and dw in hy_conv_backward (conv.h)
 * when hy_conv_direct_fits() says so. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* 1: this CPU has AVX2 and FMA, the conv is stride 1, kh == kw, groups 1,
 * and its shape is one the kernel beats im2col + sgemm on. */
int hy_conv_direct_fits(int Cin, int Cout, int k, int stride, int groups);

/* Tests and tuning: 1 runs the AVX2 kernels on a CPU with AVX-512 too, 0
 * picks by CPU again. Process-global; set it before sizing scratch. */
void hy_conv_direct_set_avx2(int on);

/* Floats of scratch (repacked filter, padded input bands, padded dy band)
 * for either call below on a pool of at most `threads` threads; 0 if the
 * conv does not fit. */
size_t hy_conv_direct_scratch(int Cin, int H, int W, int Cout, int k, int pad, int dil,
                              int threads);

/* y = b + conv(x, w), with relu max(0, .) (accumulate 0), or y += conv(x, w)
 * (accumulate 1, b and relu ignored), one image, stride 1, padding pad on
 * both axes. */
void hy_conv_direct_forward(float *y,       /* [Cout][Ho][Wo] */
                            const float *x, /* [Cin][H][W] */
                            const float *w, /* [Cout][Cin][k][k] */
                            const float *b, /* [Cout] or NULL */
                            int Cin, int H, int W, int Cout, int k, int pad,
                            int dil, int accumulate, int relu, float *scratch, hy_pool *pool);

/* dw += the filter gradient of that conv, one image. */
void hy_conv_direct_dw(float *dw,       /* [Cout][Cin][k][k] */
                       const float *dy, /* [Cout][Ho][Wo] */
                       const float *x,  /* [Cin][H][W] */
                       int Cin, int H, int W, int Cout, int k, int pad, int dil,
                       float *scratch, hy_pool *pool);
