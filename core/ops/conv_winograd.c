#include "conv_winograd.h"

#include <string.h>

#include "conv.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#define KERNEL __attribute__((target("avx2,fma")))
#define KERNEL512 __attribute__((target("avx512f,avx2,fma")))
#else
#define HAVE_KERNEL 0
#define KERNEL
#endif

enum {
  XI = 36, /* transformed points per tile (6 x 6) */
  /* A block is VB vectors of 8 tiles; a task does CO output channels of
   * one block. The register tile of the products is CO x (8 VB): 4 x 24
   * in 12 ymm with AVX2, 8 x 32 in 16 zmm with AVX-512. */
  CO_MAX = 8,
  BLK_MAX = 32
};

static int avx2_only;

void hy_conv_winograd_set_avx2(int on) { avx2_only = on; }

/* 2: AVX-512F, 1: AVX2 and FMA, 0: neither. */
static int isa(void) {
#if HAVE_KERNEL
  static int level = -1;
  if (level < 0)
    level = __builtin_cpu_supports("avx512f") ? 2
            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                               : 0;
  return level == 2 && avx2_only ? 1 : level;
#else
  return 0;
#endif
}

static size_t al16(size_t n) { return (n + 15) / 16 * 16; }

int hy_conv_winograd_fits(int Cin, int Cout, int k, int stride, int dil, int groups, int Ho,
                          int Wo) {
#if HAVE_KERNEL
  /* Measured against the direct kernel (hyatt bench ops): below 12
   * channels the transforms cost what the products save; below 24 x 24
   * the padding of partial tiles and vectors does; wider layers go to
   * im2col + sgemm. */
  return isa() && k == 3 && stride == 1 && dil == 1 && groups == 1 && Cin >= 12 && Cout >= 12 &&
         Cin <= 128 && Cout <= 128 && Ho >= 24 && Wo >= 24;
#else
  (void)Cin, (void)Cout, (void)k, (void)stride, (void)dil, (void)groups, (void)Ho, (void)Wo;
  return 0;
#endif
}

/* The tiling of one conv. A tile row is G8 vectors of 8 tiles (the last
 * one padded); tiles are 4x4 output pixels. */
typedef struct {
  int Cin, H, W, Cout, pad, accumulate, relu;
  int phases;              /* > 0: output channel ph * phases + co goes to phase ph of y's co */
  int CO, VB, BLK;         /* the block shape of this CPU (see the enum) */
  size_t xs;               /* floats from one point of a block of V to the next */
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
  int wide = isa() == 2;
  j.CO = wide ? 8 : 4, j.VB = wide ? 4 : 3, j.BLK = 8 * j.VB;
  j.Ho = H + 2 * pad - 2, j.Wo = W + 2 * pad - 2;
  j.TH = (j.Ho + 3) / 4;
  j.G8 = ((j.Wo + 3) / 4 + 7) / 8;
  j.TWP = 8 * j.G8 + 1; /* tile t's columns 4 and 5 are phases 0 and 1 of tile t + 1 */
  /* the transformed band half a conv band (conv.c) big, 0.4 MB by default:
   * it stays in L2 until the products read it (measured: 3 MB bands made
   * the whole conv 1.3 times slower) */
  j.R = hy_conv_band_rows((size_t)XI * Cin * 8 * j.G8 * 2, j.TH);
  j.CB = (Cout + j.CO - 1) / j.CO;
  /* A tile's 36 points are stored xs apart: at a multiple of 1 KB (any
   * Cin divisible by 8) their stores fight over a few L1 sets. */
  j.xs = (size_t)Cin * j.BLK;
  if (j.xs % 256 == 0) j.xs += 16;
  j.dplane = (size_t)(4 * j.R + 2) * 4 * j.TWP;
  return j;
}

static size_t u_size(const wg_job *j) { return al16((size_t)XI * j->CB * j->CO * j->Cin); }
static size_t d_size(const wg_job *j) { return al16((size_t)j->Cin * j->dplane); }
static size_t v_size(const wg_job *j) {
  return al16(((size_t)j->R * j->G8 + j->VB - 1) / j->VB * XI * j->xs);
}

