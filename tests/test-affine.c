/* Affine maps and resampling: algebra round trips, the letterbox, and the
 * pixel-centre convention shared by affine.c and resample.c (a blob warped
 * with an affine lands where the affine maps its centroid). */
#include <math.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static hy_affine random_affine(tu_rng *r) {
  for (;;) {
    hy_affine a;
    for (int i = 0; i < 6; i++) a.m[i] = (tu_uniform(r) * 2 - 1) * (i % 3 == 2 ? 500 : 2);
    if (fabs(a.m[0] * a.m[4] - a.m[1] * a.m[3]) > 0.1) return a;
  }
}

static void assert_affine_close(const hy_affine *a, const hy_affine *b, double tol) {
  for (int i = 0; i < 6; i++)
    if (fabs(a->m[i] - b->m[i]) > tol * (i % 3 == 2 ? 100 : 1))
      g_error("m[%d]: %.12g vs %.12g", i, a->m[i], b->m[i]);
}

static void test_compose_invert(void) {
  tu_rng r = tu_rng_new(1);
  hy_affine id = hy_affine_identity();
  hy_error err = {0};
  for (int t = 0; t < 200; t++) {
    hy_affine a = random_affine(&r), b = random_affine(&r), ai;
    g_assert_cmpint(hy_affine_invert(&ai, &a, &err), ==, HY_OK);
    hy_affine p = hy_affine_compose(&a, &ai), q = hy_affine_compose(&ai, &a);
    assert_affine_close(&p, &id, 1e-9);
    assert_affine_close(&q, &id, 1e-9);
    /* compose(a, b) applies a first. */
    hy_affine ab = hy_affine_compose(&a, &b);
    double x = tu_uniform(&r) * 100, y = tu_uniform(&r) * 100, x1, y1, x2, y2;
    hy_affine_apply(&a, x, y, &x1, &y1);
    hy_affine_apply(&b, x1, y1, &x1, &y1);
    hy_affine_apply(&ab, x, y, &x2, &y2);
    g_assert_cmpfloat(fabs(x1 - x2) + fabs(y1 - y2), <, 1e-9);
  }
}

static void test_builders(void) {
  double x, y;
  hy_affine r = hy_affine_rotate(G_PI / 6, 10, 20);
  hy_affine_apply(&r, 10, 20, &x, &y);
  g_assert_cmpfloat(fabs(x - 10) + fabs(y - 20), <, 1e-12);
  hy_affine_apply(&r, 11, 20, &x, &y);
  g_assert_cmpfloat(fabs(x - (10 + cos(G_PI / 6))) + fabs(y - (20 + sin(G_PI / 6))), <, 1e-12);
  hy_affine s = hy_affine_scale(2, 3, 5, 7);
  hy_affine_apply(&s, 5, 7, &x, &y);
  g_assert_cmpfloat(fabs(x - 5) + fabs(y - 7), <, 1e-12);
  hy_affine_apply(&s, 6, 8, &x, &y);
  g_assert_cmpfloat(fabs(x - 7) + fabs(y - 10), <, 1e-12);
  hy_affine t = hy_affine_translate(-3, 4);
  hy_affine_apply(&t, 1, 1, &x, &y);
  g_assert_cmpfloat(fabs(x + 2) + fabs(y - 5), <, 1e-12);
  /* Resizing maps the image's outer edges onto each other. */
  hy_affine z = hy_affine_resize(100, 50, 30, 40);
  hy_affine_apply(&z, -0.5, -0.5, &x, &y);
  g_assert_cmpfloat(fabs(x + 0.5) + fabs(y + 0.5), <, 1e-12);
  hy_affine_apply(&z, 99.5, 49.5, &x, &y);
  g_assert_cmpfloat(fabs(x - 29.5) + fabs(y - 39.5), <, 1e-12);
  hy_affine_apply(&z, 0, 0, &x, &y);
  g_assert_cmpfloat(fabs(x - (0.3 * 0.5 - 0.5)), <, 1e-12); /* s (x + 0.5) - 0.5 */
}

