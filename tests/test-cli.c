/* The `hyatt` executable (path in $HYATT_BIN): version, help, `hyatt show`
 * on a generated image (landmark files and an annotation) and on ISBI
 * 001.jpg, its one-line errors with exit status 1 (failure) or 2 (bad
 * command line), and `hyatt bench`'s table without the peak. */
#include <cairo.h>
#include <math.h>
#include <string.h>

#include "annotation.h"
#include "clitest.h"
#include "hyatt.h"
#include "testutil.h"

static void test_version(void) {
  ct_result r = ct_run("--version", NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.out, ==, "hyatt 0.1.0\n");
  ct_result_clear(&r);
}

static void test_help(void) {
  ct_result r = ct_run("--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "show"));
  g_assert_nonnull(strstr(r.out, "--version"));
  ct_result_clear(&r);

  r = ct_run("show", "--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "hyatt show"));
  g_assert_nonnull(strstr(r.out, "--landmarks"));
  g_assert_nonnull(strstr(r.out, "--out"));
  g_assert_nonnull(strstr(r.out, "--max-size"));
  ct_result_clear(&r);
}

/* `hyatt bench` without the peak measurement: its table says n/a where the
 * percentages of the peak would be (it printed "inf %"); no timing is
 * checked. */
static void test_bench_no_peak(void) {
  ct_result r = ct_run("bench", "infer", "--no-peak", "--reps", "1", "--threads", "1", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "small network, inference plan"));
  g_assert_nonnull(strstr(r.out, "n/a |"));
  g_assert_null(strstr(r.out, "inf %"));
  ct_result_clear(&r);
}

static void test_usage_errors(void) {
  ct_result r = ct_run("frobnicate", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt: ", "unknown command 'frobnicate'");
  ct_result_clear(&r);

  r = ct_run("--frobnicate", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt: ", "unknown option '--frobnicate'");
  ct_result_clear(&r);

  r = ct_run(NULL);
  ct_assert_status(&r, 2);
  ct_result_clear(&r);

  r = ct_run("show", "--bogus", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt show: ", "--bogus");
  ct_result_clear(&r);

  r = ct_run("show", "a.png", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt show: ", "--out");
  ct_result_clear(&r);

  r = ct_run("show", "--out", "x.png", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt show: ", "IMAGE");
  ct_result_clear(&r);
}

/* Output of size w x h, with a strongly coloured pixel within radius of
 * (x, y) in output pixels. */
static void assert_overlay(const char *png, int w, int h, double x, double y, int radius) {
  hy_image img = {0};
  hy_error err = {0};
  if (hy_image_load(&img, png, &err)) g_error("%s", err.msg);
  g_assert_cmpint(img.width, ==, w);
  g_assert_cmpint(img.height, ==, h);
  hy_image_free(&img);

  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  const unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  int coloured = 0;
  for (int py = (int)y - radius; py <= (int)y + radius; py++)
    for (int px = (int)x - radius; px <= (int)x + radius; px++) {
      if (px < 0 || py < 0 || px >= w || py >= h) continue;
      guint32 v = *(const guint32 *)(const void *)(data + py * stride + px * 4);
      int r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
      coloured += MAX(MAX(r, g), b) - MIN(MIN(r, g), b) > 100;
    }
  cairo_surface_destroy(s);
  if (coloured < 3)
    g_error("%s: no coloured marker near (%.0f, %.0f)", png, x, y);
}

static void test_show(void) {
  char *image = ct_write_png("scan.png", 240, 160, 0);
  char *csv = tu_write_tmp("marks.csv", "image,split,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y\n"
                                        "other,train,1,1,2,2,3,3\n"
                                        "scan,train,40,30,200,40,120,130\n", -1);
  char *txt = tu_write_tmp("marks.txt", "44,34\n196,44\n118,126\n7\n", -1);
  char *out = g_build_filename(tu_tmpdir(), "overlay.png", NULL);

  /* default row: the image name without extension */
  ct_result r = ct_run("show", image, "--landmarks", csv, "--out", out, NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  ct_result_clear(&r);
  assert_overlay(out, 240, 160, 40.5, 30.5, 3);
  assert_overlay(out, 240, 160, 120.5, 130.5, 3);

  /* two sets, an explicit row, the text file with a trailing label line, shrunk */
  char *spec = g_strdup_printf("%s:scan", csv);
  r = ct_run("show", image, "--landmarks", spec, "--landmarks", txt, "--max-size", "120",
             "--out", out, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  assert_overlay(out, 120, 80, 100.25, 20.25, 3);

  g_free(spec);
  g_free(out);
  g_free(txt);
  g_free(csv);
  g_free(image);
}

/* A saved annotation: its placed landmarks are drawn, absent ones are not
 * (and are not "outside the image"); one for another image size is refused. */
static void test_show_annotation(void) {
  char *image = ct_write_png("annotated.png", 240, 160, 0);
  char *json = g_strconcat(image, ".hyatt.json", NULL);
  char *plain = g_build_filename(tu_tmpdir(), "annotated.ann", NULL);
  char *out = g_build_filename(tu_tmpdir(), "annotated-overlay.png", NULL);
  HyAnnotation *a = hy_annotation_new("annotated.png", 240, 160, "tri", 3);
  static const double xy[3][2] = {{40, 30}, {200, 40}, {120, 130}};
  static const HyLandmarkState states[3] = {HY_LANDMARK_PREDICTED, HY_LANDMARK_CONFIRMED,
                                            HY_LANDMARK_ABSENT};
  GError *error = NULL;
  for (int i = 0; i < 3; i++) {
    a->points[i].state = states[i];
    a->points[i].x = states[i] == HY_LANDMARK_ABSENT ? NAN : xy[i][0];
    a->points[i].y = states[i] == HY_LANDMARK_ABSENT ? NAN : xy[i][1];
  }
  g_assert_true(hy_annotation_save(a, json, &error));
  g_assert_true(hy_annotation_save(a, plain, &error));
  g_assert_no_error(error);

  ct_result r = ct_run("show", image, "--landmarks", json, "--out", out, NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  ct_result_clear(&r);
  assert_overlay(out, 240, 160, 40.5, 30.5, 3);
  assert_overlay(out, 240, 160, 200.5, 40.5, 3);

  /* --annotation takes it whatever its name, beside a landmark file */
  char *txt = tu_write_tmp("annotated.txt", "44,34\n196,44\n118,126\n", -1);
  r = ct_run("show", image, "--annotation", plain, "--landmarks", txt, "--out", out, NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  ct_result_clear(&r);
  assert_overlay(out, 240, 160, 118.5, 126.5, 3);

  /* an annotation has no rows; one of another image size is not this one's */
  char *spec = g_strdup_printf("%s:001", json);
  r = ct_run("show", image, "--landmarks", spec, "--out", out, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "no rows to choose with ':001'");
  ct_result_clear(&r);
  a->width = 300;
  g_assert_true(hy_annotation_save(a, json, &error));
  r = ct_run("show", image, "--annotation", json, "--out", out, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "is for a 300 \xC3\x97 160 image, this one is 240 \xC3\x97 160");
  ct_result_clear(&r);

  hy_annotation_free(a);
  g_free(spec);
  g_free(txt);
  g_free(out);
  g_free(plain);
  g_free(json);
  g_free(image);
}

static void test_show_errors(void) {
  char *image = ct_write_png("err.png", 64, 48, 0);
  char *csv = tu_write_tmp("err.csv", "image,l1_x,l1_y,l2_x,l2_y\nerr,1,2,3,4\n", -1);
  char *csv3 = tu_write_tmp("err3.csv", "image,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y\nerr,1,2,3,4,5,6\n", -1);
  char *bad = tu_write_tmp("bad.csv", "image,l1_x,l1_y\nerr,1,zz\n", -1);
  char *out = g_build_filename(tu_tmpdir(), "err-out.png", NULL);
  char *spec = g_strdup_printf("%s:007", csv);
  char *missing = g_build_filename(tu_tmpdir(), "missing.csv", NULL);
  char *no_dir = g_build_filename(tu_tmpdir(), "no-such-folder", "o.png", NULL);

  ct_result r = ct_run("show", image, "--landmarks", spec, "--out", out, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "no row '007' in ");
  ct_result_clear(&r);

  r = ct_run("show", image, "--landmarks", missing, "--out", out, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "missing.csv");
  ct_result_clear(&r);

  r = ct_run("show", image, "--landmarks", bad, "--out", out, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "bad.csv:2: column 3 (l1_y): 'zz' is not a number");
  ct_result_clear(&r);

  r = ct_run("show", image, "--landmarks", csv, "--landmarks", csv3, "--out", out, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "landmark counts differ");
  ct_result_clear(&r);

  r = ct_run("show", image, "--landmarks", csv, "--out", no_dir, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "does not exist");
  ct_result_clear(&r);

  r = ct_run("show", csv, "--landmarks", csv, "--out", out, NULL); /* not an image */
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt show: ", "err.csv");
  ct_result_clear(&r);

  r = ct_run("show", image, "--landmarks", csv, "--max-size", "3", "--out", out, NULL);
  ct_assert_status(&r, 2);
  ct_result_clear(&r);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

  g_free(no_dir);
  g_free(missing);
  g_free(spec);
  g_free(out);
  g_free(bad);
  g_free(csv3);
  g_free(csv);
  g_free(image);
}

/* Both ISBI annotators on 001.jpg, shrunk to keep the test short. */
static void test_show_isbi(void) {
  const char *data = tu_shared_data();
  char *image = data ? g_build_filename(data, "isbi2015", "images", "001.jpg", NULL) : NULL;
  if (!image || !g_file_test(image, G_FILE_TEST_EXISTS)) {
    g_test_skip("ISBI 2015 data not found");
    g_free(image);
    return;
  }
  char *senior = g_build_filename(data, "isbi2015", "senior_px.csv", NULL);
  char *junior = g_build_filename(data, "isbi2015", "junior_px.csv", NULL);
  char *s_spec = g_strdup_printf("%s:001", senior);
  char *j_spec = g_strdup_printf("%s:001", junior);
  char *out = g_build_filename(tu_tmpdir(), "isbi-001.png", NULL);
  ct_result r = ct_run("show", image, "--landmarks", s_spec, "--landmarks", j_spec,
                       "--max-size", "600", "--out", out, NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  ct_result_clear(&r);
  /* 1935 x 2400 -> 484 x 600; sella of the senior annotator at (835, 996) */
  double s = 600.0 / 2400.0;
  assert_overlay(out, 484, 600, (835 + 0.5) * s, (996 + 0.5) * s, 4);
  g_free(out);
  g_free(j_spec);
  g_free(s_spec);
  g_free(junior);
  g_free(senior);
  g_free(image);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/version", test_version);
  g_test_add_func("/cli/help", test_help);
  g_test_add_func("/cli/usage-errors", test_usage_errors);
  g_test_add_func("/cli/bench-no-peak", test_bench_no_peak);
  g_test_add_func("/cli/show", test_show);
  g_test_add_func("/cli/show-annotation", test_show_annotation);
  g_test_add_func("/cli/show-errors", test_show_errors);
  g_test_add_func("/cli/show-isbi", test_show_isbi);
  return g_test_run();
}