size_t hy_conv_winograd_scratch(int Cin, int H, int W, int Cout, int pad, int threads) {
  int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  if (!hy_conv_winograd_fits(Cin, Cout, 3, 1, 1, 1, Ho, Wo)) return 0;
  wg_job j = geometry(Cin, H, W, Cout, pad);
  return u_size(&j) + (size_t)hy_conv_band_threads(j.TH, threads) * (d_size(&j) + v_size(&j));
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

/* B^T d B of 8 adjacent tiles of one channel: base is their top-left in the
 * phase-split band; out[xi * xs] gets point xi. (A 16-tile AVX-512 version
 * measured slower: its 36 live vectors spill, its loads split cache lines.) */
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

/* A^T m A of a vector of tiles of one output channel into o[row][column];
 * m[xi * xs] is point xi. V is the vector type, P the intrinsics' prefix:
 * 8 tiles with AVX2, 16 with AVX-512, the same sums. */
#define OUTPUT_POINTS(V, P, ATTR, SFX)                                                       \
  ATTR static inline void at##SFX(const V m[6], V o[4]) {                                   \
    V s12 = P##_add_ps(m[1], m[2]), d12 = P##_sub_ps(m[1], m[2]);                           \
    V s34 = P##_add_ps(m[3], m[4]), d34 = P##_sub_ps(m[3], m[4]);                           \
    o[0] = P##_add_ps(P##_add_ps(m[0], s12), s34);                                          \
    o[1] = P##_fmadd_ps(P##_set1_ps(2.0f), d34, d12);                                       \
    o[2] = P##_fmadd_ps(P##_set1_ps(4.0f), s34, s12);                                       \
    o[3] = P##_add_ps(P##_fmadd_ps(P##_set1_ps(8.0f), d34, d12), m[5]);                     \
  }                                                                                         \
  ATTR static void output_points##SFX(const float *m, size_t xs, V o[4][4]) {               \
    V r[6][4];                                                                              \
    for (int a = 0; a < 6; a++) {                                                           \
      V row[6];                                                                             \
      for (int bb = 0; bb < 6; bb++) row[bb] = P##_load_ps(m + (size_t)(a * 6 + bb) * xs);  \
      at##SFX(row, r[a]);                                                                   \
    }                                                                                       \
    for (int jj = 0; jj < 4; jj++) {                                                        \
      V col[6], out[4];                                                                     \
      for (int a = 0; a < 6; a++) col[a] = r[a][jj];                                        \
      at##SFX(col, out);                                                                    \
      for (int i = 0; i < 4; i++) o[i][jj] = out[i];                                        \
    }                                                                                       \
  }

OUTPUT_POINTS(__m256, _mm256, KERNEL, )
OUTPUT_POINTS(__m512, _mm512, KERNEL512, 16)

