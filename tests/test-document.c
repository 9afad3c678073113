/* app/document.c without a display: undo/redo sequences, one drag merged
 * into one step, "changed" during a drag, autosave and reload, a damaged
 * annotation kept aside, predictions that keep the user's corrections, a
 * spacing entered by the user: undone, redone, saved, kept by predictions. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "document.h"
#include "apptest.h"
#include "testutil.h"

/* A fresh image file (the document hashes its bytes) in its own folder. */
static char *image_file(const char *name) {
  g_autofree char *dir = g_build_filename(tu_tmpdir(), name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  char *path = g_build_filename(dir, "x.png", NULL);
  tu_write_file(path, "not really a PNG", -1);
  return path;
}

static HyDocument *open_doc(const char *path, HyLandmarkSet *set, char **notice) {
  GError *error = NULL;
  HyDocument *doc = hy_document_new(path, at_grey_image(), set, notice, &error);
  g_assert_no_error(error);
  g_assert_nonnull(doc);
  return doc;
}

static HyPredictResult *prediction(int K, double offset) {
  HyPredictResult *r = g_new0(HyPredictResult, 1);
  r->K = K;
  r->image_w = 100;
  r->image_h = 80;
  r->points = g_new(hy_point, K);
  r->confidence = g_new(float, K);
  for (int i = 0; i < K; i++) {
    r->points[i] = (hy_point){10 + 20 * i + offset, 30 + offset};
    r->confidence[i] = 0.9f - 0.2f * (float)i;
  }
  r->model_id = g_strdup("0123abcd");
  r->landmark_set = g_strdup("tri");
  r->map_w = r->map_h = 4;
  r->heatmaps = g_new0(float, (gsize)K * 16);
  r->map_to_image[0] = r->map_to_image[4] = 25;
  return r;
}

static void predict(HyDocument *doc, double offset) {
  GError *error = NULL;
  g_assert_true(hy_document_apply_prediction(doc, prediction(3, offset), &error));
  g_assert_no_error(error);
}

static const HyAnnotationPoint *point(HyDocument *doc, int i) {
  return &hy_document_get_annotation(doc)->points[i];
}

static void test_undo_redo(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("undo");
  g_autoptr(HyDocument) doc = open_doc(path, set, NULL);
  g_assert_true(hy_document_needs_prediction(doc));
  g_assert_false(hy_document_can_undo(doc));
  predict(doc, 0);
  g_assert_false(hy_document_needs_prediction(doc));
  g_assert_cmpfloat(point(doc, 1)->x, ==, 30);
  g_assert_cmpstr(hy_document_get_annotation(doc)->model, ==, "0123abcd");

  hy_document_move(doc, 1, 33, 34, TRUE);
  hy_document_confirm(doc, 0);
  hy_document_mark_absent(doc, 2);
  g_assert_cmpint(point(doc, 1)->state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpint(point(doc, 0)->state, ==, HY_LANDMARK_CONFIRMED);
  g_assert_true(isnan(point(doc, 2)->x));
  g_assert_cmpfloat_with_epsilon(hy_document_get_distance_moved(doc, 1), 5, 1e-12);
  g_assert_cmpstr(hy_document_get_undo_label(doc), ==, "Mark Landmark Absent");

  hy_document_undo(doc); /* absent */
  g_assert_cmpint(point(doc, 2)->state, ==, HY_LANDMARK_PREDICTED);
  g_assert_cmpfloat(point(doc, 2)->x, ==, 50);
  hy_document_undo(doc); /* confirm */
  hy_document_undo(doc); /* move */
  g_assert_cmpfloat(point(doc, 1)->x, ==, 30);
  g_assert_cmpint(point(doc, 1)->state, ==, HY_LANDMARK_PREDICTED);
  hy_document_undo(doc); /* predict */
  g_assert_true(isnan(point(doc, 0)->x));
  g_assert_null(hy_document_get_annotation(doc)->model);
  g_assert_false(hy_document_can_undo(doc));
  hy_document_undo(doc); /* nothing left: no-op */

  hy_document_redo(doc);
  hy_document_redo(doc);
  g_assert_cmpfloat(point(doc, 1)->x, ==, 33);
  g_assert_true(hy_document_can_redo(doc));
  /* a new command drops what could be redone */
  hy_document_accept_all(doc);
  g_assert_false(hy_document_can_redo(doc));
  for (int i = 0; i < 3; i++) g_assert_cmpint(point(doc, i)->state, ==, HY_LANDMARK_CONFIRMED);
  g_assert_true(hy_document_is_done(doc));
  hy_document_undo(doc);
  g_assert_cmpint(point(doc, 1)->state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpint(point(doc, 0)->state, ==, HY_LANDMARK_PREDICTED);
  /* nothing to do makes no step: confirming twice is one step */
  hy_document_confirm(doc, 0);
  hy_document_confirm(doc, 0);
  hy_document_undo(doc);
  g_assert_cmpint(point(doc, 0)->state, ==, HY_LANDMARK_PREDICTED);
  g_assert_cmpstr(hy_document_get_undo_label(doc), ==, "Move Landmark");
}

static void on_changed(HyDocument *doc, int index, gpointer data) {
  GArray *seen = data;
  g_array_append_val(seen, index);
}

static void test_drag_merge(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("drag");
  g_autoptr(HyDocument) doc = open_doc(path, set, NULL);
  predict(doc, 0);
  g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(int));
  g_signal_connect(doc, "changed", G_CALLBACK(on_changed), seen);
  for (int step = 1; step <= 5; step++) hy_document_move(doc, 0, 10 + step, 30, step == 5);
  /* every step of the drag was announced, for live views */
  g_assert_cmpuint(seen->len, ==, 5);
  for (guint i = 0; i < seen->len; i++) g_assert_cmpint(g_array_index(seen, int, i), ==, 0);
  g_assert_cmpfloat(point(doc, 0)->x, ==, 15);
  /* a second drag of the same landmark is a second step */
  hy_document_move(doc, 0, 20, 30, FALSE);
  hy_document_move(doc, 0, 21, 31, TRUE);
  hy_document_undo(doc);
  g_assert_cmpfloat(point(doc, 0)->x, ==, 15);
  hy_document_undo(doc);
  g_assert_cmpfloat(point(doc, 0)->x, ==, 10);
  g_assert_cmpint(point(doc, 0)->state, ==, HY_LANDMARK_PREDICTED);
  g_assert_cmpstr(hy_document_get_undo_label(doc), ==, "Predict Landmarks");
  /* an unfinished drag does not swallow the move of another landmark */
  hy_document_move(doc, 0, 12, 30, FALSE);
  hy_document_move(doc, 1, 40, 30, TRUE);
  hy_document_undo(doc);
  g_assert_cmpfloat(point(doc, 1)->x, ==, 30);
  g_assert_cmpfloat(point(doc, 0)->x, ==, 12);
  /* the index of a whole-document change is -1 */
  g_array_set_size(seen, 0);
  hy_document_accept_all(doc);
  g_assert_cmpint(g_array_index(seen, int, 0), ==, -1);
}

static gboolean clean(gpointer data) { return !hy_document_get_dirty(data); }

static void wait_until(GSourceFunc done, gpointer data) {
  gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (!done(data)) {
    g_assert_cmpint(g_get_monotonic_time(), <, end);
    g_main_context_iteration(NULL, TRUE);
  }
}

static void test_autosave_reload(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("autosave");
  g_autofree char *json = g_strconcat(path, ".hyatt.json", NULL);
  {
    g_autoptr(HyDocument) doc = open_doc(path, set, NULL);
    hy_document_set_autosave_delay(doc, 20);
    g_assert_false(hy_document_get_dirty(doc));
    predict(doc, 0);
    hy_document_move(doc, 2, 55.5, 44.25, TRUE);
    g_assert_true(hy_document_get_dirty(doc));
    g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
    wait_until(clean, doc);
    g_assert_true(g_file_test(json, G_FILE_TEST_EXISTS));
    hy_document_confirm(doc, 0);
    /* finalising a dirty document saves it at once */
  }
  g_autoptr(HyDocument) doc = open_doc(path, set, NULL);
  g_assert_false(hy_document_needs_prediction(doc));
  g_assert_cmpfloat(point(doc, 2)->x, ==, 55.5);
  g_assert_cmpfloat(point(doc, 2)->y, ==, 44.25);
  g_assert_cmpint(point(doc, 2)->state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpint(point(doc, 0)->state, ==, HY_LANDMARK_CONFIRMED);
  g_assert_cmpstr(point(doc, 1)->name, ==, "Two");
  g_assert_nonnull(hy_document_get_annotation(doc)->sha256);
  /* a later prediction renews predictions, keeps the corrections */
  predict(doc, 2);
  g_assert_cmpfloat(point(doc, 2)->x, ==, 55.5);
  g_assert_cmpfloat(point(doc, 2)->predicted_x, ==, 52);
  g_assert_cmpfloat(point(doc, 0)->x, ==, 10);
  g_assert_cmpint(point(doc, 0)->state, ==, HY_LANDMARK_CONFIRMED);
  g_assert_cmpfloat(point(doc, 1)->x, ==, 32);
  /* one of another landmark count is refused */
  GError *error = NULL;
  g_assert_false(hy_document_apply_prediction(doc, prediction(2, 0), &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error(&error);
  /* nor one of another landmark set */
  HyPredictResult *other = prediction(3, 0);
  g_free(other->landmark_set);
  other->landmark_set = g_strdup("hand");
  g_assert_false(hy_document_apply_prediction(doc, other, &error));
  g_assert_nonnull(strstr(error->message, "'hand'"));
  g_clear_error(&error);
  g_assert_cmpfloat(point(doc, 2)->predicted_x, ==, 52);
}

/* The spacing as an edit: one undo step, "changed", the distances in mm
 * follow; a re-prediction keeps it; saved and read back with its source. */
static void test_spacing(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("spacing");
  g_autofree char *json = g_strconcat(path, ".hyatt.json", NULL);
  {
    g_autoptr(HyDocument) doc = open_doc(path, set, NULL);
    HyPredictResult *r = prediction(3, 0);
    r->spacing_mm = 0.1;
    GError *error = NULL;
    g_assert_true(hy_document_apply_prediction(doc, r, &error));
    const HyAnnotation *a = hy_document_get_annotation(doc);
    g_assert_cmpfloat(a->spacing_mm, ==, 0.1);
    g_assert_cmpint(a->spacing_source, ==, HY_SPACING_MODEL);
    hy_document_move(doc, 1, 33, 34, TRUE);
    g_assert_cmpfloat_with_epsilon(hy_document_get_distance_moved(doc, 1), 0.5, 1e-12);

    g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(int));
    g_signal_connect(doc, "changed", G_CALLBACK(on_changed), changed);
    hy_document_set_spacing(doc, 0.2, HY_SPACING_USER);
    g_assert_cmpuint(changed->len, ==, 1);
    g_assert_cmpint(g_array_index(changed, int, 0), ==, -1);
    g_assert_cmpfloat(a->spacing_mm, ==, 0.2);
    g_assert_cmpint(a->spacing_source, ==, HY_SPACING_USER);
    g_assert_cmpfloat_with_epsilon(hy_document_get_distance_moved(doc, 1), 1.0, 1e-12);
    g_assert_cmpstr(hy_document_get_undo_label(doc), ==, "Set Pixel Spacing");
    /* the same again is no step */
    hy_document_set_spacing(doc, 0.2, HY_SPACING_USER);
    hy_document_undo(doc);
    g_assert_cmpfloat(a->spacing_mm, ==, 0.1);
    g_assert_cmpint(a->spacing_source, ==, HY_SPACING_MODEL);
    g_assert_cmpstr(hy_document_get_undo_label(doc), ==, "Move Landmark");
    g_assert_cmpstr(hy_document_get_redo_label(doc), ==, "Set Pixel Spacing");
    hy_document_redo(doc);
    g_assert_cmpfloat(a->spacing_mm, ==, 0.2);
    g_assert_cmpint(a->spacing_source, ==, HY_SPACING_USER);

    /* predicting again keeps the user's spacing and corrections */
    r = prediction(3, 1);
    r->spacing_mm = 0.1;
    g_assert_true(hy_document_apply_prediction(doc, r, &error));
    g_assert_cmpfloat(a->spacing_mm, ==, 0.2);
    g_assert_cmpint(a->spacing_source, ==, HY_SPACING_USER);
    g_assert_cmpfloat(point(doc, 1)->x, ==, 33);
    g_assert_true(hy_document_save(doc, &error));
    g_assert_no_error(error);
  }
  g_autoptr(HyDocument) doc = open_doc(path, set, NULL);
  const HyAnnotation *a = hy_document_get_annotation(doc);
  g_assert_cmpfloat(a->spacing_mm, ==, 0.2);
  g_assert_cmpint(a->spacing_source, ==, HY_SPACING_USER);
  g_assert_cmpfloat(hy_document_get_spacing(doc), ==, 0.2);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(json, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "\"spacing_source\" : \"user\""));

  /* undoing a first prediction takes its model's spacing away with it */
  g_autofree char *path2 = image_file("spacing-undo-predict");
  g_autoptr(HyDocument) fresh = open_doc(path2, set, NULL);
  HyPredictResult *r = prediction(3, 0);
  r->spacing_mm = 0.1;
  g_assert_true(hy_document_apply_prediction(fresh, r, NULL));
  hy_document_undo(fresh);
  g_assert_cmpfloat(hy_document_get_annotation(fresh)->spacing_mm, ==, 0);
  hy_document_redo(fresh);
  g_assert_cmpint(hy_document_get_annotation(fresh)->spacing_source, ==, HY_SPACING_MODEL);
}

static void test_damaged_kept_aside(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("damaged");
  g_autofree char *json = g_strconcat(path, ".hyatt.json", NULL);
  g_autofree char *dir = g_path_get_dirname(path);
  const char *damaged = "{\"format\": \"hyatt-annotation\", \"version\": 1, \"ima";
  tu_write_file(json, damaged, -1);
  g_autofree char *notice = NULL;
  {
    g_autoptr(HyDocument) doc = open_doc(path, set, &notice);
    g_assert_nonnull(notice);
    g_assert_null(strchr(notice, '\n'));
    g_assert_nonnull(strstr(notice, ".damaged-"));
    g_assert_true(hy_document_needs_prediction(doc));
    predict(doc, 0);
    GError *error = NULL;
    g_assert_true(hy_document_save(doc, &error));
    g_assert_no_error(error);
  }
  /* the damaged bytes are still there, under the new name */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  int found = 0;
  for (const char *name; (name = g_dir_read_name(d));) {
    if (!strstr(name, ".damaged-")) continue;
    g_autofree char *aside = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(aside, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, damaged);
    found++;
  }
  g_assert_cmpint(found, ==, 1);
  /* an annotation of another image size is not this image's either */
  g_autoptr(HyAnnotation) other = hy_annotation_new("x.png", 50, 50, "tri", 3);
  GError *error = NULL;
  g_assert_true(hy_annotation_save(other, json, &error));
  g_clear_pointer(&notice, g_free);
  g_autoptr(HyDocument) doc = open_doc(path, set, &notice);
  g_assert_nonnull(strstr(notice, "50 × 50"));
  g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
}

/* Corrections made with another (installed) landmark set are that set's,
 * not damaged. */
static void test_other_set(void) {
  g_autofree char *sets = g_build_filename(HY_SOURCE_DIR, "data", "landmarks", NULL);
  g_setenv("HYATT_LANDMARKS_DIR", sets, TRUE);
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("other-set");
  g_autofree char *json = g_strconcat(path, ".hyatt.json", NULL);
  g_autoptr(HyAnnotation) a = hy_annotation_new("x.png", 100, 80, "isbi2015", 19);
  a->points[4].x = a->points[4].y = 7;
  a->points[4].state = HY_LANDMARK_CONFIRMED;
  GError *error = NULL;
  g_assert_true(hy_annotation_save(a, json, &error));
  g_autofree char *notice = NULL;
  g_autoptr(HyDocument) doc = open_doc(path, set, &notice);
  g_assert_null(notice);
  g_assert_cmpint(hy_document_get_n_landmarks(doc), ==, 19);
  g_assert_cmpstr(hy_landmark_set_get_name(hy_document_get_landmark_set(doc)), ==, "isbi2015");
  g_assert_cmpint(point(doc, 4)->state, ==, HY_LANDMARK_CONFIRMED);
  /* the tri model's prediction does not fit it */
  g_assert_false(hy_document_apply_prediction(doc, prediction(3, 0), &error));
  g_clear_error(&error);
  g_unsetenv("HYATT_LANDMARKS_DIR");
}

static void test_unreadable_refused(void) {
  if (geteuid() == 0) {
    g_test_skip("root reads any file");
    return;
  }
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *path = image_file("unreadable");
  g_autofree char *json = g_strconcat(path, ".hyatt.json", NULL);
  tu_write_file(json, "{}", -1);
  g_assert_cmpint(g_chmod(json, 0), ==, 0);
  GError *error = NULL;
  HyDocument *doc = hy_document_new(path, at_grey_image(), set, NULL, &error);
  g_assert_null(doc);
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
  g_clear_error(&error);
  g_assert_true(g_file_test(json, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/document/undo-redo", test_undo_redo);
  g_test_add_func("/document/drag-merge", test_drag_merge);
  g_test_add_func("/document/autosave-reload", test_autosave_reload);
  g_test_add_func("/document/spacing", test_spacing);
  g_test_add_func("/document/damaged-kept-aside", test_damaged_kept_aside);
  g_test_add_func("/document/other-set", test_other_set);
  g_test_add_func("/document/unreadable-refused", test_unreadable_refused);
  return g_test_run();
}
