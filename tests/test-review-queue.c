/* app/review_queue.c: the images of a folder, never predicted first, then
 * least confident first, then by name, those done last; counts, updates
 * that keep the order, reading again that reorders, and "next to review". */
#include <glib/gstdio.h>
#include <math.h>

#include "annotation.h"
#include "review_queue.h"
#include "testutil.h"

static char *dir;

static void image(const char *name, double confidence, gboolean done) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  tu_write_file(path, "pixels", -1);
  if (isnan(confidence)) return;
  g_autoptr(HyAnnotation) a = hy_annotation_new(name, 10, 10, "tri", 3);
  for (int i = 0; i < 3; i++) {
    HyAnnotationPoint *p = &a->points[i];
    p->x = p->y = p->predicted_x = p->predicted_y = 5;
    /* the mean is `confidence` */
    p->confidence = confidence + (i - 1) * 0.05;
    p->state = done ? HY_LANDMARK_CONFIRMED : HY_LANDMARK_PREDICTED;
  }
  g_autofree char *json = hy_annotation_path_for_image(path);
  GError *error = NULL;
  g_assert_true(hy_annotation_save(a, json, &error));
  g_assert_no_error(error);
}

static char *order(HyReviewQueue *q) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(q)); i++) {
    g_autoptr(HyReviewItem) item = g_list_model_get_item(G_LIST_MODEL(q), i);
    g_string_append_printf(s, "%s%s", i ? " " : "", hy_review_item_get_name(item));
  }
  return g_string_free(s, FALSE);
}

static void on_items_changed(GListModel *m, guint pos, guint removed, guint added, gpointer data) {
  (*(int *)data)++;
}

static void test_order(void) {
  GError *error = NULL;
  dir = g_build_filename(tu_tmpdir(), "queue", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  image("b.png", 0.9, FALSE);
  image("a.jpg", 0.5, FALSE);
  image("c.PNG", NAN, FALSE);
  image("d.jpeg", 0.1, TRUE);
  image("f.png", 0.5, FALSE);
  image("notes.txt", NAN, FALSE);
  image("e.png", NAN, FALSE);
  g_autofree char *damaged = g_build_filename(dir, "e.png.hyatt.json", NULL);
  tu_write_file(damaged, "{\"format\": ", -1);

  g_autoptr(HyReviewQueue) q = hy_review_queue_new(NULL);
  g_assert_true(hy_review_queue_set_folder(q, dir, &error));
  g_assert_no_error(error);
  g_autofree char *o1 = order(q);
  g_assert_cmpstr(o1, ==, "c.PNG e.png a.jpg f.png b.png d.jpeg");
  g_assert_cmpuint(hy_review_queue_get_n_done(q), ==, 1);
  g_assert_cmpuint(hy_review_queue_get_n_to_review(q), ==, 5);
  g_autoptr(HyReviewItem) first = g_list_model_get_item(G_LIST_MODEL(q), 2);
  g_assert_cmpfloat_with_epsilon(hy_review_item_get_confidence(first), 0.5, 1e-9);

  int changes = 0;
  g_signal_connect(q, "items-changed", G_CALLBACK(on_items_changed), &changes);
  g_autofree char *b = g_build_filename(dir, "b.png", NULL);
  g_autofree char *c = g_build_filename(dir, "c.PNG", NULL);
  /* updates keep the order, so that rows do not jump while reviewing */
  hy_review_queue_update(q, b, 0.2, FALSE);
  g_autofree char *o2 = order(q);
  g_assert_cmpstr(o2, ==, o1);
  g_assert_cmpint(changes, ==, 1);
  g_autoptr(HyReviewItem) bi = g_list_model_get_item(G_LIST_MODEL(q), 4);
  g_assert_cmpfloat(hy_review_item_get_confidence(bi), ==, 0.2);
  hy_review_queue_update(q, c, 0.7, TRUE);
  g_assert_cmpuint(hy_review_queue_get_n_done(q), ==, 2);
  g_assert_cmpuint(hy_review_queue_get_n_to_review(q), ==, 4);
  g_assert_cmpint(hy_review_queue_find(q, c), ==, 0);
  g_assert_cmpint(hy_review_queue_find(q, "nowhere.png"), ==, -1);

  HyReviewItem *next = hy_review_queue_next_to_review(q, NULL);
  g_assert_cmpstr(hy_review_item_get_name(next), ==, "e.png");
  next = hy_review_queue_next_to_review(q, hy_review_item_get_path(next));
  g_assert_cmpstr(hy_review_item_get_name(next), ==, "a.jpg");

  /* reading the folder again orders by what the files say now */
  image("c.PNG", 0.7, TRUE);
  image("b.png", 0.2, FALSE);
  g_assert_true(hy_review_queue_set_folder(q, dir, &error));
  g_assert_no_error(error);
  g_autofree char *o3 = order(q);
  g_assert_cmpstr(o3, ==, "e.png b.png a.jpg f.png d.jpeg c.PNG");

  /* a folder that is not there leaves the queue as it was */
  g_autofree char *missing = g_build_filename(dir, "missing", NULL);
  g_assert_false(hy_review_queue_set_folder(q, missing, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error(&error);
  g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(q)), ==, 6);
  g_free(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/review-queue/order", test_order);
  return g_test_run();
}
