#include "conv_winograd.h"

#include <string.h>

#include "conv.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#define KERNEL __attribute__((target("avx2,fma")))
#else
#define HAVE_KERNEL 0
#define KERNEL
#endif

enum {
  XI = 36,     /* transformed points per tile (6 x 6) */
  CO = 4,      /* output channels per task and register tile */
  VB = 3,      /* vectors of 8 tiles per block */
  BLK = VB * 8 /* tiles per block */
};

static size_t al16(size_t n) { return (n + 15) / 16 * 16; }

int hy_conv_winograd_fits(int Cin, int Cout, int k, int stride, int dil, int groups, int Ho,
                          int Wo) {
#if HAVE_KERNEL
  static int cpu = -1;
  if (cpu < 0) cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  /* Measured against the direct kernel (hyatt bench ops): below 12
   * channels the transforms cost what the products save; below 24 x 24
   * the padding of partial tiles and vectors does; wider layers go to
   * im2col + sgemm. */
  return cpu && k == 3 && stride == 1 && dil == 1 && groups == 1 && Cin >= 12 && Cout >= 12 &&
         Cin <= 128 && Cout <= 128 && Ho >= 24 && Wo >= 24;
#else
  (void)Cin, (void)Cout, (void)k, (void)stride, (void)dil, (void)groups, (void)Ho, (void)Wo;
  return 0;
#endif
}

/* The tiling of one conv. A tile row is G8 vectors of 8 tiles (the last
 * one padded); tiles are 4x4 output pixels. */
typedef struct {
  int Cin, H, W, Cout, pad, accumulate;
  int Ho, Wo, TH, G8, TWP; /* tile rows, vectors per tile row, phase row length */
  int R;                   /* tile rows per band */
  int CB;                  /* blocks of CO output channels */
  size_t dplane;           /* floats per channel of the phase-split band */
  float *U, *D, *V, *y;    /* scratch parts; the output */
  const float *x, *b;
  int ty0, rows, nvec, nblk; /* the band */
} wg_job;

static wg_job geometry(int Cin, int H, int W, int Cout, int pad) {
  wg_job j = {.Cin = Cin, .H = H, .W = W, .Cout = Cout, .pad = pad};
  j.Ho = H + 2 * pad - 2, j.Wo = W + 2 * pad - 2;
  j.TH = (j.Ho + 3) / 4;
  j.G8 = ((j.Wo + 3) / 4 + 7) / 8;
  j.TWP = 8 * j.G8 + 1; /* tile t's columns 4 and 5 are phases 0 and 1 of tile t + 1 */
  /* the transformed band about 4 conv bands (conv.c) big: 3 MB by default */
  j.R = hy_conv_band_rows((size_t)XI * Cin * 8 * j.G8 / 4, j.TH);
  j.CB = (Cout + CO - 1) / CO;
  j.dplane = (size_t)(4 * j.R + 2) * 4 * j.TWP;
  return j;
}

static size_t u_size(const wg_job *j) { return al16((size_t)XI * j->CB * CO * j->Cin); }
static size_t d_size(const wg_job *j) { return al16((size_t)j->Cin * j->dplane); }
static size_t v_size(const wg_job *j) {
  return al16(((size_t)j->R * j->G8 + VB - 1) / VB * XI * j->Cin * BLK);
}

size_t hy_conv_winograd_scratch(int Cin, int H, int W, int Cout, int pad) {
  int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  if (!hy_conv_winograd_fits(Cin, Cout, 3, 1, 1, 1, Ho, Wo)) return 0;
  wg_job j = geometry(Cin, H, W, Cout, pad);
  return u_size(&j) + d_size(&j) + v_size(&j);
}

