/* Direct convolution for the stride-1 k x k convs with few output channels
 * (the heads, the neck, the ARM convs of the early stages), where im2col +
 * sgemm is bound by writing and packing a col k*k times the input's size:
 * the input is copied once per band of output rows into a zero-padded
 * buffer (~0.75 MB, stays in L2), and an AVX2+FMA kernel keeps a 4-channel
 * x 24-pixel output tile in registers across every input channel and tap.
 *
 * Pixels are walked in the padded buffer's row-major order (rows of
 * Wo + dil*(k-1)), so a tile runs on across row ends; the few pixels that
 * fall in the padding columns are computed and dropped. Each output element
 * is a sum in the fixed order (ci, ky, kx): the result does not depend on
 * the pool's thread count. dw is the same walk turned around: a 4-channel x
 * 3-tap tile of dw sums dy (copied to the padded row width, zero in the
 * padding columns) times the shifted input over each band's pixels.
 * Used by hy_conv_forward and for dx and dw in hy_conv_backward (conv.h)
 * when hy_conv_direct_fits() says so. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* 1: this CPU has AVX2 and FMA, the conv is stride 1, kh == kw, groups 1,
 * and its shape is one the kernel beats im2col + sgemm on. */
int hy_conv_direct_fits(int Cin, int Cout, int k, int stride, int groups);

/* Floats of scratch (repacked filter, padded input band, padded dy band)
 * for either call below; 0 if the conv does not fit. */
size_t hy_conv_direct_scratch(int Cin, int H, int W, int Cout, int k, int pad, int dil);

/* y = b + conv(x, w) (accumulate 0) or y += conv(x, w) (accumulate 1, b
 * ignored), one image, stride 1, padding pad on both axes. */
void hy_conv_direct_forward(float *y,       /* [Cout][Ho][Wo] */
                            const float *x, /* [Cin][H][W] */
                            const float *w, /* [Cout][Cin][k][k] */
                            const float *b, /* [Cout] or NULL */
                            int Cin, int H, int W, int Cout, int k, int pad,
                            int dil, int accumulate, float *scratch, hy_pool *pool);

/* dw += the filter gradient of that conv, one image. */
void hy_conv_direct_dw(float *dw,       /* [Cout][Cin][k][k] */
                       const float *dy, /* [Cout][Ho][Wo] */
                       const float *x,  /* [Cin][H][W] */
                       int Cin, int H, int W, int Cout, int k, int pad, int dil,
                       float *scratch, hy_pool *pool);
