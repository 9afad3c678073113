/* Gaussian targets and peak decoding: round trips at sub-pixel positions
 * (edges included), the truncated patch, points off the map, the fallback
 * fit, coarse-to-fine search ignoring a spurious far peak, and the search
 * window. */
#include <math.h>

#include "hyatt.h"
#include "testutil.h"

enum { H = 40, W = 33 };

static void test_round_trip(void) {
  static const float sigmas[] = {1.0f, 2.0f, 2.5f, 4.0f};
  static const float fixed[][2] = {
      {16.0f, 20.0f}, {0.3f, 0.2f}, {-0.4f, 39.45f}, {32.4f, -0.3f},
      {1.2f, 38.6f}, {31.7f, 1.49f}, {12.5f, 7.51f}};
  tu_rng r = tu_rng_new(11);
  float *maps = g_new(float, 2 * H * W);
  for (size_t s = 0; s < G_N_ELEMENTS(sigmas); s++)
    for (int i = 0; i < 40; i++) {
      float pts[4];
      if (i < (int)G_N_ELEMENTS(fixed)) {
        pts[0] = fixed[i][0];
        pts[1] = fixed[i][1];
      } else {
        pts[0] = (float)(tu_uniform(&r) * (W - 0.1) - 0.45);
        pts[1] = (float)(tu_uniform(&r) * (H - 0.1) - 0.45);
      }
      /* a second plane, mirrored, checks that the planes stay apart */
      pts[2] = (W - 1) - pts[0];
      pts[3] = (H - 1) - pts[1];
      float inside[2];
      hy_heatmap_render(maps, inside, pts, sigmas[s], 2, H, W);
      hy_peak pk[2];
      hy_heatmap_decode(pk, maps, 2, H, W);
      for (int k = 0; k < 2; k++) {
        g_assert_cmpfloat(inside[k], ==, 1.0f);
        double ex = fabs(pk[k].x - pts[2 * k]), ey = fabs(pk[k].y - pts[2 * k + 1]);
        if (!(ex < 0.05 && ey < 0.05))
          g_error("sigma %g: point (%.4f, %.4f) decoded at (%.4f, %.4f)", sigmas[s],
                  pts[2 * k], pts[2 * k + 1], pk[k].x, pk[k].y);
        double d2 = pow(floor(pts[2 * k] + 0.5) - pts[2 * k], 2) +
                    pow(floor(pts[2 * k + 1] + 0.5) - pts[2 * k + 1], 2);
        g_assert_cmpfloat_with_epsilon(pk[k].value,
                                       exp(-d2 / (2.0 * sigmas[s] * sigmas[s])), 1e-6);
      }
    }
  g_free(maps);
}

static void test_truncation(void) {
  static const struct {
    float sigma;
    int r;
  } cases[] = {{2.0f, 6}, {4.0f, 12}, {2.5f, 7}, {1.0f, 3}};
  float *m = g_new(float, H * W);
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    float sigma = cases[c].sigma;
    int r = cases[c].r;
    const float pt[2] = {16.4f, 19.6f}; /* rounded centre (16, 20) */
    for (int i = 0; i < H * W; i++) m[i] = 7.0f; /* render overwrites */
    hy_heatmap_render(m, NULL, pt, sigma, 1, H, W);
    int nonzero = 0;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        float v = m[y * W + x];
        int in = abs(x - 16) <= r && abs(y - 20) <= r;
        double want = in ? exp(-(pow(x - pt[0], 2) + pow(y - pt[1], 2)) /
                               (2.0 * sigma * sigma))
                         : 0.0;
        if (fabs(v - want) > 1e-7)
          g_error("sigma %g: pixel (%d, %d) is %g, expected %g", sigma, x, y, v, want);
        nonzero += v != 0.0f;
      }
    g_assert_cmpint(nonzero, ==, (2 * r + 1) * (2 * r + 1));
  }
  /* a centre on a pixel peaks at exactly 1 */
  hy_heatmap_render(m, NULL, (const float[]){5.0f, 6.0f}, 2.0f, 1, H, W);
  g_assert_cmpfloat(m[6 * W + 5], ==, 1.0f);
  g_free(m);
}