#if HAVE_KERNEL
/* x[0..32) into its 4 column phases: p[ph][t] = x[4t + ph], t < 8. */
KERNEL static void deinterleave(float *d, int TWP, const float *x) {
  __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
  __m256 c = _mm256_loadu_ps(x + 16), e = _mm256_loadu_ps(x + 24);
  __m256 t0 = _mm256_permute2f128_ps(a, c, 0x20), t1 = _mm256_permute2f128_ps(a, c, 0x31);
  __m256 t2 = _mm256_permute2f128_ps(b, e, 0x20), t3 = _mm256_permute2f128_ps(b, e, 0x31);
  __m256 u0 = _mm256_unpacklo_ps(t0, t1), u1 = _mm256_unpackhi_ps(t0, t1);
  __m256 u2 = _mm256_unpacklo_ps(t2, t3), u3 = _mm256_unpackhi_ps(t2, t3);
  _mm256_storeu_ps(d, _mm256_shuffle_ps(u0, u2, 0x44));
  _mm256_storeu_ps(d + TWP, _mm256_shuffle_ps(u0, u2, 0xEE));
  _mm256_storeu_ps(d + 2 * TWP, _mm256_shuffle_ps(u1, u3, 0x44));
  _mm256_storeu_ps(d + 3 * TWP, _mm256_shuffle_ps(u1, u3, 0xEE));
}

/* The inverse: out[4t + ph] = p[ph][t] for 8 tiles' 4 columns. */
KERNEL static void interleave(__m256 p0, __m256 p1, __m256 p2, __m256 p3, __m256 out[4]) {
  __m256 l01 = _mm256_unpacklo_ps(p0, p1), h01 = _mm256_unpackhi_ps(p0, p1);
  __m256 l23 = _mm256_unpacklo_ps(p2, p3), h23 = _mm256_unpackhi_ps(p2, p3);
  __m256 t0 = _mm256_shuffle_ps(l01, l23, 0x44), t1 = _mm256_shuffle_ps(l01, l23, 0xEE);
  __m256 t2 = _mm256_shuffle_ps(h01, h23, 0x44), t3 = _mm256_shuffle_ps(h01, h23, 0xEE);
  out[0] = _mm256_permute2f128_ps(t0, t1, 0x20);
  out[1] = _mm256_permute2f128_ps(t2, t3, 0x20);
  out[2] = _mm256_permute2f128_ps(t0, t1, 0x31);
  out[3] = _mm256_permute2f128_ps(t2, t3, 0x31);
}

/* One padded input row (NULL: outside the image) split by column phase:
 * d[ph * TWP + t] = x[4t + ph - pad], zero outside [0, W). */
KERNEL static void fill_row(float *d, int TWP, const float *xrow, int W, int pad) {
  if (!xrow) {
    memset(d, 0, sizeof(float) * 4 * (size_t)TWP);
    return;
  }
  for (int t = 0; t < TWP;) {
    int q = 4 * t - pad;
    if (q >= 0 && q + 32 <= W && t + 8 <= TWP) {
      deinterleave(d + t, TWP, xrow + q);
      t += 8;
      continue;
    }
    for (int ph = 0; ph < 4; ph++) d[ph * TWP + t] = q + ph >= 0 && q + ph < W ? xrow[q + ph] : 0.0f;
    t++;
  }
}

/* B^T d, 8 tiles at once. */
KERNEL static inline void bt(const __m256 d[6], __m256 o[6]) {
  __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f);
  __m256 t1 = _mm256_fnmadd_ps(four, d[2], d[4]), t2 = _mm256_fnmadd_ps(four, d[1], d[3]);
  __m256 t3 = _mm256_sub_ps(d[4], d[2]), t4 = _mm256_sub_ps(d[3], d[1]);
  t4 = _mm256_add_ps(t4, t4);
  o[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  o[1] = _mm256_add_ps(t1, t2);
  o[2] = _mm256_sub_ps(t1, t2);
  o[3] = _mm256_add_ps(t3, t4);
  o[4] = _mm256_sub_ps(t3, t4);
  o[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

/* A^T m, 8 tiles at once. */
KERNEL static inline void at(const __m256 m[6], __m256 o[4]) {
  __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
  __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
  o[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
  o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), d34, d12);
  o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), s34, s12);
  o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), d34, d12), m[5]);
}