static void test_singular(void) {
  hy_error err = {0};
  hy_affine out = hy_affine_identity();
  hy_affine a = {{1, 2, 3, 2, 4, 5}};
  g_assert_cmpint(hy_affine_invert(&out, &a, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "singular"));
  g_assert_cmpfloat(out.m[0], ==, 1);
  hy_affine z = {{0}};
  g_assert_cmpint(hy_affine_invert(&out, &z, &err), ==, HY_E_ARG);
  hy_affine n = {{NAN, 0, 0, 0, 1, 0}};
  g_assert_cmpint(hy_affine_invert(&out, &n, &err), ==, HY_E_ARG);
  hy_affine tiny = hy_affine_scale(1e-6, 1e-6, 0, 0); /* tiny but regular */
  g_assert_cmpint(hy_affine_invert(&out, &tiny, &err), ==, HY_OK);
  g_assert_cmpfloat(fabs(out.m[0] - 1e6), <, 1e-3);
}

static void test_letterbox(void) {
  double s, x, y;
  hy_affine a = hy_affine_letterbox(1935, 2400, 416, 512, &s);
  g_assert_cmpfloat(fabs(s - 512.0 / 2400), <, 1e-15);
  /* The centre maps to the centre; the height fills; x margins are equal. */
  hy_affine_apply(&a, (1935 - 1) / 2.0, (2400 - 1) / 2.0, &x, &y);
  g_assert_cmpfloat(fabs(x - 207.5) + fabs(y - 255.5), <, 1e-9);
  double x0, y0, x1, y1;
  hy_affine_apply(&a, -0.5, -0.5, &x0, &y0);
  hy_affine_apply(&a, 1934.5, 2399.5, &x1, &y1);
  g_assert_cmpfloat(fabs(y0 + 0.5) + fabs(y1 - 511.5), <, 1e-9);
  g_assert_cmpfloat(fabs((x0 + 0.5) - (415.5 - x1)), <, 1e-9);
  g_assert_cmpfloat(x0, >, -0.5);
  g_assert_cmpfloat(fabs(x1 - x0 - s * 1935), <, 1e-9);
  /* A wide source fills the width instead. */
  a = hy_affine_letterbox(300, 100, 100, 100, &s);
  hy_affine_apply(&a, -0.5, -0.5, &x0, &y0);
  hy_affine_apply(&a, 299.5, 99.5, &x1, &y1);
  g_assert_cmpfloat(fabs(x0 + 0.5) + fabs(x1 - 99.5), <, 1e-9);
  g_assert_cmpfloat(fabs(y0 + 0.5 - (99.5 - y1)), <, 1e-9);

  /* Random landmarks: forward then inverse gives them back. */
  tu_rng r = tu_rng_new(3);
  hy_affine inv;
  hy_error err = {0};
  a = hy_affine_letterbox(1935, 2400, 416, 512, NULL);
  g_assert_cmpint(hy_affine_invert(&inv, &a, &err), ==, HY_OK);
  for (int i = 0; i < 1000; i++) {
    double px = tu_uniform(&r) * 1934, py = tu_uniform(&r) * 2399, qx, qy;
    hy_affine_apply(&a, px, py, &qx, &qy);
    g_assert_cmpfloat(qx, >=, -0.5);
    g_assert_cmpfloat(qx, <=, 415.5);
    hy_affine_apply(&inv, qx, qy, &qx, &qy);
    g_assert_cmpfloat(fabs(qx - px) + fabs(qy - py), <, 1e-4);
  }
}

/* ---- resampling --------------------------------------------------------- */

static hy_image blob(int w, int h, double bx, double by, double sigma) {
  hy_image im;
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&im, w, h, &err), ==, HY_OK);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double d2 = (x - bx) * (x - bx) + (y - by) * (y - by);
      im.pixels[(size_t)y * w + x] = (float)exp(-d2 / (2 * sigma * sigma));
    }
  return im;
}

static void centroid(const hy_image *im, double *cx, double *cy) {
  double s = 0, sx = 0, sy = 0;
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++) {
      double v = im->pixels[(size_t)y * im->width + x];
      s += v;
      sx += v * x;
      sy += v * y;
    }
  *cx = sx / s;
  *cy = sy / s;
}

