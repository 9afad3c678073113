/* app/dicom.cc and image_file.c on DICOM files that tests/make-dicom.cc
 * writes (a 64 x 48 ramp, value x + 64 y mod 2^bits): the pixels, the
 * MONOCHROME1 inversion, 8/12/16 bits, Pixel / Imager Pixel Spacing, the
 * window, JPEG lossless decoding, and clear refusals of JPEG 2000, colour
 * and damaged files; then `hyatt predict` on a .dcm. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "clitest.h"
#include "dicom.h"
#include "image_file.h"
#include "testutil.h"

enum { W = 64, H = 48 };

/* Writes <tmp>/name with make-dicom and the NULL-terminated options. */
static char *make(const char *name, ...) {
  const char *tool = g_getenv("HYATT_MAKE_DICOM");
  g_assert_nonnull(tool);
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  GPtrArray *args = g_ptr_array_new();
  g_ptr_array_add(args, (char *)tool);
  g_ptr_array_add(args, path);
  va_list ap;
  va_start(ap, name);
  for (const char *a; (a = va_arg(ap, const char *));) g_ptr_array_add(args, (char *)a);
  va_end(ap);
  g_ptr_array_add(args, NULL);
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                             NULL, &status, &error));
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_ptr_array_free(args, TRUE);
  return path;
}

/* The ramp's value at pixel i, on [0, 1] as the loader maps it. */
static double ramp(int i, int bits, gboolean inverted) {
  double max = bits >= 12 ? W * H - 1 : 255; /* the largest value present */
  double v = (double)(i % (bits >= 12 ? W * H : 256)) / max;
  return inverted ? 1 - v : v;
}

static void check_ramp(const hy_image *img, int bits, gboolean inverted) {
  g_assert_cmpint(img->width, ==, W);
  g_assert_cmpint(img->height, ==, H);
  g_assert_cmpint(img->bit_depth, ==, bits > 8 ? 16 : 8);
  for (int i = 0; i < W * H; i++) g_assert_cmpfloat_with_epsilon(img->pixels[i], ramp(i, bits, inverted), 1e-6);
}

static void test_mono2_16bit(void) {
  g_autofree char *path = make("mono2.dcm", "--bits", "16", "--pixel-spacing", "0.1",
                               "--window", "1500", "1000", NULL);
  hy_image img = {0};
  HyImageMeta meta;
  g_autoptr(GError) error = NULL;
  g_assert_true(hy_image_file_load(path, &img, &meta, &error));
  g_assert_no_error(error);
  check_ramp(&img, 16, FALSE);
  g_assert_true(meta.is_dicom);
  g_assert_cmpfloat_with_epsilon(meta.spacing_mm, 0.1, 1e-12);
  g_assert_cmpint(meta.spacing_source, ==, HY_SPACING_DICOM);
  g_assert_cmpstr(meta.spacing_tag, ==, "Pixel Spacing");
  g_assert_cmpfloat_with_epsilon(meta.window_center, 1500.0 / (W * H - 1), 1e-9);
  g_assert_cmpfloat_with_epsilon(meta.window_width, 1000.0 / (W * H - 1), 1e-9);
  /* the window, applied: its lower end black, its upper end white */
  hy_image_apply_window(&img, meta.window_center, meta.window_width);
  g_assert_cmpfloat(img.pixels[999], ==, 0);
  g_assert_cmpfloat(img.pixels[2001], ==, 1);
  g_assert_cmpfloat_with_epsilon(img.pixels[1500], 0.5, 1e-6);
  hy_image_free(&img);
}

static void test_mono1_12bit(void) {
  g_autofree char *path = make("mono1.dcm", "--mono1", "--bits", "12", "--imager-spacing",
                               "0.148", "--window", "1000", "500", NULL);
  hy_image img = {0};
  HyImageMeta meta;
  g_autoptr(GError) error = NULL;
  g_assert_true(hy_image_file_load(path, &img, &meta, &error));
  check_ramp(&img, 12, TRUE);
  g_assert_cmpfloat_with_epsilon(meta.spacing_mm, 0.148, 1e-12);
  g_assert_cmpstr(meta.spacing_tag, ==, "Imager Pixel Spacing");
  /* the window follows the inversion */
  g_assert_cmpfloat_with_epsilon(meta.window_center, 1 - 1000.0 / (W * H - 1), 1e-9);
  hy_image_free(&img);
}