/* B^T d B of 8 adjacent tiles of one channel: base is their top-left in the
 * phase-split band; out[xi * xs] gets point xi. */
KERNEL static void input_tile(const float *base, int TWP, float *out, size_t xs) {
  __m256 q[6][6];
  for (int jj = 0; jj < 6; jj++) {
    __m256 d[6], o[6];
    for (int r = 0; r < 6; r++) d[r] = _mm256_loadu_ps(base + ((size_t)r * 4 + (jj & 3)) * TWP + (jj >> 2));
    bt(d, o);
    for (int a = 0; a < 6; a++) q[a][jj] = o[a];
  }
  for (int a = 0; a < 6; a++) {
    __m256 o[6];
    bt(q[a], o);
    for (int bb = 0; bb < 6; bb++) _mm256_storeu_ps(out + (size_t)(a * 6 + bb) * xs, o[bb]);
  }
}

/* Channel c of the band: its phase-split rows, then every vector's points. */
KERNEL static void input_task(void *p, int c, int thread) {
  const wg_job *j = p;
  float *d = j->D + (size_t)c * j->dplane;
  const float *xc = j->x + (size_t)c * j->H * j->W;
  size_t row = (size_t)4 * j->TWP;
  for (int pr = 0; pr < 4 * j->rows + 2; pr++) {
    int iy = 4 * j->ty0 + pr - j->pad;
    fill_row(d + pr * row, j->TWP, iy >= 0 && iy < j->H ? xc + (size_t)iy * j->W : NULL, j->W, j->pad);
  }
  size_t xs = (size_t)j->Cin * BLK;
  for (int v = 0; v < j->nblk * VB; v++) {
    float *out = j->V + ((size_t)(v / VB) * XI * j->Cin + c) * BLK + (v % VB) * 8;
    if (v >= j->nvec) { /* the last block's padding: read, dropped */
      for (int xi = 0; xi < XI; xi++) _mm256_storeu_ps(out + xi * xs, _mm256_setzero_ps());
      continue;
    }
    int ty = v / j->G8, g = v % j->G8;
    input_tile(d + (size_t)4 * ty * row + 8 * g, j->TWP, out, xs);
  }
}

/* G v of Lavin & Gray's F(4, 3) (points 0, +-1, +-2), 8 filters at once. */
KERNEL static inline void g3(__m256 g0, __m256 g1, __m256 g2, __m256 r[6]) {
  __m256 e = _mm256_mul_ps(_mm256_add_ps(g0, g2), _mm256_set1_ps(1.0f / 6));
  __m256 o = _mm256_mul_ps(g1, _mm256_set1_ps(1.0f / 6));
  __m256 e4 = _mm256_fmadd_ps(g0, _mm256_set1_ps(1.0f / 24), _mm256_mul_ps(g2, _mm256_set1_ps(1.0f / 6)));
  __m256 o4 = _mm256_mul_ps(g1, _mm256_set1_ps(1.0f / 12));
  r[0] = _mm256_mul_ps(g0, _mm256_set1_ps(0.25f));
  r[1] = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_add_ps(e, o));
  r[2] = _mm256_sub_ps(o, e);
  r[3] = _mm256_add_ps(e4, o4);
  r[4] = _mm256_sub_ps(e4, o4);
  r[5] = g2;
}

typedef struct {
  float *U;
  const float *w;
  int Cin, Cout;
} filter_job;

/* U[cb][xi][q][c] = (G g G^T)[xi] of the filter w[cb * CO + q][c], zero
 * past Cout: output channels cb * CO ..., 8 input channels at a time (their
 * 72 taps are contiguous in w). */
