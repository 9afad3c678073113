#include "heatmap.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* x rounded to the nearest pixel and clamped to [lo, hi] without passing a
 * huge value through an int conversion. */
static int round_clamp(double x, int lo, int hi) {
  double r = floor(x + 0.5);
  if (!(r >= lo)) return lo;
  if (r > hi) return hi;
  return (int)r;
}

void hy_heatmap_render(float *maps, float *inside, const float *points,
                       float sigma, int K, int H, int W) {
  size_t plane = (size_t)H * W;
  memset(maps, 0, (size_t)K * plane * sizeof *maps);
  double inv = 1.0 / (2.0 * (double)sigma * sigma);
  double rr = floor(3.0 * (double)sigma);
  int r = rr < (double)H + W ? (int)rr : H + W;
  for (int k = 0; k < K; k++) {
    double x = points[2 * k], y = points[2 * k + 1];
    double fx = floor(x + 0.5), fy = floor(y + 0.5);
    /* also false for NaN and Inf */
    int in = fx >= 0 && fx <= W - 1 && fy >= 0 && fy <= H - 1;
    if (inside) inside[k] = in ? 1.0f : 0.0f;
    if (!in) continue;
    int cx = (int)fx, cy = (int)fy;
    int x0 = cx - r > 0 ? cx - r : 0, x1 = cx + r < W - 1 ? cx + r : W - 1;
    int y0 = cy - r > 0 ? cy - r : 0, y1 = cy + r < H - 1 ? cy + r : H - 1;
    float *m = maps + (size_t)k * plane;
    for (int Y = y0; Y <= y1; Y++) {
      double dy2 = (Y - y) * (Y - y);
      for (int X = x0; X <= x1; X++)
        m[(size_t)Y * W + X] = (float)exp(-((X - x) * (X - x) + dy2) * inv);
    }
  }
}

/* Row-major index of the largest value in the window [x0, x1] × [y0, y1];
 * the window's first pixel when nothing beats -Inf (all NaN). */
static size_t argmax_window(const float *m, int W, int x0, int x1, int y0,
                            int y1) {
  size_t best = (size_t)y0 * W + x0;
  float v = -INFINITY;
  for (int Y = y0; Y <= y1; Y++)
    for (int X = x0; X <= x1; X++) {
      size_t i = (size_t)Y * W + X;
      if (m[i] > v) {
        v = m[i];
        best = i;
      }
    }
  return best;
}

/* Sub-pixel position along one axis of the line through the peak `at`
 * (samples line[i * stride], i in [0, len)). */
static float refine_axis(const float *line, ptrdiff_t stride, int len, int at) {
  if (len < 3) return (float)at;
  int c = at < 1 ? 1 : at > len - 2 ? len - 2 : at;
  double a = line[(c - 1) * stride], b = line[c * stride], d = line[(c + 1) * stride];
  if (a > 0 && b > 0 && d > 0) {
    /* a Gaussian's log is a parabola: its vertex is the exact centre */
    a = log(a);
    b = log(b);
    d = log(d);
  }
  double den = a - 2 * b + d;
  if (!(den < 0)) return (float)at; /* flat, convex or NaN */
  double pos = c + 0.5 * (a - d) / den;
  if (pos < at - 1) pos = at - 1;
  if (pos > at + 1) pos = at + 1;
  if (pos < -0.5) pos = -0.5;
  if (pos > len - 0.5) pos = len - 0.5;
  return (float)pos;
}

static hy_peak refine(const float *m, int H, int W, size_t at) {
  int X = (int)(at % (size_t)W), Y = (int)(at / (size_t)W);
  return (hy_peak){
      .x = refine_axis(m + (size_t)Y * W, 1, W, X),
      .y = refine_axis(m + X, W, H, Y),
      .value = m[at],
  };
}

void hy_heatmap_decode(hy_peak *peaks, const float *maps, int K, int H, int W) {
  size_t plane = (size_t)H * W;
  for (int k = 0; k < K; k++) {
    const float *m = maps + (size_t)k * plane;
    peaks[k] = refine(m, H, W, argmax_window(m, W, 0, W - 1, 0, H - 1));
  }
}

/* [lo, hi] clipped to [0, n - 1], and non-empty. */
static void clip_range(int *lo, int *hi, int n) {
  *lo = *lo < 0 ? 0 : *lo > n - 1 ? n - 1 : *lo;
  *hi = *hi < *lo ? *lo : *hi > n - 1 ? n - 1 : *hi;
}

void hy_heatmap_decode_window(hy_peak *peaks, const float *maps, int x0, int x1,
                              int y0, int y1, int K, int H, int W) {
  size_t plane = (size_t)H * W;
  clip_range(&x0, &x1, W);
  clip_range(&y0, &y1, H);
  for (int k = 0; k < K; k++) {
    const float *m = maps + (size_t)k * plane;
    peaks[k] = refine(m, H, W, argmax_window(m, W, x0, x1, y0, y1));
  }
}

void hy_heatmap_decode_near(hy_peak *peaks, const float *maps,
                            const float *centres, int radius, int K, int H,
                            int W) {
  size_t plane = (size_t)H * W;
  if (radius > H + W) radius = H + W; /* no int overflow below */
  for (int k = 0; k < K; k++) {
    const float *m = maps + (size_t)k * plane;
    double x = centres[2 * k], y = centres[2 * k + 1];
    size_t at;
    if (isfinite(x) && isfinite(y)) {
      int cx = round_clamp(x, 0, W - 1), cy = round_clamp(y, 0, H - 1);
      int x0 = cx - radius > 0 ? cx - radius : 0;
      int x1 = cx + radius < W - 1 ? cx + radius : W - 1;
      int y0 = cy - radius > 0 ? cy - radius : 0;
      int y1 = cy + radius < H - 1 ? cy + radius : H - 1;
      at = argmax_window(m, W, x0, x1, y0, y1);
    } else {
      at = argmax_window(m, W, 0, W - 1, 0, H - 1);
    }
    peaks[k] = refine(m, H, W, at);
  }
}