static void test_off_map(void) {
  const float pts[][2] = {{-0.6f, 5.0f}, {W - 0.5f, 5.0f}, {4.0f, -3.0f},
                          {4.0f, H + 100.0f}, {NAN, 5.0f}, {4.0f, INFINITY},
                          {1e30f, 2.0f}, {-0.49f, H - 0.51f}};
  enum { K = G_N_ELEMENTS(pts) };
  float *maps = g_new(float, K * H * W);
  float inside[K];
  hy_heatmap_render(maps, inside, &pts[0][0], 2.0f, K, H, W);
  for (int k = 0; k < K; k++) {
    float sum = 0;
    for (int i = 0; i < H * W; i++) sum += maps[k * H * W + i];
    int want_inside = k == K - 1;
    g_assert_cmpfloat(inside[k], ==, want_inside ? 1.0f : 0.0f);
    if (want_inside) g_assert_cmpfloat(sum, >, 1.0f);
    else g_assert_cmpfloat(sum, ==, 0.0f);
  }
  g_free(maps);
}

static void test_fallback_fit(void) {
  /* non-positive neighbours: the parabola goes through the raw values */
  float m[3 * 5] = {0};
  m[1 * 5 + 1] = 0.5f;
  m[1 * 5 + 2] = 1.0f;
  m[1 * 5 + 3] = -0.1f;
  hy_peak pk;
  hy_heatmap_decode(&pk, m, 1, 3, 5);
  g_assert_cmpfloat_with_epsilon(pk.x, 2.0 - 0.1875, 1e-6);
  g_assert_cmpfloat(pk.y, ==, 1.0f); /* 0, 1, 0 vertically: symmetric */
  g_assert_cmpfloat(pk.value, ==, 1.0f);
  /* a flat plane keeps the first pixel */
  float flat[4 * 4];
  for (int i = 0; i < 16; i++) flat[i] = 0.25f;
  hy_heatmap_decode(&pk, flat, 1, 4, 4);
  g_assert_cmpfloat(pk.x, ==, 0.0f);
  g_assert_cmpfloat(pk.y, ==, 0.0f);
  /* an axis shorter than 3 pixels keeps the integer position */
  float row[2] = {0.2f, 0.9f};
  hy_heatmap_decode(&pk, row, 1, 1, 2);
  g_assert_cmpfloat(pk.x, ==, 1.0f);
  g_assert_cmpfloat(pk.y, ==, 0.0f);
}