KERNEL static void filter_task(void *p, int cb, int thread) {
  const filter_job *j = p;
  const __m256i nine = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
  size_t xs = (size_t)CO * j->Cin;
  for (int q = 0; q < CO; q++) {
    int co = cb * CO + q;
    float *u = j->U + (size_t)cb * XI * xs + (size_t)q * j->Cin;
    if (co >= j->Cout) {
      for (int xi = 0; xi < XI; xi++) memset(u + xi * xs, 0, sizeof(float) * (size_t)j->Cin);
      continue;
    }
    for (int c0 = 0; c0 < j->Cin; c0 += 8) {
      int n = j->Cin - c0 < 8 ? j->Cin - c0 : 8;
      const float *src = j->w + ((size_t)co * j->Cin + c0) * 9;
      float part[72] = {0}, out[8];
      if (n < 8) src = memcpy(part, src, sizeof(float) * 9 * (size_t)n);
      __m256 g[9], t[3][6], r[6];
      for (int k = 0; k < 9; k++) g[k] = _mm256_i32gather_ps(src + k, nine, 4);
      for (int l = 0; l < 3; l++) g3(g[l], g[3 + l], g[6 + l], t[l]);
      for (int a = 0; a < 6; a++) {
        g3(t[0][a], t[1][a], t[2][a], r);
        for (int bb = 0; bb < 6; bb++) {
          float *dst = u + (size_t)(a * 6 + bb) * xs + c0;
          if (n == 8) {
            _mm256_storeu_ps(dst, r[bb]);
            continue;
          }
          _mm256_storeu_ps(out, r[bb]);
          memcpy(dst, out, sizeof(float) * (size_t)n);
        }
      }
    }
  }
}

/* m[q][0..24) = sum over c of u[q][c] * v[c][0..24): one point of a block,
 * CO output channels. Twelve named accumulators (see conv_direct.c). */
KERNEL static void product(const float *v, const float *u, int Cin, float *m) {
  const float *u1 = u + Cin, *u2 = u1 + Cin, *u3 = u2 + Cin;
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
  for (int c = 0; c < Cin; c++, v += BLK) {
    __m256 x0 = _mm256_loadu_ps(v), x1 = _mm256_loadu_ps(v + 8), x2 = _mm256_loadu_ps(v + 16);
    __m256 w = _mm256_broadcast_ss(u + c);
    a00 = _mm256_fmadd_ps(w, x0, a00), a01 = _mm256_fmadd_ps(w, x1, a01), a02 = _mm256_fmadd_ps(w, x2, a02);
    w = _mm256_broadcast_ss(u1 + c);
    a10 = _mm256_fmadd_ps(w, x0, a10), a11 = _mm256_fmadd_ps(w, x1, a11), a12 = _mm256_fmadd_ps(w, x2, a12);
    w = _mm256_broadcast_ss(u2 + c);
    a20 = _mm256_fmadd_ps(w, x0, a20), a21 = _mm256_fmadd_ps(w, x1, a21), a22 = _mm256_fmadd_ps(w, x2, a22);
    w = _mm256_broadcast_ss(u3 + c);
    a30 = _mm256_fmadd_ps(w, x0, a30), a31 = _mm256_fmadd_ps(w, x1, a31), a32 = _mm256_fmadd_ps(w, x2, a32);
  }
  _mm256_store_ps(m, a00), _mm256_store_ps(m + 8, a01), _mm256_store_ps(m + 16, a02);
  _mm256_store_ps(m + 24, a10), _mm256_store_ps(m + 32, a11), _mm256_store_ps(m + 40, a12);
  _mm256_store_ps(m + 48, a20), _mm256_store_ps(m + 56, a21), _mm256_store_ps(m + 64, a22);
  _mm256_store_ps(m + 72, a30), _mm256_store_ps(m + 80, a31), _mm256_store_ps(m + 88, a32);
}

/* A^T m A of 8 tiles (vector v of the band) of output channel co, into y;
 * m[xi * xs] is point xi. Pixels past Ho or Wo are dropped. */