/* Channel c of the band: its phase-split rows, then every vector's points. */
KERNEL static void input_task(void *p, int c, int thread) {
  const wg_job *j = p;
  float *d = j->D + (size_t)c * j->dplane;
  const float *xc = j->x + (size_t)c * j->H * j->W;
  size_t row = (size_t)4 * j->TWP;
  /* A band is often one tile row (6 input rows), too short for the hardware
   * prefetcher to pick up: fetch the next channel's rows while this one is
   * split and transformed. */
  if (c + 1 < j->Cin)
    for (int pr = 0; pr < 4 * j->rows + 2; pr++) {
      int iy = 4 * j->ty0 + pr - j->pad;
      if (iy >= 0 && iy < j->H)
        for (int q = 0; q < j->W; q += 16)
          _mm_prefetch((const char *)(xc + (size_t)j->H * j->W + (size_t)iy * j->W + q), _MM_HINT_T0);
    }
  for (int pr = 0; pr < 4 * j->rows + 2; pr++) {
    int iy = 4 * j->ty0 + pr - j->pad;
    fill_row(d + pr * row, j->TWP, iy >= 0 && iy < j->H ? xc + (size_t)iy * j->W : NULL, j->W, j->pad);
  }
  for (int v = 0; v < j->nblk * j->VB; v++) {
    float *out = j->V + (size_t)(v / j->VB) * XI * j->xs + (size_t)c * j->BLK + (v % j->VB) * 8;
    if (v >= j->nvec) { /* the last block's padding: read, dropped */
      for (int xi = 0; xi < XI; xi++) _mm256_storeu_ps(out + xi * j->xs, _mm256_setzero_ps());
      continue;
    }
    int ty = v / j->G8, g = v % j->G8;
    input_tile(d + (size_t)4 * ty * row + 8 * g, j->TWP, out, j->xs);
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
  int Cin, Cout, CO;
} filter_job;

/* U[cb][xi][q][c] = (G g G^T)[xi] of the filter w[cb * CO + q][c], zero
 * past Cout: output channels cb * CO ..., 8 input channels at a time (their
 * 72 taps are contiguous in w). */
KERNEL static void filter_task(void *p, int cb, int thread) {
  const filter_job *j = p;
  const __m256i nine = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
  size_t xs = (size_t)j->CO * j->Cin;
  for (int q = 0; q < j->CO; q++) {
    int co = cb * j->CO + q;
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
 * 4 output channels. Twelve named accumulators (see conv_direct.c). */
KERNEL static void product(const float *v, const float *u, int Cin, float *m) {
  const float *u1 = u + Cin, *u2 = u1 + Cin, *u3 = u2 + Cin;
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
  for (int c = 0; c < Cin; c++, v += 24) {
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

/* The same for 8 output channels and 32 tiles (AVX-512): m[q][0..32). */
KERNEL512 static void product16(const float *v, const float *u, int Cin, float *m) {
#define ROW(q)                                              \
  w = _mm512_set1_ps(u[(q) * Cin + c]);                     \
  a##q##0 = _mm512_fmadd_ps(w, x0, a##q##0);                \
  a##q##1 = _mm512_fmadd_ps(w, x1, a##q##1)
  __m512 a00 = _mm512_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  __m512 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  __m512 a60 = a00, a61 = a00, a70 = a00, a71 = a00;
  for (int c = 0; c < Cin; c++, v += 32) {
    __m512 x0 = _mm512_loadu_ps(v), x1 = _mm512_loadu_ps(v + 16), w;
    ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5); ROW(6); ROW(7);
  }
#undef ROW
  __m512 acc[16] = {a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71};
  for (int i = 0; i < 16; i++) _mm512_store_ps(m + 16 * i, acc[i]);
}

/* store_tile for hy_conv_winograd_phases_forward: output channel
 * ph * phases + c, ph = 2a + b, pixel (oy, ox) is y[c][2oy + a][2ox + b].
 * Each pixel is doubled in its vector and stored under a mask of the
 * lanes of parity b: the phase b = 1 of the same band fills in the rest
 * of the cache lines while they are still in L2. */
KERNEL static void store_phase_tile(const wg_job *j, __m256 o[4][4], int co, int v) {
  int ph = co / j->phases, c = co % j->phases, a = ph >> 1, bb = ph & 1;
  __m256 bias = _mm256_set1_ps(j->b ? j->b[c] : 0.0f);
  int ty = v / j->G8, g = v % j->G8, ox0 = 32 * g, Wy = 2 * j->Wo;
  float *yc = j->y + (size_t)c * 4 * j->Ho * j->Wo;
  __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i parity = _mm256_cmpeq_epi32(_mm256_and_si256(lane, _mm256_set1_epi32(1)), _mm256_set1_epi32(bb));
  for (int i = 0; i < 4; i++) {
    int oy = 4 * (j->ty0 + ty) + i;
    if (oy >= j->Ho) break;
    __m256 px[4];
    interleave(o[i][0], o[i][1], o[i][2], o[i][3], px);
    float *dst = yc + (size_t)(2 * oy + a) * Wy + 2 * ox0;
    for (int k = 0; k < 4; k++) {
      __m256 p = _mm256_add_ps(px[k], bias);
      if (j->relu) p = _mm256_max_ps(_mm256_setzero_ps(), p);
      __m256 lo = _mm256_unpacklo_ps(p, p), hi = _mm256_unpackhi_ps(p, p);
      __m256 d[2] = {_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31)};
      for (int h = 0; h < 2; h++) { /* y's columns 2 ox0 + 16k + 8h + lane, those < 2 Wo */
        int col = 2 * ox0 + 16 * k + 8 * h;
        __m256i in = _mm256_and_si256(parity, _mm256_cmpgt_epi32(_mm256_set1_epi32(Wy - col), lane));
        _mm256_maskstore_ps(dst + 16 * k + 8 * h, in, d[h]);
      }
    }
  }
}

/* 8 tiles (vector v of the band) of output channel co, o[row][column] in
 * tile order, into y with the bias (or onto it) and the ReLU. Pixels past
 * Ho or Wo are dropped. */
KERNEL static void store_tile(const wg_job *j, __m256 o[4][4], int co, int v) {
  if (j->phases) {
    store_phase_tile(j, o, co, v);
    return;
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
    for (int k = 0; k < 4; k++) {
      px[k] = _mm256_add_ps(px[k], bias);
      if (j->relu) px[k] = _mm256_max_ps(_mm256_setzero_ps(), px[k]); /* NaN stays NaN */
    }
    if (ox0 + 32 <= j->Wo) {
      for (int k = 0; k < 4; k++)
        _mm256_storeu_ps(dst + 8 * k, j->accumulate ? _mm256_add_ps(px[k], _mm256_loadu_ps(dst + 8 * k)) : px[k]);
      continue;
    }
    /* the image's right edge: masked loads and stores of the columns left */
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int k = 0; k < 4; k++) {
      __m256i in = _mm256_cmpgt_epi32(_mm256_set1_epi32(j->Wo - ox0 - 8 * k), lane);
      __m256 out = j->accumulate ? _mm256_add_ps(px[k], _mm256_maskload_ps(dst + 8 * k, in)) : px[k];
      _mm256_maskstore_ps(dst + 8 * k, in, out);
    }
  }
}

/* Vectors v and v + 1 at once: their points are adjacent in m. */
KERNEL512 static void output_pair(const wg_job *j, const float *m, size_t xs, int co, int v) {
  __m512 o[4][4];
  __m256 lo[4][4], hi[4][4];
  output_points16(m, xs, o);
  for (int i = 0; i < 4; i++)
    for (int k = 0; k < 4; k++) {
      lo[i][k] = _mm512_castps512_ps256(o[i][k]);
      hi[i][k] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(o[i][k]), 1));
    }
  store_tile(j, lo, co, v);
  store_tile(j, hi, co, v + 1);
}

