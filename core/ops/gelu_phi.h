/* Phi(x), the normal CDF, in registers, for kernels that apply GELU there
 * (activation.c, mlp.c): 8 lanes (AVX2 + FMA) and 16 (AVX-512), lane for
 * lane the same numbers, one vector or four at a call (hy_v8phi1,
 * hy_v8phi4, hy_v16phi1, hy_v16phi4). nh[k] + nl[k] = -x[k]^2 / 2 exactly,
 * for the pdf.
 *
 * Phi(-a) = 0.5 * erfc(a / sqrt 2) for a = |x| by the Chebyshev-fitted erfc
 * of Numerical Recipes (erfcc: t * exp(-z^2 + P(t)), t = 1 / (1 + z / 2),
 * fractional error < 1.2e-7), with the 0.5 folded into P's constant as
 * -ln 2 and -z^2 = -a^2 / 2 kept in two parts (an FMA gives the rounding
 * error of the square), so the tail keeps its relative precision. Past
 * a = 13, Phi(-a) < 1e-38 is flushed to 0, which keeps the exp's argument
 * in range (no clamping inside it) and makes GELU(+inf) = +inf. About 37
 * operations per vector. */
#pragma once

#include "vecmath.h"

#if HY_HAVE_V8FMA

/* P's coefficients after the leading 0.17087277, Horner order */
#define HY_PHI_COEFFS                                                                  \
  -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f,     \
      0.37409196f, 1.00002368f
/* P's constant term, -1.26551223, minus ln 2 */
#define HY_PHI_C0 (-1.26551223f - 0.69314718055994531f)

/* The body for NV vectors at once, step by step: their chains are
 * independent, and interleaved they overlap in the core (four at a time
 * measured 1.75 times the rate of one; the bits are the same). x, q, nh
 * and nl are arrays of NV. */
#define HY_PHI_BODY(V, P, ABS, MASK_MUL, BLEND_NEG, NV)                                      \
  V a[NV], t[NV], p[NV], lo[NV], n[NV], r[NV], e[NV];                                   \
  V one = P##_set1_ps(1.0f), magic = P##_set1_ps(12582912.0f);                          \
  for (int k = 0; k < NV; k++) {                                                        \
    a[k] = ABS(x[k]);                                                                   \
    t[k] = P##_div_ps(one, P##_fmadd_ps(a[k], P##_set1_ps(0.35355339059327376f), one)); \
    p[k] = P##_set1_ps(0.17087277f);                                                    \
  }                                                                                     \
  static const float coef[] = {HY_PHI_COEFFS};                                         \
  for (int i = 0; i < 8; i++)                                                           \
    for (int k = 0; k < NV; k++) p[k] = P##_fmadd_ps(p[k], t[k], P##_set1_ps(coef[i])); \
  for (int k = 0; k < NV; k++) {                                                        \
    p[k] = P##_fmadd_ps(p[k], t[k], P##_set1_ps(HY_PHI_C0));                            \
    V h = P##_mul_ps(P##_set1_ps(-0.5f), a[k]);                                         \
    nh[k] = P##_mul_ps(h, a[k]);                                                        \
    nl[k] = P##_fmsub_ps(h, a[k], nh[k]);                                               \
    /* exp(nh + p + nl) for arguments in [-87, 0]: hy_v8expf2 without the clamps */     \
    lo[k] = P##_add_ps(p[k], nl[k]);                                                    \
    n[k] = P##_sub_ps(P##_fmadd_ps(P##_add_ps(nh[k], lo[k]), P##_set1_ps(1.44269504088896341f), magic), magic); \
    r[k] = P##_fnmadd_ps(n[k], P##_set1_ps(0.693359375f), nh[k]);                       \
    r[k] = P##_add_ps(P##_fnmadd_ps(n[k], P##_set1_ps(-2.12194440e-4f), r[k]), lo[k]);  \
    e[k] = P##_set1_ps(1.9875691500e-4f);                                               \
  }                                                                                     \
  for (int k = 0; k < NV; k++) e[k] = P##_fmadd_ps(e[k], r[k], P##_set1_ps(1.3981999507e-3f)); \
  for (int k = 0; k < NV; k++) e[k] = P##_fmadd_ps(e[k], r[k], P##_set1_ps(8.3334519073e-3f)); \
  for (int k = 0; k < NV; k++) e[k] = P##_fmadd_ps(e[k], r[k], P##_set1_ps(4.1665795894e-2f)); \
  for (int k = 0; k < NV; k++) e[k] = P##_fmadd_ps(e[k], r[k], P##_set1_ps(1.6666665459e-1f)); \
  for (int k = 0; k < NV; k++) e[k] = P##_fmadd_ps(e[k], r[k], P##_set1_ps(5.0000001201e-1f)); \
  for (int k = 0; k < NV; k++) {                                                        \
    e[k] = P##_add_ps(P##_fmadd_ps(e[k], P##_mul_ps(r[k], r[k]), r[k]), one);           \
    V qk = MASK_MUL(t[k], e[k], n[k], a[k]);                                            \
    q[k] = BLEND_NEG(x[k], P##_sub_ps(one, qk), qk);                                    \
  }


/* 8 lanes: e * 2^n through the exponent bits */
#define PHI8_MASK_MUL(t, e, n, a)                                                            \
  _mm256_and_ps(_mm256_cmp_ps(a, _mm256_set1_ps(13.0f), _CMP_LE_OQ),                         \
                _mm256_mul_ps(t, _mm256_mul_ps(e, _mm256_castsi256_ps(_mm256_slli_epi32(     \
                                      _mm256_add_epi32(_mm256_cvtps_epi32(n),                \
                                                       _mm256_set1_epi32(127)), 23)))))
#define PHI8_ABS(x) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x)
#define PHI8_BLEND_NEG(x, pos, neg) \
  _mm256_blendv_ps(pos, neg, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ))

/* 16 lanes: scalef multiplies by 2^n with the same rounding */
#define PHI16_MASK_MUL(t, e, n, a) \
  _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(13.0f), _CMP_LE_OQ), t, _mm512_scalef_ps(e, n))
#define PHI16_BLEND_NEG(x, pos, neg) \
  _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), pos, neg)

/* NAME##NV: q[k] = Phi(x[k]) for k < NV (1 or 4, a constant) */
#define HY_PHI_N(ATTR, NAME, V, P, ABS, MASK_MUL, BLEND_NEG, NV)                                \
  ATTR static inline __attribute__((always_inline)) void NAME##NV(const V x[NV], V q[NV],    \
                                                                  V nh[NV], V nl[NV]) {      \
    HY_PHI_BODY(V, P, ABS, MASK_MUL, BLEND_NEG, NV)                                          \
  }
HY_PHI_N(HY_V8FMA, hy_v8phi, __m256, _mm256, PHI8_ABS, PHI8_MASK_MUL, PHI8_BLEND_NEG, 1)
HY_PHI_N(HY_V8FMA, hy_v8phi, __m256, _mm256, PHI8_ABS, PHI8_MASK_MUL, PHI8_BLEND_NEG, 4)
HY_PHI_N(HY_V16, hy_v16phi, __m512, _mm512, _mm512_abs_ps, PHI16_MASK_MUL, PHI16_BLEND_NEG, 1)
HY_PHI_N(HY_V16, hy_v16phi, __m512, _mm512, _mm512_abs_ps, PHI16_MASK_MUL, PHI16_BLEND_NEG, 4)

#endif