/* Rescale Slope/Intercept (e.g. CT-like units): the window is in those units */
static void test_rescale(void) {
  g_autofree char *path = make("rescale.dcm", "--bits", "16", "--rescale", "2", "-1024",
                               "--window", "40", "400", NULL);
  hy_image img = {0};
  HyImageMeta meta;
  g_autoptr(GError) error = NULL;
  g_assert_true(hy_image_file_load(path, &img, &meta, &error));
  check_ramp(&img, 16, FALSE);
  double lo = -1024, hi = 2.0 * (W * H - 1) - 1024;
  g_assert_cmpfloat_with_epsilon(meta.window_center, (40 - lo) / (hi - lo), 1e-9);
  g_assert_cmpfloat_with_epsilon(meta.window_width, 400 / (hi - lo), 1e-9);
  hy_image_free(&img);
}

static void test_8bit_no_spacing(void) {
  g_autofree char *path = make("eight.dcm", "--bits", "8", NULL);
  hy_image img = {0};
  HyImageMeta meta;
  g_autoptr(GError) error = NULL;
  g_assert_true(hy_image_file_load(path, &img, &meta, &error));
  check_ramp(&img, 8, FALSE);
  g_assert_cmpfloat(meta.spacing_mm, ==, 0);
  g_assert_cmpint(meta.spacing_source, ==, HY_SPACING_UNKNOWN);
  g_assert_cmpfloat(meta.window_width, ==, 0);
  hy_image_free(&img);
}

static void test_jpeg_lossless(void) {
  g_autofree char *path = make("lossless.dcm", "--jpeg-lossless", "--bits", "12", NULL);
  hy_image img = {0};
  HyImageMeta meta;
  g_autoptr(GError) error = NULL;
  g_assert_true(hy_image_file_load(path, &img, &meta, &error));
  g_assert_no_error(error);
  check_ramp(&img, 12, FALSE);
  hy_image_free(&img);
}

static void assert_refused(const char *path, int code, const char *words) {
  hy_image img = {0};
  HyImageMeta meta;
  g_autoptr(GError) error = NULL;
  g_assert_false(hy_image_file_load(path, &img, &meta, &error));
  g_assert_error(error, HY_DICOM_ERROR, code);
  g_assert_nonnull(strstr(error->message, words));
  g_assert_null(strchr(error->message, '\n'));
  g_assert_null(img.pixels);
}

static void test_refused(void) {
  g_autofree char *j2k = make("j2k.dcm", "--jpeg2000-junk", NULL);
  assert_refused(j2k, HY_DICOM_ERROR_UNSUPPORTED, "JPEG 2000");
  g_autofree char *rgb = make("rgb.dcm", "--bits", "8", "--colour", NULL);
  assert_refused(rgb, HY_DICOM_ERROR_UNSUPPORTED, "colour");
  /* cut off in the pixel data */
  g_autofree char *good = make("cut.dcm", "--bits", "16", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(good, &data, &len, NULL));
  g_assert_true(g_file_set_contents(good, data, (gssize)(len - 1000), NULL));
  assert_refused(good, HY_DICOM_ERROR_INVALID, "cut.dcm");
  /* fuzz_dicom's: JPEG data on which dcmtk 3.6.7's decoder spun for minutes */
  g_autofree char *spins = g_build_filename(HY_SOURCE_DIR, "tests", "regress", "dicom",
                                            "jpeg-decoder-spins.dcm", NULL);
  assert_refused(spins, HY_DICOM_ERROR_INVALID, "damaged JPEG data");
}

static void test_predict_dicom(void) {
  g_autofree char *model = g_build_filename(HY_SOURCE_DIR, "data", "models",
                                            "small-isbi2015.hyatt", NULL);
  g_autofree char *path = make("predict.dcm", "--bits", "16", "--pixel-spacing", "0.125", NULL);
  g_autofree char *out = g_build_filename(tu_tmpdir(), "pred", NULL);
  ct_result r = ct_run("predict", "--model", model, "--out", out, path, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "0.125 mm from the DICOM header (Pixel Spacing)"));
  ct_result_clear(&r);
  g_autofree char *json = g_build_filename(out, "predict.dcm.hyatt.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(json, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "\"spacing_source\" : \"dicom\""));
  /* --spacing wins, and says so */
  r = ct_run("predict", "--model", model, "--out", out, "--spacing", "0.2", path, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "0.2 mm entered by the user"));
  ct_result_clear(&r);
  g_autofree char *j2k = make("predict-j2k.dcm", "--jpeg2000-junk", NULL);
  r = ct_run("predict", "--model", model, "--out", out, j2k, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "cannot be decoded");
  ct_result_clear(&r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dicom/mono2-16bit", test_mono2_16bit);
  g_test_add_func("/dicom/mono1-12bit", test_mono1_12bit);
  g_test_add_func("/dicom/rescale", test_rescale);
  g_test_add_func("/dicom/8bit-no-spacing", test_8bit_no_spacing);
  g_test_add_func("/dicom/jpeg-lossless", test_jpeg_lossless);
  g_test_add_func("/dicom/refused", test_refused);
  g_test_add_func("/dicom/predict", test_predict_dicom);
  return g_test_run();
}
