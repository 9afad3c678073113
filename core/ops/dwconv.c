#include "dwconv.h"

#include <stddef.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Largest kernel whose flipped filter and weight-gradient lanes backward
 * keeps on the stack; larger ones take plain loops. */
#define MAX_K 15

int hy_dwconv_out_size(int in, int k, int stride, int pad) {
  return (in + 2 * pad - k) / stride + 1;
}

double hy_dwconv_flops(int N, int C, int H, int W, int k, int stride, int pad) {
  return 2.0 * N * C * k * k * hy_dwconv_out_size(H, k, stride, pad) *
         hy_dwconv_out_size(W, k, stride, pad);
}

static int ceil_div(int a, int b) { /* b > 0, any sign of a */
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Output columns [lo, hi) whose whole window lies inside a row of width W;
 * pad may be negative (backward's flipped conv). */
static void interior_cols(int *lo, int *hi, int W, int Wo, int K, int S, int P) {
  *lo = clampi(ceil_div(P, S), 0, Wo);
  int last = W - K + P; /* largest ox*S inside the image */
  *hi = last < 0 ? *lo : clampi(last / S + 1, *lo, Wo);
}

/* Eight and sixteen floats (GCC vector extension: AVX in the avx2 clone,
 * SSE pairs otherwise; one zmm for sixteen in the avx512f clone), and
 * loadN(v, p, S): v = p[0], p[S], ..., p[(N-1)S] (N = 1: one float). */
typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

#define DEFINE_LOAD(name, T, N)                                 \
  ALWAYS_INLINE void name(T *v, const float *p, int S) {        \
    float t[N];                                                 \
    for (int l = 0; l < N; l++) t[l] = p[l * S];                \
    memcpy(v, t, sizeof *v);                                    \
  }
DEFINE_LOAD(load1, float, 1)
DEFINE_LOAD(load8, v8, 8)
DEFINE_LOAD(load16, v16, 16)
#undef DEFINE_LOAD

/* One output pixel with every tap bounds-checked: the peeled edges. */
static float edge_pixel(float acc, const float *x, const float *w, int H, int W,
                        int K, int S, int P, int oy, int ox) {
  for (int ky = 0; ky < K; ky++) {
    int iy = oy * S - P + ky;
    if (iy < 0 || iy >= H) continue;
    for (int kx = 0; kx < K; kx++) {
      int ix = ox * S - P + kx;
      if (ix >= 0 && ix < W) acc += w[ky * K + kx] * x[iy * W + ix];
    }
  }
  return acc;
}

/* Interior columns [i, hi) of output row yr, WIDTH at a time while they
 * last (T: WIDTH floats), each sum in a register over all taps, stored
 * once. bias - 0 is bias exactly, -0 included. */
#define INTERIOR_COLUMNS(T, WIDTH, LOAD)                                                  \
  for (; i + WIDTH <= hi; i += WIDTH) {                                                   \
    T acc, xv;                                                                            \
    if (init)                                                                             \
      acc = bias - (T){0};                                                                \
    else                                                                                  \
      memcpy(&acc, yr + i, sizeof acc);                                                   \
    for (int ky = ky0; ky < ky1; ky++)                                                    \
      for (int kx = 0; kx < K; kx++) {                                                    \
        LOAD(&xv, x + x0 + (ptrdiff_t)ky * W + i * S + kx, S);                            \
        acc += w[ky * K + kx] * xv;                                                       \
      }                                                                                   \
    memcpy(yr + i, &acc, sizeof acc);                                                     \
  }

/* y (+)= depthwise conv of one plane: per output row, vectors of 16, then
 * 8, then single interior columns (K, S compile-time constants); the edge
 * columns peeled. Every sum runs in the order (ky, kx), as edge_pixel's. */
ALWAYS_INLINE void plane_t(float *restrict y, const float *restrict x,
                           const float *restrict w, float bias, int init, int H,
                           int W, int Ho, int Wo, int K, int S, int P) {
  int lo, hi;
  interior_cols(&lo, &hi, W, Wo, K, S, P);
  for (int oy = 0; oy < Ho; oy++) {
    float *restrict yr = y + (size_t)oy * Wo;
    int ky0 = clampi(P - oy * S, 0, K), ky1 = clampi(H + P - oy * S, ky0, K);
    /* x's index of tap (0, 0) of output column 0 (negative at the top) */
    ptrdiff_t x0 = (ptrdiff_t)(oy * S - P) * W - P;
    int i = lo;
    INTERIOR_COLUMNS(v16, 16, load16)
    INTERIOR_COLUMNS(v8, 8, load8)
    INTERIOR_COLUMNS(float, 1, load1)
    for (int ox = 0; ox < lo; ox++)
      yr[ox] = edge_pixel(init ? bias : yr[ox], x, w, H, W, K, S, P, oy, ox);
    for (int ox = hi; ox < Wo; ox++)
      yr[ox] = edge_pixel(init ? bias : yr[ox], x, w, H, W, K, S, P, oy, ox);
  }
}
#undef INTERIOR_COLUMNS

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
plane(float *y, const float *x, const float *w, float bias, int init, int H,
      int W, int Ho, int Wo, int K, int S, int P) {
#define CASE(k, s)                                                   \
  if (K == k && S == s) {                                            \
    plane_t(y, x, w, bias, init, H, W, Ho, Wo, k, s, P);             \
    return;                                                          \
  }
  CASE(3, 1) CASE(5, 1) CASE(7, 1) CASE(3, 2) CASE(5, 2) CASE(7, 2)
#undef CASE
  plane_t(y, x, w, bias, init, H, W, Ho, Wo, K, S, P);
}

typedef struct {
  float *y, *dx, *dw, *db;
  const float *x, *dy, *w, *b;
  int N, C, H, W, Ho, Wo, K, S, P;
} job;

static void forward_task(void *p, int task, int thread) {
  const job *j = p;
  int c = task % j->C;
  size_t in = (size_t)j->H * j->W, out = (size_t)j->Ho * j->Wo;
  plane(j->y + task * out, j->x + task * in, j->w + (size_t)c * j->K * j->K,
        j->b ? j->b[c] : 0.0f, 1, j->H, j->W, j->Ho, j->Wo, j->K, j->S, j->P);
}

void hy_dwconv_forward(float *y, const float *x, const float *w, const float *b,
                       int N, int C, int H, int W, int k, int stride, int pad,
                       hy_pool *pool) {
  job j = {.y = y, .x = x, .w = w, .b = b, .N = N, .C = C, .H = H, .W = W,
           .Ho = hy_dwconv_out_size(H, k, stride, pad),
           .Wo = hy_dwconv_out_size(W, k, stride, pad), .K = k, .S = stride,
           .P = pad};
  hy_pool_run(pool, N * C, forward_task, &j);
}

/* Fixed-order 8-lane sums: vectorisable without reassociation, and the same
 * result on every run. */
static float sum8(const float *a, int n) {
  float acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[i + l];
  float s = 0;
  for (; i < n; i++) s += a[i];
  for (int l = 0; l < 8; l++) s += acc[l];
  return s;
}

static void edge_dw(float *edge, float g, const float *xrow, int W, int K, int ix0) {
  for (int kx = 0; kx < K; kx++)
    if (ix0 + kx >= 0 && ix0 + kx < W) edge[kx] += g * xrow[ix0 + kx];
}

/* dw[ky][kx] += sum over the plane of dy * (x shifted by the tap). One pass
 * over the plane per kernel row; the interior columns accumulate in 8 lanes
 * per tap (vectorisable without reassociation), the edges and the tail in a
 * scalar per tap. */
ALWAYS_INLINE void plane_dw_t(double *dw, const float *restrict dy,
                              const float *restrict x, int H, int W, int Ho,
                              int Wo, int K, int S, int P) {
  int lo, hi;
  interior_cols(&lo, &hi, W, Wo, K, S, P);
  int n8 = (hi - lo) / 8 * 8;
  for (int ky = 0; ky < K; ky++) {
    v8 acc[MAX_K];
    float edge[MAX_K] = {0};
    for (int kx = 0; kx < K; kx++) acc[kx] = (v8){0};
    for (int oy = 0; oy < Ho; oy++) {
      int iy = oy * S - P + ky;
      if (iy < 0 || iy >= H) continue;
      const float *d = dy + (size_t)oy * Wo;
      const float *xr = x + (size_t)iy * W + (lo * S - P);
      for (int i = 0; i < n8; i += 8) {
        v8 g, xv;
        load8(&g, d + lo + i, 1);
        for (int kx = 0; kx < K; kx++) {
          load8(&xv, xr + i * S + kx, S);
          acc[kx] += g * xv;
        }
      }
      const float *xrow = x + (size_t)iy * W;
      for (int ox = 0; ox < lo; ox++) edge_dw(edge, d[ox], xrow, W, K, ox * S - P);
      for (int ox = lo + n8; ox < Wo; ox++)
        edge_dw(edge, d[ox], xrow, W, K, ox * S - P);
    }
    for (int kx = 0; kx < K; kx++) {
      double t = edge[kx];
      for (int l = 0; l < 8; l++) t += acc[kx][l];
      dw[ky * K + kx] += t;
    }
  }
}

__attribute__((target_clones("avx2", "default"))) static void
plane_dw(double *dw, const float *dy, const float *x, int H, int W, int Ho,
         int Wo, int K, int S, int P) {
#define CASE(k, s)                                        \
  if (K == k && S == s) {                                 \
    plane_dw_t(dw, dy, x, H, W, Ho, Wo, k, s, P);         \
    return;                                               \
  }
  CASE(3, 1) CASE(5, 1) CASE(7, 1) CASE(3, 2) CASE(5, 2) CASE(7, 2)
#undef CASE
  plane_dw_t(dw, dy, x, H, W, Ho, Wo, K, S, P);
}

/* dx += transposed conv of dy, tap by tap (strides > 1, huge kernels). */
static void plane_dx_scatter(float *dx, const float *dy, const float *w, int H,
                             int W, int Ho, int Wo, int K, int S, int P) {
  for (int oy = 0; oy < Ho; oy++)
    for (int ky = 0; ky < K; ky++) {
      int iy = oy * S - P + ky;
      if (iy < 0 || iy >= H) continue;
      const float *dyr = dy + (size_t)oy * Wo;
      for (int kx = 0; kx < K; kx++) {
        int lo = clampi(ceil_div(P - kx, S), 0, Wo);
        int last = W - 1 + P - kx;
        int hi = last < 0 ? lo : clampi(last / S + 1, lo, Wo);
        float wv = w[ky * K + kx];
        float *dxr = dx + (size_t)iy * W + (lo * S - P + kx);
        for (int i = 0; i < hi - lo; i++) dxr[(size_t)i * S] += wv * dyr[lo + i];
      }
    }
}

static void backward_task(void *p, int c, int thread) {
  const job *j = p;
  int K = j->K, S = j->S, P = j->P;
  size_t in = (size_t)j->H * j->W, out = (size_t)j->Ho * j->Wo;
  const float *w = j->w + (size_t)c * K * K;
  float wf[MAX_K * MAX_K];
  int flip = S == 1 && K <= MAX_K;
  if (flip)
    for (int i = 0; i < K * K; i++) wf[i] = w[K * K - 1 - i];
  double acc[MAX_K * MAX_K] = {0};
  double *dwacc = K <= MAX_K ? acc : NULL;
  double bsum = 0;
  for (int n = 0; n < j->N; n++) {
    size_t plane_i = (size_t)n * j->C + c;
    const float *dy = j->dy + plane_i * out;
    const float *x = j->x + plane_i * in;
    if (j->dx) {
      /* stride 1: dx = conv of dy with the flipped filter, pad K-1-P */
      if (flip)
        plane(j->dx + plane_i * in, dy, wf, 0.0f, 0, j->Ho, j->Wo, j->H, j->W,
              K, 1, K - 1 - P);
      else
        plane_dx_scatter(j->dx + plane_i * in, dy, w, j->H, j->W, j->Ho, j->Wo,
                         K, S, P);
    }
    if (j->dw && dwacc) plane_dw(dwacc, dy, x, j->H, j->W, j->Ho, j->Wo, K, S, P);
    if (j->db) {
      for (int oy = 0; oy < j->Ho; oy++) bsum += sum8(dy + (size_t)oy * j->Wo, j->Wo);
    }
  }
  if (j->dw && dwacc)
    for (int i = 0; i < K * K; i++) j->dw[(size_t)c * K * K + i] += (float)dwacc[i];
  if (j->dw && !dwacc) { /* kernels beyond MAX_K: plain loops */
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++) {
        double s = 0;
        for (int n = 0; n < j->N; n++) {
          size_t plane_i = (size_t)n * j->C + c;
          const float *dy = j->dy + plane_i * out, *x = j->x + plane_i * in;
          for (int oy = 0; oy < j->Ho; oy++) {
            int iy = oy * S - P + ky;
            if (iy < 0 || iy >= j->H) continue;
            for (int ox = 0; ox < j->Wo; ox++) {
              int ix = ox * S - P + kx;
              if (ix >= 0 && ix < j->W)
                s += (double)dy[oy * j->Wo + ox] * x[(size_t)iy * j->W + ix];
            }
          }
        }
        j->dw[(size_t)c * K * K + ky * K + kx] += (float)s;
      }
  }
  if (j->db) j->db[c] += (float)bsum;
}

void hy_dwconv_backward(float *dx, float *dw, float *db, const float *dy,
                        const float *x, const float *w, int N, int C, int H,
                        int W, int k, int stride, int pad, hy_pool *pool) {
  if (!dx && !dw && !db) return;
  job j = {.dx = dx, .dw = dw, .db = db, .dy = dy, .x = x, .w = w, .N = N,
           .C = C, .H = H, .W = W, .Ho = hy_dwconv_out_size(H, k, stride, pad),
           .Wo = hy_dwconv_out_size(W, k, stride, pad), .K = k, .S = stride,
           .P = pad};
  hy_pool_run(pool, C, backward_task, &j);
}

void hy_dwconv_forward_naive(float *y, const float *x, const float *w,
                             const float *b, int N, int C, int H, int W, int k,
                             int stride, int pad) {
  int Ho = hy_dwconv_out_size(H, k, stride, pad);
  int Wo = hy_dwconv_out_size(W, k, stride, pad);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          double s = b ? b[c] : 0.0;
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                s += (double)w[(c * k + ky) * k + kx] *
                     x[(((size_t)n * C + c) * H + iy) * W + ix];
            }
          y[(((size_t)n * C + c) * Ho + oy) * Wo + ox] = (float)s;
        }
}

void hy_dwconv_backward_naive(float *dx, float *dw, float *db, const float *dy,
                              const float *x, const float *w, int N, int C,
                              int H, int W, int k, int stride, int pad) {
  int Ho = hy_dwconv_out_size(H, k, stride, pad);
  int Wo = hy_dwconv_out_size(W, k, stride, pad);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          float g = dy[(((size_t)n * C + c) * Ho + oy) * Wo + ox];
          if (db) db[c] += g;
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              size_t xi = (((size_t)n * C + c) * H + iy) * W + ix;
              if (dx) dx[xi] += w[(c * k + ky) * k + kx] * g;
              if (dw) dw[(c * k + ky) * k + kx] += x[xi] * g;
            }
        }
}