static void test_coarse_to_fine(void) {
  enum { FH = 64, FW = 52 };
  float *fine = g_new(float, FH * FW), *spur = g_new(float, FH * FW);
  const float truth[2] = {20.3f, 30.7f}, far[2] = {44.0f, 6.0f};
  hy_heatmap_render(fine, NULL, truth, 2.0f, 1, FH, FW);
  hy_heatmap_render(spur, NULL, far, 2.0f, 1, FH, FW);
  for (int i = 0; i < FH * FW; i++) fine[i] = 0.6f * fine[i] + 0.9f * spur[i];

  hy_peak global;
  hy_heatmap_decode(&global, fine, 1, FH, FW);
  g_assert_cmpfloat(fabs(global.x - far[0]), <, 0.05);
  g_assert_cmpfloat(fabs(global.y - far[1]), <, 0.05);

  /* the coarse head's estimate, already mapped to this head: one pixel off */
  const float centre[2] = {truth[0] + 1.0f, truth[1] - 0.8f};
  hy_peak near;
  hy_heatmap_decode_near(&near, fine, centre, 4, 1, FH, FW);
  if (!(fabs(near.x - truth[0]) < 0.05 && fabs(near.y - truth[1]) < 0.05))
    g_error("coarse to fine found (%.3f, %.3f), expected (%.1f, %.1f)", near.x,
            near.y, truth[0], truth[1]);
  g_assert_cmpfloat(near.value, ==, fine[31 * FW + 20]);

  /* radius 0 returns the centre pixel's own neighbourhood fit */
  hy_heatmap_decode_near(&near, fine, centre, 0, 1, FH, FW);
  g_assert_cmpfloat(fabs(near.x - 21.0f), <=, 1.0f);
  g_assert_cmpfloat(fabs(near.y - 30.0f), <=, 1.0f);

  /* a window that does not reach the spurious peak ignores it, one that
   * does finds it */
  const float by_far[2] = {far[0] - 5.0f, far[1]};
  hy_heatmap_decode_near(&near, fine, by_far, 2, 1, FH, FW);
  g_assert_cmpfloat(near.x, <=, far[0] - 2.0f);
  hy_heatmap_decode_near(&near, fine, by_far, 5, 1, FH, FW);
  g_assert_cmpfloat(fabs(near.x - far[0]), <, 0.05);

  /* a centre far off the map searches the clipped border window;
   * a non-finite one falls back to the global search */
  const float off[2] = {-200.0f, 2e9f}, bad[2] = {NAN, 6.0f};
  hy_heatmap_decode_near(&near, fine, off, 3, 1, FH, FW);
  g_assert_cmpfloat(near.x, <=, 4.0f);
  g_assert_cmpfloat(near.y, >=, FH - 5.0f);
  hy_heatmap_decode_near(&near, fine, bad, 3, 1, FH, FW);
  g_assert_cmpfloat(fabs(near.x - far[0]), <, 0.05);
  g_free(fine);
  g_free(spur);
}

static void test_window(void) {
  enum { FH = 30, FW = 40 };
  float *m = g_new(float, FH * FW), *b = g_new(float, FH * FW);
  const float in[2] = {30.4f, 12.6f}, out[2] = {5.0f, 20.0f};
  hy_heatmap_render(m, NULL, in, 2.0f, 1, FH, FW);
  hy_heatmap_render(b, NULL, out, 2.0f, 1, FH, FW);
  for (int i = 0; i < FH * FW; i++) m[i] = 0.7f * m[i] + b[i];
  hy_peak pk;
  hy_heatmap_decode_window(&pk, m, 12, FW - 1, 0, FH - 1, 1, FH, FW);
  g_assert_cmpfloat(fabs(pk.x - in[0]), <, 0.05);
  g_assert_cmpfloat(fabs(pk.y - in[1]), <, 0.05);
  /* the whole map (clipped) finds the larger peak */
  hy_heatmap_decode_window(&pk, m, -5, FW + 5, -5, FH + 5, 1, FH, FW);
  g_assert_cmpfloat(fabs(pk.x - out[0]), <, 0.05);
  /* a window off the map is its nearest pixel; an inverted one its start */
  hy_heatmap_decode_window(&pk, m, FW + 3, FW + 9, 12, 12, 1, FH, FW);
  g_assert_cmpfloat(fabs(pk.x - (FW - 1)), <=, 1.0f);
  g_assert_cmpfloat(pk.value, ==, m[12 * FW + FW - 1]);
  hy_heatmap_decode_window(&pk, m, 20, 10, 3, 3, 1, FH, FW);
  g_assert_cmpfloat(pk.value, ==, m[3 * FW + 20]);
  g_free(m);
  g_free(b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/heatmap/round-trip", test_round_trip);
  g_test_add_func("/heatmap/truncation", test_truncation);
  g_test_add_func("/heatmap/off-map", test_off_map);
  g_test_add_func("/heatmap/fallback-fit", test_fallback_fit);
  g_test_add_func("/heatmap/coarse-to-fine", test_coarse_to_fine);
  g_test_add_func("/heatmap/window", test_window);
  return g_test_run();
}