KERNEL static void output_tile(const wg_job *j, const float *m, size_t xs, int co, int v) {
  __m256 r[6][4], o[4][4];
  for (int a = 0; a < 6; a++) {
    __m256 row[6];
    for (int bb = 0; bb < 6; bb++) row[bb] = _mm256_load_ps(m + (size_t)(a * 6 + bb) * xs);
    at(row, r[a]);
  }
  for (int jj = 0; jj < 4; jj++) {
    __m256 col[6], out[4];
    for (int a = 0; a < 6; a++) col[a] = r[a][jj];
    at(col, out);
    for (int i = 0; i < 4; i++) o[i][jj] = out[i];
  }
  __m256 bias = _mm256_set1_ps(j->b && !j->accumulate ? j->b[co] : 0.0f);
  int ty = v / j->G8, g = v % j->G8, ox0 = 32 * g;
  float *yc = j->y + (size_t)co * j->Ho * j->Wo;
  for (int i = 0; i < 4; i++) {
    int oy = 4 * (j->ty0 + ty) + i;
    if (oy >= j->Ho) break;
    __m256 px[4];
    interleave(o[i][0], o[i][1], o[i][2], o[i][3], px);
    float *dst = yc + (size_t)oy * j->Wo + ox0;
    if (ox0 + 32 <= j->Wo) {
      for (int k = 0; k < 4; k++)
        _mm256_storeu_ps(dst + 8 * k, _mm256_add_ps(px[k], j->accumulate ? _mm256_loadu_ps(dst + 8 * k) : bias));
      continue;
    }
    float buf[32];
    for (int k = 0; k < 4; k++) _mm256_storeu_ps(buf + 8 * k, _mm256_add_ps(px[k], bias));
    for (int k = 0; k < j->Wo - ox0; k++) dst[k] = j->accumulate ? dst[k] + buf[k] : buf[k];
  }
}

/* Block blk of the band, output channels cb * CO ... */
KERNEL static void output_task(void *p, int task, int thread) {
  const wg_job *j = p;
  int blk = task / j->CB, cb = task % j->CB;
  float m[XI][CO][BLK] __attribute__((aligned(32)));
  const float *vb = j->V + (size_t)blk * XI * j->Cin * BLK;
  for (int xi = 0; xi < XI; xi++)
    product(vb + (size_t)xi * j->Cin * BLK, j->U + ((size_t)cb * XI + xi) * j->Cin * CO, j->Cin,
            m[xi][0]);
  for (int q = 0; q < CO && cb * CO + q < j->Cout; q++)
    for (int vi = 0; vi < VB && blk * VB + vi < j->nvec; vi++)
      output_tile(j, &m[0][q][vi * 8], (size_t)CO * BLK, cb * CO + q, blk * VB + vi);
}
#endif

void hy_conv_winograd_forward(float *y, const float *x, const float *w, const float *b, int Cin,
                              int H, int W, int Cout, int pad, int accumulate, float *scratch,
                              hy_pool *pool) {
#if HAVE_KERNEL
  wg_job j = geometry(Cin, H, W, Cout, pad);
  j.y = y, j.x = x, j.b = b, j.accumulate = accumulate;
  j.U = scratch;
  j.D = j.U + u_size(&j);
  j.V = j.D + d_size(&j);
  filter_job f = {j.U, w, Cin, Cout};
  hy_pool_run(pool, j.CB, filter_task, &f);
  for (j.ty0 = 0; j.ty0 < j.TH; j.ty0 += j.R) {
    j.rows = j.ty0 + j.R < j.TH ? j.R : j.TH - j.ty0;
    j.nvec = j.rows * j.G8;
    j.nblk = (j.nvec + VB - 1) / VB;
    hy_pool_run(pool, Cin, input_task, &j);
    hy_pool_run(pool, j.nblk * j.CB, output_task, &j);
  }
#else
  (void)y, (void)x, (void)w, (void)b, (void)Cin, (void)H, (void)W, (void)Cout, (void)pad;
  (void)accumulate, (void)scratch, (void)pool;
#endif
}
