/* app/folder_spacing.c and how documents take it: a folder's
 * hyatt-folder.json round trip, a damaged one refused, an unwritable one
 * leaving the old file; a new image of the folder takes its spacing, an
 * image's own (DICOM header, entered for it) stays, and a prediction keeps
 * it. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "apptest.h"
#include "document.h"
#include "folder_spacing.h"
#include "testutil.h"

static char *folder_of(const char *name) {
  char *dir = g_build_filename(tu_tmpdir(), name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  return dir;
}

static void test_round_trip(void) {
  g_autofree char *dir = folder_of("round-trip");
  g_autofree char *path = g_build_filename(dir, HY_FOLDER_SETTINGS_FILE, NULL);
  GError *error = NULL;
  double mm = -1;
  g_assert_true(hy_folder_spacing_load(dir, &mm, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat(mm, ==, 0);

  g_assert_true(hy_folder_spacing_save(dir, 0.125, &error));
  g_assert_no_error(error);
  g_assert_true(hy_folder_spacing_load(dir, &mm, &error));
  g_assert_cmpfloat(mm, ==, 0.125);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "\"hyatt-folder\""));

  /* a file without a spacing is no spacing */
  tu_write_file(path, "{\"format\": \"hyatt-folder\", \"version\": 1}", -1);
  g_assert_true(hy_folder_spacing_load(dir, &mm, &error));
  g_assert_cmpfloat(mm, ==, 0);
}

static void test_damaged(void) {
  static const char *const bad[] = {
      "{\"format\": \"hyatt-fol",
      "{\"format\": \"hyatt-annotation\", \"version\": 1, \"spacing_mm\": 0.1}",
      "{\"format\": \"hyatt-folder\", \"version\": 2, \"spacing_mm\": 0.1}",
      "{\"format\": \"hyatt-folder\", \"version\": 1, \"spacing_mm\": -0.1}",
      "{\"format\": \"hyatt-folder\", \"version\": 1, \"spacing_mm\": \"0.1\"}",
  };
  g_autofree char *dir = folder_of("damaged");
  g_autofree char *path = g_build_filename(dir, HY_FOLDER_SETTINGS_FILE, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    GError *error = NULL;
    double mm = -1;
    tu_write_file(path, bad[i], -1);
    g_assert_false(hy_folder_spacing_load(dir, &mm, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, HY_FOLDER_SETTINGS_FILE));
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpfloat(mm, ==, 0);
    g_clear_error(&error);
  }
}

/* The writer's temp taken by a folder: the save fails, the old file stays. */
static void test_unwritable(void) {
  g_autofree char *dir = folder_of("unwritable");
  g_autofree char *blocker = g_build_filename(dir, HY_FOLDER_SETTINGS_FILE ".tmp-save", NULL);
  GError *error = NULL;
  double mm = 0;
  g_assert_true(hy_folder_spacing_save(dir, 0.2, &error));
  g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
  g_assert_false(hy_folder_spacing_save(dir, 0.3, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error(&error);
  g_assert_true(hy_folder_spacing_load(dir, &mm, &error));
  g_assert_cmpfloat(mm, ==, 0.2);
  g_assert_cmpint(g_rmdir(blocker), ==, 0);
}

static HyDocument *new_image(const char *dir, const char *name, HyLandmarkSet *set) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  tu_write_file(path, name, -1);
  GError *error = NULL;
  HyDocument *doc = hy_document_new(path, at_grey_image(), set, NULL, &error);
  g_assert_no_error(error);
  return doc;
}

static void predict_with_spacing(HyDocument *doc, double spacing) {
  HyPredictResult *r = g_new0(HyPredictResult, 1);
  r->K = 3;
  r->image_w = 100;
  r->image_h = 80;
  r->points = g_new0(hy_point, 3);
  r->confidence = g_new0(float, 3);
  r->landmark_set = g_strdup("tri");
  r->model_id = g_strdup("m");
  r->spacing_mm = spacing;
  GError *error = NULL;
  g_assert_true(hy_document_apply_prediction(doc, r, &error));
  g_assert_no_error(error);
}

static void test_new_image_takes_it(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *dir = folder_of("new-image");
  GError *error = NULL;
  double mm = 0;
  g_assert_true(hy_folder_spacing_save(dir, 0.125, &error));
  g_assert_true(hy_folder_spacing_load(dir, &mm, &error));

  /* a new image: the folder's, as how the image is (no undo step, and not
   * saved before its prediction); the model's does not replace it */
  g_autoptr(HyDocument) doc = new_image(dir, "a.png", set);
  g_assert_true(hy_document_adopt_spacing(doc, mm, HY_SPACING_FOLDER));
  g_assert_false(hy_document_adopt_spacing(doc, mm, HY_SPACING_FOLDER));
  g_assert_false(hy_document_can_undo(doc));
  g_assert_false(hy_document_get_dirty(doc));
  predict_with_spacing(doc, 0.1);
  const HyAnnotation *a = hy_document_get_annotation(doc);
  g_assert_cmpfloat(a->spacing_mm, ==, 0.125);
  g_assert_cmpint(a->spacing_source, ==, HY_SPACING_FOLDER);
  g_assert_cmpfloat(hy_document_get_spacing(doc), ==, 0.125);
  /* the folder's entry changed: it follows */
  g_assert_true(hy_document_adopt_spacing(doc, 0.15, HY_SPACING_FOLDER));
  g_assert_cmpfloat(a->spacing_mm, ==, 0.15);
  g_assert_true(hy_document_get_dirty(doc));
  g_assert_true(hy_document_save(doc, &error));
  g_assert_no_error(error);

  /* a DICOM header's wins over the folder's, and stays */
  g_autoptr(HyDocument) dicom = new_image(dir, "b.dcm", set);
  g_assert_true(hy_document_adopt_spacing(dicom, 0.139, HY_SPACING_DICOM));
  g_assert_false(hy_document_adopt_spacing(dicom, 0.125, HY_SPACING_FOLDER));
  g_assert_cmpint(hy_document_get_annotation(dicom)->spacing_source, ==, HY_SPACING_DICOM);
  g_assert_cmpfloat(hy_document_get_spacing(dicom), ==, 0.139);

  /* one entered for the image wins over both */
  g_autoptr(HyDocument) own = new_image(dir, "c.png", set);
  predict_with_spacing(own, 0.1);
  g_assert_cmpint(hy_document_get_annotation(own)->spacing_source, ==, HY_SPACING_MODEL);
  hy_document_set_spacing(own, 0.11, HY_SPACING_USER);
  g_assert_false(hy_document_adopt_spacing(own, 0.125, HY_SPACING_FOLDER));
  g_assert_false(hy_document_adopt_spacing(own, 0.139, HY_SPACING_DICOM));
  g_assert_cmpfloat(hy_document_get_spacing(own), ==, 0.11);
  g_assert_cmpint(hy_document_get_annotation(own)->spacing_source, ==, HY_SPACING_USER);

  /* not a spacing: nothing */
  g_assert_false(hy_document_adopt_spacing(own, 0, HY_SPACING_FOLDER));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/folder-spacing/round-trip", test_round_trip);
  g_test_add_func("/folder-spacing/damaged", test_damaged);
  g_test_add_func("/folder-spacing/unwritable", test_unwritable);
  g_test_add_func("/folder-spacing/new-image", test_new_image_takes_it);
  return g_test_run();
}