/* Block blk of the band, output channels cb * CO ... */
KERNEL static void output_task(void *p, int task, int thread) {
  const wg_job *j = p;
  int blk = task / j->CB, cb = task % j->CB, CO = j->CO, BLK = j->BLK;
  float m[XI * CO_MAX * BLK_MAX] __attribute__((aligned(64))); /* [XI][CO][BLK] */
  const float *vb = j->V + (size_t)blk * XI * j->xs;
  for (int xi = 0; xi < XI; xi++) {
    const float *v = vb + (size_t)xi * j->xs, *u = j->U + ((size_t)cb * XI + xi) * j->Cin * CO;
    float *mx = m + (size_t)xi * CO * BLK;
    if (CO == 8)
      product16(v, u, j->Cin, mx);
    else
      product(v, u, j->Cin, mx);
  }
  for (int q = 0; q < CO && cb * CO + q < j->Cout; q++)
    for (int vi = 0; vi < j->VB && blk * j->VB + vi < j->nvec; vi++) {
      const float *mq = &m[(size_t)q * BLK + vi * 8];
      int v = blk * j->VB + vi;
      if (CO == 8 && vi + 1 < j->VB && v + 1 < j->nvec) {
        output_pair(j, mq, (size_t)CO * BLK, cb * CO + q, v);
        vi++;
        continue;
      }
      __m256 o[4][4];
      output_points(mq, (size_t)CO * BLK, o);
      store_tile(j, o, cb * CO + q, v);
    }
}

