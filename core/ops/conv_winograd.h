/* Winograd F(4x4, 3x3) for the stride-1, undilated 3x3 convolutions
 * (Lavin & Gray 2016): each 4x4 output tile is A^T [(G g G^T) . (B^T d B)] A
 * of a 6x6 input tile, 36 multiplications per tile and channel pair where
 * the direct conv does 144. The heads, the neck and the ARM convs of the
 * early stages are these convs; the network's time was mostly theirs.
 *
 * Per band of tile rows: each input channel's padded rows are split by
 * column phase (x mod 4, so that 8 horizontally adjacent tiles are whole
 * vectors) and transformed into V[block][xi][c][BLK] (a block is 3 vectors
 * of 8 tiles with AVX2, 4 with AVX-512); then each (block, CO output
 * channels) task runs the 36 Cin-long products with the transformed filter
 * in registers (CO = 4 in ymm, 8 in zmm), as the direct kernel does, and
 * transforms the 4x4 tiles back into y. On a pool each thread runs whole
 * bands in its own part of the scratch (hy_conv_band_threads, conv.h); too
 * few bands, and the threads share each band's channels and blocks. The
 * two widths round differently in no step: they give the same numbers.
 * The transforms add rounding of about ten times a float's epsilon of the
 * inputs' size: far inside the tests' tolerances. Each output element is
 * computed in a fixed order: results do not depend on the thread count.
 * Used by hy_conv_forward and for dx in hy_conv_backward (conv.h) when
 * hy_conv_winograd_fits() says so. */
#pragma once

#include <stddef.h>

#include "pool.h"

/* 1: this CPU has AVX2 and FMA, the conv is 3x3, stride 1, undilated,
 * groups 1, and its shape is one where the transforms pay. */
int hy_conv_winograd_fits(int Cin, int Cout, int k, int stride, int dil, int groups, int Ho,
                          int Wo);

/* Tests and tuning: 1 runs the AVX2 kernels on a CPU with AVX-512 too, 0
 * picks by CPU again. Process-global; set it before sizing scratch. */
void hy_conv_winograd_set_avx2(int on);

/* Floats of scratch for hy_conv_winograd_forward at that shape; 0 if the
 * conv does not fit. */
size_t hy_conv_winograd_scratch(int Cin, int H, int W, int Cout, int pad, int threads);

/* y = b + conv(x, w) (accumulate 0) or y += conv(x, w) (accumulate 1, b
 * ignored), one image, 3x3, stride 1, padding pad on both axes. relu 1
 * (with accumulate 0) clamps y at 0: the ReLU after a conv without a pass
 * of its own. */
void hy_conv_winograd_forward(float *y,       /* [Cout][Ho][Wo] */
                              const float *x, /* [Cin][H][W] */
                              const float *w, /* [Cout][Cin][3][3] */
                              const float *b, /* [Cout] or NULL */
                              int Cin, int H, int W, int Cout, int pad, int accumulate,
                              int relu, float *scratch, hy_pool *pool);

/* The 4x4, stride 2, padding 1 transposed conv (conv_transpose.c) as this
 * 3x3 conv (padding 1) of x with 4 Cout outputs, w [4 Cout][Cin][3][3]:
 * output channel ph * Cout + co, ph = 2a + b, lands in its phase of y,
 * y[co][2i + a][2j + b] = b[co] + conv(x, w)[ph * Cout + co][i][j] (ReLU'd
 * with relu), with no map of 4 Cout channels in between. Scratch:
 * hy_conv_winograd_scratch(Cin, H, W, 4 * Cout, 1, threads). */
void hy_conv_winograd_phases_forward(float *y,       /* [Cout][2H][2W] */
                                     const float *x, /* [Cin][H][W] */
                                     const float *w, /* [4 Cout][Cin][3][3] */
                                     const float *b, /* [Cout] or NULL */
                                     int Cin, int H, int W, int Cout, int relu, float *scratch,
                                     hy_pool *pool);
