/* Linear layer over tokens (PyTorch nn.Linear on channels-last data):
 *   y[t][o] = sum_i x[t][i] * w[o][i] + b[o]
 * W keeps PyTorch's layout [Cout][Cin]; the bias is optional (NULL).
 *
 * Both directions run on OpenBLAS (cblas_sgemm, threaded as set by
 * hy_blas_set_threads): never call them from inside a hy_pool task unless
 * BLAS is set to 1 thread for that phase. The exception: on AVX-512 CPUs a
 * forward with Cin <= 128 and Cin * Cout <= 16384 runs hy_gemm_small on the
 * calling thread (at such K, sgemm's packing costs more than the products). Nothing is saved for backward
 * beyond the input x itself. Constraints: T, Cin, Cout >= 1; no aliasing
 * between outputs and inputs. */
#pragma once

void hy_linear_forward(float *y,       /* [T][Cout] */
                       const float *x, /* [T][Cin] */
                       const float *w, /* [Cout][Cin] */
                       const float *b, /* [Cout] or NULL */
                       int T, int Cin, int Cout);

/* dx += dy * W, dw += dy^T * x, db += sum over t of dy; any of dx, dw, db
 * may be NULL. */
void hy_linear_backward(float *dx,       /* [T][Cin] or NULL */
                        float *dw,       /* [Cout][Cin] or NULL */
                        float *db,       /* [Cout] or NULL */
                        const float *dy, /* [T][Cout] */
                        const float *x,  /* [T][Cin] */
                        const float *w,  /* [Cout][Cin] */
                        int T, int Cin, int Cout);

/* Plain loops (double accumulation): the specification, used by tests. */
void hy_linear_forward_naive(float *y, const float *x, const float *w,
                             const float *b, int T, int Cin, int Cout);
void hy_linear_backward_naive(float *dx, float *dw, float *db, const float *dy,
                              const float *x, const float *w, int T, int Cin,
                              int Cout);
