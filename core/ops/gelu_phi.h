/* Phi(x), the normal CDF, at 16 lanes (AVX-512), for kernels that apply
 * GELU in registers (activation.c, mlp.c): lane for lane what activation.c's
 * 8-lane and scalar GELU compute. *hi + *lo = x^2 / 2, for the pdf. */
#pragma once

#include "vecmath.h"

#if HY_HAVE_V8FMA
HY_V16 static inline __m512 hy_v16phi(__m512 x, __m512 *hi, __m512 *lo) {
  __m512 a = _mm512_abs_ps(x);
  __m512 z = _mm512_mul_ps(a, _mm512_set1_ps(0.70710678118654752f));
  __m512 one = _mm512_set1_ps(1.0f);
  __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.5f), z, one));
  __m512 t2 = _mm512_mul_ps(t, t), t4 = _mm512_mul_ps(t2, t2), t8 = _mm512_mul_ps(t4, t4);
  __m512 p98 = _mm512_fmadd_ps(_mm512_set1_ps(0.17087277f), t, _mm512_set1_ps(-0.82215223f));
  __m512 p76 = _mm512_fmadd_ps(_mm512_set1_ps(1.48851587f), t, _mm512_set1_ps(-1.13520398f));
  __m512 p54 = _mm512_fmadd_ps(_mm512_set1_ps(0.27886807f), t, _mm512_set1_ps(-0.18628806f));
  __m512 p32 = _mm512_fmadd_ps(_mm512_set1_ps(0.09678418f), t, _mm512_set1_ps(0.37409196f));
  __m512 p10 = _mm512_fmadd_ps(_mm512_set1_ps(1.00002368f), t, _mm512_set1_ps(-1.26551223f));
  __m512 p74 = _mm512_fmadd_ps(p76, t2, p54), p30 = _mm512_fmadd_ps(p32, t2, p10);
  __m512 p = _mm512_fmadd_ps(p98, t8, _mm512_fmadd_ps(p74, t4, p30));
  __m512 ah = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0xFFFFF000u)));
  __m512 al = _mm512_sub_ps(a, ah), half = _mm512_set1_ps(0.5f);
  *hi = _mm512_mul_ps(half, _mm512_mul_ps(ah, ah));
  *lo = _mm512_mul_ps(half, _mm512_mul_ps(al, _mm512_add_ps(a, ah)));
  __m512 q = _mm512_mul_ps(_mm512_mul_ps(half, t),
                           hy_v16expf2(_mm512_sub_ps(_mm512_setzero_ps(), *hi), _mm512_sub_ps(p, *lo)));
  __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(neg, _mm512_sub_ps(one, q), q);
}
#endif
