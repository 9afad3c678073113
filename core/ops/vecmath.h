/* Small branch-free helpers for the elementwise and reduction kernels of
 * core/ops. Without -ffast-math GCC neither vectorises libm's expf nor
 * reorders a float sum, so the kernels use these: an exp built from plain
 * arithmetic, and sums with 8 explicit lanes (a fixed order, so the result
 * does not depend on the machine's vector width). */
#pragma once

#include <stdint.h>
#include <string.h>

/* For the few hot loops: an AVX2 clone picked at load time, plain x86-64
 * otherwise (no -march=native in shipped builds). */
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
