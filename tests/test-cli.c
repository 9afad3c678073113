/* The `hyatt` executable (path in $HYATT_BIN): version, help, `hyatt show`
 * on a generated image and on ISBI 001.jpg, and its one-line errors with
 * exit status 1 (failure) or 2 (bad command line). */
#include <cairo.h>
#include <string.h>
#include <sys/wait.h>

#include "hyatt.h"
#include "testutil.h"

typedef struct run_result {
  int status; /* exit status, or -1 if killed */
  char *out;
  char *err;
} run_result;

static void run_result_clear(run_result *r) {
  g_free(r->out);
  g_free(r->err);
}

/* Runs hyatt with the NULL-terminated arguments. */
static run_result run(const char *first, ...) {
  const char *bin = g_getenv("HYATT_BIN");
  if (!bin) g_error("HYATT_BIN is not set: run this test through meson test");
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)bin);
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(argv, (char *)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  run_result r = {0};
  int wait_status = 0;
  GError *error = NULL;
  char **env = g_environ_setenv(g_get_environ(), "LC_ALL", "C.UTF-8", TRUE);
  if (!g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
                    &r.err, &wait_status, &error))
    g_error("cannot run %s: %s", bin, error->message);
  g_strfreev(env);
  g_ptr_array_free(argv, TRUE);
  r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  return r;
}

static void assert_status(const run_result *r, int status) {
  if (r->status != status)
    g_error("exit status %d, expected %d; stdout: '%s'; stderr: '%s'", r->status, status,
            r->out, r->err);
}

/* stderr is exactly one line that starts with prefix and contains words. */
static void assert_one_line_error(const run_result *r, const char *prefix, const char *words) {
  const char *nl = strchr(r->err, '\n');
  if (!g_str_has_prefix(r->err, prefix) || !strstr(r->err, words) || !nl || nl[1])
    g_error("stderr '%s' is not one line starting '%s' with '%s'", r->err, prefix, words);
}

static void test_version(void) {
  run_result r = run("--version", NULL);
  assert_status(&r, 0);
  g_assert_cmpstr(r.out, ==, "hyatt 0.1.0\n");
  run_result_clear(&r);
}

static void test_help(void) {
  run_result r = run("--help", NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "show"));
  g_assert_nonnull(strstr(r.out, "--version"));
  run_result_clear(&r);

  r = run("show", "--help", NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "hyatt show"));
  g_assert_nonnull(strstr(r.out, "--landmarks"));
  g_assert_nonnull(strstr(r.out, "--out"));
  g_assert_nonnull(strstr(r.out, "--max-size"));
  run_result_clear(&r);
}

static void test_usage_errors(void) {
  run_result r = run("frobnicate", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt: ", "unknown command 'frobnicate'");
  run_result_clear(&r);

  r = run("--frobnicate", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt: ", "unknown option '--frobnicate'");
  run_result_clear(&r);

  r = run(NULL);
  assert_status(&r, 2);
  run_result_clear(&r);

  r = run("show", "--bogus", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt show: ", "--bogus");
  run_result_clear(&r);

  r = run("show", "a.png", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt show: ", "--out");
  run_result_clear(&r);

  r = run("show", "--out", "x.png", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt show: ", "IMAGE");
  run_result_clear(&r);
}

/* A 240 x 160 grey gradient as tmp/NAME.png, and landmark files for it. */
static char *make_image(const char *name, int w, int h) {
  hy_image img = {0};
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&img, w, h, &err), ==, HY_OK);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) img.pixels[y * w + x] = 0.2f + 0.5f * (float)x / (float)w;
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  g_assert_cmpint(hy_image_save_png(&img, path, 8, &err), ==, HY_OK);
  hy_image_free(&img);
  return path;
}

static char *write_text(const char *name, const char *content) {
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  GError *error = NULL;
  g_file_set_contents(path, content, -1, &error);
  g_assert_no_error(error);
  return path;
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
  char *image = make_image("scan.png", 240, 160);
  char *csv = write_text("marks.csv", "image,split,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y\n"
                                      "other,train,1,1,2,2,3,3\n"
                                      "scan,train,40,30,200,40,120,130\n");
  char *txt = write_text("marks.txt", "44,34\n196,44\n118,126\n7\n");
  char *out = g_build_filename(tu_tmpdir(), "overlay.png", NULL);

  /* default row: the image name without extension */
  run_result r = run("show", image, "--landmarks", csv, "--out", out, NULL);
  assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  run_result_clear(&r);
  assert_overlay(out, 240, 160, 40.5, 30.5, 3);
  assert_overlay(out, 240, 160, 120.5, 130.5, 3);

  /* two sets, an explicit row, the text file with a trailing label line, shrunk */
  char *spec = g_strdup_printf("%s:scan", csv);
  r = run("show", image, "--landmarks", spec, "--landmarks", txt, "--max-size", "120",
          "--out", out, NULL);
  assert_status(&r, 0);
  run_result_clear(&r);
  assert_overlay(out, 120, 80, 100.25, 20.25, 3);

  g_free(spec);
  g_free(out);
  g_free(txt);
  g_free(csv);
  g_free(image);
}

static void test_show_errors(void) {
  char *image = make_image("err.png", 64, 48);
  char *csv = write_text("err.csv", "image,l1_x,l1_y,l2_x,l2_y\nerr,1,2,3,4\n");
  char *csv3 = write_text("err3.csv", "image,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y\nerr,1,2,3,4,5,6\n");
  char *bad = write_text("bad.csv", "image,l1_x,l1_y\nerr,1,zz\n");
  char *out = g_build_filename(tu_tmpdir(), "err-out.png", NULL);
  char *spec = g_strdup_printf("%s:007", csv);
  char *missing = g_build_filename(tu_tmpdir(), "missing.csv", NULL);
  char *no_dir = g_build_filename(tu_tmpdir(), "no-such-folder", "o.png", NULL);

  run_result r = run("show", image, "--landmarks", spec, "--out", out, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt show: ", "no row '007' in ");
  run_result_clear(&r);

  r = run("show", image, "--landmarks", missing, "--out", out, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt show: ", "missing.csv");
  run_result_clear(&r);

  r = run("show", image, "--landmarks", bad, "--out", out, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt show: ", "bad.csv:2: column 3 (l1_y): 'zz' is not a number");
  run_result_clear(&r);

  r = run("show", image, "--landmarks", csv, "--landmarks", csv3, "--out", out, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt show: ", "landmark counts differ");
  run_result_clear(&r);

  r = run("show", image, "--landmarks", csv, "--out", no_dir, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt show: ", "does not exist");
  run_result_clear(&r);

  r = run("show", csv, "--landmarks", csv, "--out", out, NULL); /* not an image */
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt show: ", "err.csv");
  run_result_clear(&r);

  r = run("show", image, "--landmarks", csv, "--max-size", "3", "--out", out, NULL);
  assert_status(&r, 2);
  run_result_clear(&r);
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
  run_result r = run("show", image, "--landmarks", s_spec, "--landmarks", j_spec,
                     "--max-size", "600", "--out", out, NULL);
  assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  run_result_clear(&r);
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
  g_test_add_func("/cli/show", test_show);
  g_test_add_func("/cli/show-errors", test_show_errors);
  g_test_add_func("/cli/show-isbi", test_show_isbi);
  return g_test_run();
}