/* Warps a blob and checks its centroid lands where the affine maps it. */
static void check_blob(const char *what, int sw, int sh, double bx, double by,
                       double sigma, const hy_affine *a, int dw, int dh,
                       double tol) {
  hy_image src = blob(sw, sh, bx, by, sigma), dst;
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&dst, dw, dh, &err), ==, HY_OK);
  gint64 t0 = g_get_monotonic_time();
  if (hy_image_warp(&dst, &src, a, 0.0f, &err) != HY_OK) g_error("%s", err.msg);
  gint64 t1 = g_get_monotonic_time();
  double cx, cy, wx, wy, gx, gy;
  centroid(&src, &cx, &cy);
  hy_affine_apply(a, cx, cy, &wx, &wy);
  centroid(&dst, &gx, &gy);
  g_test_message("%s: centroid (%.4f, %.4f), affine says (%.4f, %.4f); warp %dx%d -> %dx%d %.2f ms",
                 what, gx, gy, wx, wy, sw, sh, dw, dh, (t1 - t0) / 1000.0);
  if (fabs(gx - wx) > tol || fabs(gy - wy) > tol)
    g_error("%s: centroid (%.4f, %.4f) but the affine says (%.4f, %.4f)", what,
            gx, gy, wx, wy);
  hy_image_free(&src);
  hy_image_free(&dst);
}

static void test_blob_centroids(void) {
  hy_affine a = hy_affine_resize(400, 300, 90, 70); /* shrink ~4.4x */
  check_blob("resize down", 400, 300, 173.3, 121.6, 14, &a, 90, 70, 0.05);
  a = hy_affine_resize(400, 300, 190, 170); /* ~2x, anisotropic */
  check_blob("resize ~2x", 400, 300, 173.3, 121.6, 10, &a, 190, 170, 0.05);
  a = hy_affine_resize(60, 50, 150, 110); /* enlarge */
  check_blob("resize up", 60, 50, 27.7, 22.2, 3, &a, 150, 110, 0.05);

  hy_affine rot = hy_affine_rotate(0.5, 150, 120);
  hy_affine sc = hy_affine_scale(0.3, 0.3, 150, 120);
  hy_affine tr = hy_affine_translate(-80, -60);
  hy_affine rs = hy_affine_compose(&rot, &sc);
  a = hy_affine_compose(&rs, &tr);
  check_blob("rotate+shrink", 300, 260, 131.4, 140.2, 12, &a, 100, 90, 0.05);

  a = hy_affine_compose(&rot, &tr);
  check_blob("rotate", 300, 260, 131.4, 140.2, 4, &a, 200, 160, 0.05);

  /* The network input: 1935 x 2400 letterboxed into 416 x 512. */
  a = hy_affine_letterbox(1935, 2400, 416, 512, NULL);
  check_blob("letterbox", 1935, 2400, 1011.3, 1302.7, 40, &a, 416, 512, 0.05);
}

static void test_resize_centroid(void) {
  hy_image src = blob(400, 300, 173.3, 121.6, 14), dst;
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&dst, 90, 70, &err), ==, HY_OK);
  g_assert_cmpint(hy_image_resize(&dst, &src, &err), ==, HY_OK);
  hy_affine a = hy_affine_resize(400, 300, 90, 70);
  double cx, cy, wx, wy, gx, gy;
  centroid(&src, &cx, &cy);
  hy_affine_apply(&a, cx, cy, &wx, &wy);
  centroid(&dst, &gx, &gy);
  g_assert_cmpfloat(fabs(gx - wx) + fabs(gy - wy), <, 0.05);
  hy_image_free(&src);
  hy_image_free(&dst);
}

