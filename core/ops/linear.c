#include "linear.h"

#include <cblas.h>
#include <stddef.h>
#include <string.h>

#include "gemm_small.h"

/* the small-K kernel's transposed weights, on the stack: 64 KB */
#define WT_FLOATS 16384
/* rows copied at once from the rows already filled: 16 KB, read from L1 */
#define FILL_FLOATS 4096

/* y[t][o] = b[o]: memcpy of ever more filled rows. A per-row loop over short
 * rows (Cout = 24 in the attention's qkv) ran at a tenth of that. */
static void fill_rows(float *y, const float *b, int T, int Cout) {
  size_t row = (size_t)Cout, cap = FILL_FLOATS / row > 0 ? FILL_FLOATS / row : 1;
  memcpy(y, b, row * sizeof *y);
  for (size_t done = 1; done < (size_t)T;) {
    size_t n = done < cap ? done : cap;
    if (n > (size_t)T - done) n = (size_t)T - done;
    memcpy(y + done * row, y, n * row * sizeof *y);
    done += n;
  }
}

void hy_linear_forward(float *y, const float *x, const float *w, const float *b,
                       int T, int Cin, int Cout) {
  if (hy_gemm_small_fits(Cin) && (size_t)Cin * Cout <= WT_FLOATS) {
    float wt[WT_FLOATS]; /* [Cin][Cout]: the kernel's B, rows of output channels */
    for (int o = 0; o < Cout; o++)
      for (int i = 0; i < Cin; i++) wt[(size_t)i * Cout + o] = w[(size_t)o * Cin + i];
    hy_gemm_small(y, Cout, x, Cin, wt, Cout, T, Cout, Cin, NULL, b, 0, NULL);
    return;
  }
  float beta = 0.0f;
  if (b && T > 0) {
    fill_rows(y, b, T, Cout);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, Cout, Cin, 1.0f, x,
              Cin, w, Cin, beta, y, Cout);
}

void hy_linear_backward(float *dx, float *dw, float *db, const float *dy,
                        const float *x, const float *w, int T, int Cin,
                        int Cout) {
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, Cin, Cout, 1.0f,
                dy, Cout, w, Cin, 1.0f, dx, Cin);
  if (dw)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Cout, Cin, T, 1.0f,
                dy, Cout, x, Cin, 1.0f, dw, Cin);
  if (db)
    for (int t = 0; t < T; t++) {
      const float *dyt = dy + (size_t)t * Cout;
      for (int o = 0; o < Cout; o++) db[o] += dyt[o];
    }
}

void hy_linear_forward_naive(float *y, const float *x, const float *w,
                             const float *b, int T, int Cin, int Cout) {
  for (int t = 0; t < T; t++)
    for (int o = 0; o < Cout; o++) {
      double s = b ? b[o] : 0.0;
      for (int i = 0; i < Cin; i++)
        s += (double)x[(size_t)t * Cin + i] * w[(size_t)o * Cin + i];
      y[(size_t)t * Cout + o] = (float)s;
    }
}

void hy_linear_backward_naive(float *dx, float *dw, float *db, const float *dy,
                              const float *x, const float *w, int T, int Cin,
                              int Cout) {
  if (dx)
    for (int t = 0; t < T; t++)
      for (int i = 0; i < Cin; i++) {
        double s = 0;
        for (int o = 0; o < Cout; o++)
          s += (double)dy[(size_t)t * Cout + o] * w[(size_t)o * Cin + i];
        dx[(size_t)t * Cin + i] += (float)s;
      }
  if (dw)
    for (int o = 0; o < Cout; o++)
      for (int i = 0; i < Cin; i++) {
        double s = 0;
        for (int t = 0; t < T; t++)
          s += (double)dy[(size_t)t * Cout + o] * x[(size_t)t * Cin + i];
        dw[(size_t)o * Cin + i] += (float)s;
      }
  if (db)
    for (int o = 0; o < Cout; o++) {
      double s = 0;
      for (int t = 0; t < T; t++) s += dy[(size_t)t * Cout + o];
      db[o] += (float)s;
    }
}
