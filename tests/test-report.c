/* `hyatt report` (app/report.c): a PDF of a predicted-and-corrected
 * annotation on a generated image, rendered back to PNG with pdftoppm and
 * checked to hold the image and dark text; a failed write leaves nothing. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "annotation.h"
#include "clitest.h"
#include "image.h"
#include "testutil.h"

/* An isbi2015 annotation of the image w x h with plausible landmarks. */
static char *write_annotation(const char *image, int w, int h) {
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_named("isbi2015", &error);
  g_assert_no_error(error);
  g_autoptr(HyAnnotation) a = hy_annotation_new(image, w, h, "isbi2015", 19);
  tu_rng rng = tu_rng_new(7);
  for (int k = 0; k < 19; k++) {
    HyAnnotationPoint *p = &a->points[k];
    g_free(p->name);
    p->name = g_strdup(hy_landmark_set_get_landmark_name(set, k));
    p->x = p->predicted_x = w * (0.2 + 0.6 * tu_uniform(&rng));
    p->y = p->predicted_y = h * (0.2 + 0.6 * tu_uniform(&rng));
    p->confidence = 0.8;
  }
  a->points[3].state = HY_LANDMARK_MOVED;
  a->points[3].x += 10;
  a->points[0].state = HY_LANDMARK_CONFIRMED;
  a->model = g_strdup("testmodel");
  char *path = g_strdup_printf("%s/%s.hyatt.json", tu_tmpdir(), image);
  g_assert_true(hy_annotation_save(a, path, &error));
  return path;
}

static void test_pdf(void) {
  g_autofree char *pdftoppm = g_find_program_in_path("pdftoppm");
  if (!pdftoppm) {
    g_test_skip("pdftoppm (poppler-utils) is not installed");
    return;
  }
  g_autofree char *image = ct_write_png("r.png", 300, 360, 0.2f);
  g_autofree char *ann = write_annotation("r.png", 300, 360);
  g_autofree char *pdf = g_build_filename(tu_tmpdir(), "r.pdf", NULL);
  ct_result r = ct_run("report", ann, "--out", pdf, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(pdf, &data, &len, NULL));
  g_assert_true(g_str_has_prefix(data, "%PDF-"));
  /* the image is embedded as JPEG (a Flate-compressed X-ray made 12 MB pages) */
  gboolean jpeg = FALSE;
  for (gsize i = 0; i + 10 <= len && !jpeg; i++) jpeg = memcmp(data + i, "/DCTDecode", 10) == 0;
  g_assert_true(jpeg);

  g_autofree char *prefix = g_build_filename(tu_tmpdir(), "page", NULL);
  const char *argv[] = {pdftoppm, "-png", "-r", "40", "-singlefile", pdf, prefix, NULL};
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                             &status, &error));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_autofree char *png = g_strconcat(prefix, ".png", NULL);
  hy_image page = {0};
  hy_error err = {0};
  g_assert_cmpint(hy_image_load(&page, png, &err), ==, HY_OK);
  /* A4 at 40 dpi; the image (grey ~0.2-0.7) sits at the top left, text
   * (near black) through the page */
  g_assert_cmpint(page.width, ==, 331);
  long grey = 0, dark = 0, n = (long)page.width * page.height;
  for (long i = 0; i < n; i++) {
    grey += page.pixels[i] > 0.15f && page.pixels[i] < 0.8f;
    dark += page.pixels[i] < 0.15f;
  }
  g_test_message("grey %ld, dark %ld of %ld pixels", grey, dark, n);
  g_assert_cmpint(grey, >, n / 20);
  g_assert_cmpint(dark, >, n / 500);
  /* the table's half of the page has text too */
  long dark_below = 0;
  for (long i = n / 2; i < n; i++) dark_below += page.pixels[i] < 0.3f;
  g_assert_cmpint(dark_below, >, n / 1000);
  hy_image_free(&page);
}

static void test_unwritable(void) {
  g_autofree char *image = ct_write_png("u.png", 100, 120, 0.2f);
  g_autofree char *ann = write_annotation("u.png", 100, 120);
  g_autofree char *pdf = g_build_filename(tu_tmpdir(), "no-such-dir", "u.pdf", NULL);
  ct_result r = ct_run("report", ann, "--out", pdf, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt report: ", "u.pdf");
  ct_result_clear(&r);
  /* an image of another size than the annotation's */
  g_autofree char *other = ct_write_png("other.png", 50, 50, 0.2f);
  r = ct_run("report", ann, "--image", other, "--out", pdf, NULL);
  ct_assert_one_line_error(&r, "hyatt report: ", "50 x 50");
  ct_result_clear(&r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_setenv("HYATT_LANDMARKS_DIR", HY_SOURCE_DIR "/data/landmarks", TRUE);
  g_test_add_func("/report/pdf", test_pdf);
  g_test_add_func("/report/unwritable", test_unwritable);
  return g_test_run();
}