static void set_band(wg_job *j, int ty0, int R) {
  j->ty0 = ty0;
  j->rows = ty0 + R < j->TH ? R : j->TH - ty0;
  j->nvec = j->rows * j->G8;
  j->nblk = (j->nvec + j->VB - 1) / j->VB;
}

/* Blocks of products (padding included) of the busiest thread when bands
 * of R tile rows are handed out as hy_pool_run does. */
static long busiest(const wg_job *j, int R, int threads) {
  int nb = (j->TH + R - 1) / R;
  long most = 0;
  for (int t = 0; t < threads; t++) {
    long blocks = 0;
    for (int band = nb * t / threads; band < nb * (t + 1) / threads; band++) {
      int rows = j->TH - band * R < R ? j->TH - band * R : R;
      blocks += (rows * j->G8 + j->VB - 1) / j->VB;
    }
    most = blocks > most ? blocks : most;
  }
  return most;
}

typedef struct {
  const wg_job *j;
  float *parts; /* per thread: D | V */
  int R;
} band_job;

KERNEL static void band_task(void *p, int band, int thread) {
  const band_job *bj = p;
  wg_job j = *bj->j;
  j.D = bj->parts + (size_t)thread * (d_size(&j) + v_size(&j));
  j.V = j.D + d_size(&j);
  set_band(&j, band * bj->R, bj->R);
  for (int c = 0; c < j.Cin; c++) input_task(&j, c, thread);
  for (int t = 0; t < j.nblk * j.CB; t++) output_task(&j, t, thread);
}

static void winograd_run(wg_job j, const float *w, float *scratch, hy_pool *pool) {
  int Cin = j.Cin, Cout = j.Cout;
  j.U = scratch;
  j.D = j.U + u_size(&j);
  j.V = j.D + d_size(&j);
  filter_job f = {j.U, w, Cin, Cout, j.CO};
  hy_pool_run(pool, j.CB, filter_task, &f);
  int threads = hy_conv_band_threads(j.TH, hy_pool_threads(pool));
  if (threads > 1) {
    /* the band height that leaves the busiest thread the fewest blocks of
     * products (padding included); the default where it ties */
    band_job bj = {&j, j.D, j.R};
    long least = busiest(&j, j.R, threads);
    for (int R = j.R - 1; R >= 1; R--) {
      long most = busiest(&j, R, threads);
      if (most < least) bj.R = R, least = most;
    }
    hy_pool_run(pool, (j.TH + bj.R - 1) / bj.R, band_task, &bj);
    return;
  }
  for (int ty0 = 0; ty0 < j.TH; ty0 += j.R) {
    set_band(&j, ty0, j.R);
    hy_pool_run(pool, Cin, input_task, &j);
    hy_pool_run(pool, j.nblk * j.CB, output_task, &j);
  }
}
#endif

void hy_conv_winograd_forward(float *y, const float *x, const float *w, const float *b, int Cin,
                              int H, int W, int Cout, int pad, int accumulate, int relu,
                              float *scratch, hy_pool *pool) {
#if HAVE_KERNEL
  wg_job j = geometry(Cin, H, W, Cout, pad);
  j.y = y, j.x = x, j.b = b, j.accumulate = accumulate, j.relu = relu;
  winograd_run(j, w, scratch, pool);
#endif
}

void hy_conv_winograd_phases_forward(float *y, const float *x, const float *w, const float *b,
                                     int Cin, int H, int W, int Cout, int relu, float *scratch,
                                     hy_pool *pool) {
#if HAVE_KERNEL
  wg_job j = geometry(Cin, H, W, 4 * Cout, 1);
  j.y = y, j.x = x, j.b = b, j.relu = relu, j.phases = Cout;
  winograd_run(j, w, scratch, pool);
#endif
}
