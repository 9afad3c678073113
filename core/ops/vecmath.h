/* Small branch-free helpers for the elementwise and reduction kernels of
 * core/ops. Without -ffast-math GCC neither vectorises libm's expf nor
 * reorders a float sum, so the kernels use these: an exp built from plain
 * arithmetic, and sums with 8 explicit lanes (a fixed order, so the result
 * does not depend on the machine's vector width). */
#pragma once

#include <stdint.h>
#include <string.h>

/* For the few hot loops: an AVX2 clone picked at load time, plain x86-64
 * otherwise (no -march=native in shipped builds). An x86-64-v4 (AVX-512)
 * clone was measured slower: GCC's 512-bit loops over these short channel
 * rows cost layernorm 1.5x and CBAM's channel mul backward 2x. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define HY_HOT __attribute__((target_clones("avx2", "default")))
#else
#define HY_HOT
#endif

/* c ? a : b on the bit patterns. A plain ?: whose arms compute something
 * is often turned into a branch (the arm "may trap" without
 * -fno-trapping-math) and the loop then does not vectorise; this does. */
static inline float hy_vsel(int c, float a, float b) {
  uint32_t ua, ub, m = 0u - (uint32_t)(c != 0);
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  uint32_t r = (ua & m) | (ub & ~m);
  float f;
  memcpy(&f, &r, sizeof f);
  return f;
}

/* exp(hi + lo) with Cephes' expf reduction and polynomial, for an argument
 * carried in two parts hi + lo, |lo| < 2 or so: callers that know their
 * argument more precisely than one float keep that precision (the error of
 * exp otherwise grows with the argument's own rounding, |x| * 2^-24).
 * About 2 ulp on [-87, 88]; hi + lo < -87 gives exactly 0 (so does
 * -INFINITY, handy for masks), > 88 is clamped to 88; NaN stays NaN. */
static inline float hy_vexpf2(float hi, float lo) {
  float x = hi + lo;
  float xc = hy_vsel(x < -87.0f, -87.0f, x);
  xc = hy_vsel(xc > 88.0f, 88.0f, xc);
  int in = xc == x; /* false for NaN: xc = NaN is used */
  hi = hy_vsel(in, hi, xc);
  lo = hy_vsel(in, lo, 0.0f);
  /* round(x / ln 2) by the 1.5 * 2^23 trick: exact for |value| < 2^22 */
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = hi - n * 0.693359375f; /* ln 2 split in two (Cody-Waite) */
  r = r - n * -2.12194440e-4f;
  r = r + lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) * (1 << 23);
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return hy_vsel(x < -87.0f, 0.0f, p * scale);
}

/* exp(x): the same with the whole argument in one float (a few operations
 * fewer than hy_vexpf2(x, 0), for softmax and sigmoid). */
static inline float hy_vexpf(float x) {
  float xc = hy_vsel(x < -87.0f, -87.0f, x);
  xc = hy_vsel(xc > 88.0f, 88.0f, xc);
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) * (1 << 23);
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return hy_vsel(x < -87.0f, 0.0f, p * scale);
}

/* sum of x[0..n) in float, 8 lanes */
static inline float hy_vsum(const float *x, int n) {
  float acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += x[i + j];
  for (; i < n; i++) acc[i & 7] += x[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* AVX2+FMA versions of the exp above for kernels written with intrinsics,
 * picked at run time with hy_cpu_fma(): one rounding fewer per polynomial
 * step, so at least as accurate. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HY_HAVE_V8FMA 1
#define HY_V8FMA __attribute__((target("avx2,fma")))

static inline int hy_cpu_fma(void) {
  static int cpu = -1;
  if (cpu < 0) cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu;
}

/* hy_vexpf2, 8 lanes; max/min keep a NaN argument NaN. */
HY_V8FMA static inline __m256 hy_v8expf2(__m256 hi, __m256 lo) {
  __m256 x = _mm256_add_ps(hi, lo);
  __m256 xc = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-87.0f), x));
  __m256 in = _mm256_cmp_ps(xc, x, _CMP_EQ_OQ);
  hi = _mm256_blendv_ps(xc, hi, in);
  lo = _mm256_and_ps(lo, in);
  __m256 magic = _mm256_set1_ps(12582912.0f);
  __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f), magic), magic);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), hi);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  r = _mm256_add_ps(r, lo);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ), e);
}

/* The same at 16 lanes for AVX-512 kernels, picked with hy_cpu_avx512():
 * every lane computes exactly what hy_v8expf2 does. */
#define HY_V16 __attribute__((target("avx512f,avx2,fma")))

static inline int hy_cpu_avx512(void) {
  static int cpu = -1;
  if (cpu < 0) cpu = __builtin_cpu_supports("avx512f");
  return cpu;
}

/* The first n lanes (none for n <= 0, all for n >= 16). */
static inline __mmask16 hy_v16mask(int n) {
  return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

/* Lane i = i * stride: gather/scatter indices of 16 rows `stride` floats apart. */
HY_V16 static inline __m512i hy_v16rows(int stride) {
  return _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                            _mm512_set1_epi32(stride));
}

/* exp(hi + lo) = e^r 2^n: n the nearest integer to (hi + lo) / ln 2 (of x,
 * hi + lo clamped), r the rest in two steps of ln 2, then e^r - 1 by its
 * minimax polynomial. Returns e^r and n. */
HY_V16 static inline __m512 hy_v16exp_reduced(__m512 x, __m512 hi, __m512 lo, __m512 *n) {
  __m512 magic = _mm512_set1_ps(12582912.0f);
  *n = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), magic), magic);
  __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(0.693359375f), hi);
  r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(-2.12194440e-4f), r);
  r = _mm512_add_ps(r, lo);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  return _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
}

HY_V16 static inline __m512 hy_v16expf2(__m512 hi, __m512 lo) {
  __m512 x = _mm512_add_ps(hi, lo);
  __m512 xc = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-87.0f), x));
  __mmask16 in = _mm512_cmp_ps_mask(xc, x, _CMP_EQ_OQ);
  hi = _mm512_mask_blend_ps(in, xc, hi);
  lo = _mm512_maskz_mov_ps(in, lo);
  __m512 n, p = hy_v16exp_reduced(xc, hi, lo, &n);
  __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  __m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_NLT_UQ), e);
}

/* exp(x) for x <= 0 without the range checks: below -87.3 (where exp is
 * under 1.2e-38) it returns exp(-87.3), which no softmax sum can tell from
 * 0. */
HY_V16 static inline __m512 hy_v16exp_nonpos(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  __m512 n, p = hy_v16exp_reduced(x, x, _mm512_setzero_ps(), &n);
  return _mm512_scalef_ps(p, n);
}
#else
#define HY_HAVE_V8FMA 0
#endif