static void test_identity_and_shift(void) {
  hy_image src, dst;
  hy_error err = {0};
  tu_rng r = tu_rng_new(9);
  g_assert_cmpint(hy_image_new(&src, 41, 29, &err), ==, HY_OK);
  tu_fill(&r, src.pixels, 41 * 29, 0, 1);
  src.bit_depth = 16;
  g_assert_cmpint(hy_image_new(&dst, 41, 29, &err), ==, HY_OK);
  hy_affine id = hy_affine_identity();
  g_assert_cmpint(hy_image_warp(&dst, &src, &id, -1, &err), ==, HY_OK);
  g_assert_cmpmem(dst.pixels, 41 * 29 * sizeof(float), src.pixels, 41 * 29 * sizeof(float));
  g_assert_cmpint(dst.bit_depth, ==, 16);
  memset(dst.pixels, 0, 41 * 29 * sizeof(float));
  g_assert_cmpint(hy_image_resize(&dst, &src, &err), ==, HY_OK);
  g_assert_cmpmem(dst.pixels, 41 * 29 * sizeof(float), src.pixels, 41 * 29 * sizeof(float));

  /* One bright pixel, shifted by whole pixels, lands exactly; the uncovered
   * band gets the fill value. */
  memset(src.pixels, 0, 41 * 29 * sizeof(float));
  src.pixels[7 * 41 + 11] = 1;
  hy_affine t = hy_affine_translate(3, -2);
  g_assert_cmpint(hy_image_warp(&dst, &src, &t, -1, &err), ==, HY_OK);
  for (int y = 0; y < 29; y++)
    for (int x = 0; x < 41; x++) {
      float want = (x < 3 || y >= 27) ? -1.0f : (x == 14 && y == 5) ? 1.0f : 0.0f;
      g_assert_cmpfloat(dst.pixels[y * 41 + x], ==, want);
    }
  /* Half a pixel: the bright pixel splits evenly. */
  t = hy_affine_translate(0.5, 0);
  g_assert_cmpint(hy_image_warp(&dst, &src, &t, 0, &err), ==, HY_OK);
  g_assert_cmpfloat(fabs(dst.pixels[7 * 41 + 11] - 0.5), <, 1e-6);
  g_assert_cmpfloat(fabs(dst.pixels[7 * 41 + 12] - 0.5), <, 1e-6);

  hy_affine sing = {{1, 1, 0, 1, 1, 0}};
  g_assert_cmpint(hy_image_warp(&dst, &src, &sing, 0, &err), ==, HY_E_ARG);
  g_assert_cmpint(hy_image_warp(&src, &src, &id, 0, &err), ==, HY_E_ARG);
  hy_image empty = {0};
  g_assert_cmpint(hy_image_warp(&empty, &src, &id, 0, &err), ==, HY_E_ARG);
  hy_image_free(&src);
  hy_image_free(&dst);
}

/* A one-pixel checkerboard shrunk 4.7x must come out nearly flat grey:
 * plain bilinear sampling would give an alias pattern of 0s and 1s. */
static void test_no_aliasing(void) {
  hy_image src, dst;
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&src, 1935, 2400, &err), ==, HY_OK);
  for (int y = 0; y < 2400; y++)
    for (int x = 0; x < 1935; x++) src.pixels[(size_t)y * 1935 + x] = (float)((x + y) & 1);
  g_assert_cmpint(hy_image_new(&dst, 412, 512, &err), ==, HY_OK);
  g_assert_cmpint(hy_image_resize(&dst, &src, &err), ==, HY_OK);
  double lo = 1, hi = 0;
  for (int i = 0; i < 412 * 512; i++) {
    lo = fmin(lo, dst.pixels[i]);
    hi = fmax(hi, dst.pixels[i]);
  }
  g_test_message("checkerboard shrunk: range [%.3f, %.3f]", lo, hi);
  g_assert_cmpfloat(lo, >, 0.4);
  g_assert_cmpfloat(hi, <, 0.6);
  hy_image_free(&src);
  hy_image_free(&dst);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/affine/compose-invert", test_compose_invert);
  g_test_add_func("/affine/builders", test_builders);
  g_test_add_func("/affine/singular", test_singular);
  g_test_add_func("/affine/letterbox", test_letterbox);
  g_test_add_func("/resample/identity-and-shift", test_identity_and_shift);
  g_test_add_func("/resample/blob-centroids", test_blob_centroids);
  g_test_add_func("/resample/resize-centroid", test_resize_centroid);
  g_test_add_func("/resample/no-aliasing", test_no_aliasing);
  return g_test_run();
}
