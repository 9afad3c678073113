/* app/annotation.c: save/load round trip, validation of damaged or wrong
 * files (one-line messages), keeping a damaged file aside, and a save that
 * cannot be done leaving the old file intact. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "annotation.h"
#include "apptest.h"
#include "testutil.h"

static HyAnnotation *sample(void) {
  HyAnnotation *a = hy_annotation_new("x.png", 100, 80, "tri", 3);
  const char *names[] = {"One", "Two", "Three"};
  for (int i = 0; i < 3; i++) {
    HyAnnotationPoint *p = &a->points[i];
    g_free(p->name);
    p->name = g_strdup(names[i]);
    p->x = p->predicted_x = 10.25 + i;
    p->y = p->predicted_y = 20.5 + i;
    p->confidence = 0.5 + 0.1 * i;
    p->model = g_strdup("m1");
  }
  a->points[1].state = HY_LANDMARK_MOVED;
  a->points[1].x = 33;
  a->points[2].state = HY_LANDMARK_ABSENT;
  a->points[2].x = a->points[2].y = NAN;
  a->sha256 = g_strdup("abc");
  a->spacing_mm = 0.1;
  a->model = g_strdup("m1");
  return a;
}

static char *tmp(const char *name) { return g_build_filename(tu_tmpdir(), name, NULL); }

static void assert_equal(const HyAnnotation *a, const HyAnnotation *b) {
  g_assert_cmpstr(a->image_file, ==, b->image_file);
  g_assert_cmpint(a->width, ==, b->width);
  g_assert_cmpint(a->height, ==, b->height);
  g_assert_cmpstr(a->sha256, ==, b->sha256);
  g_assert_cmpfloat(a->spacing_mm, ==, b->spacing_mm);
  g_assert_cmpstr(a->landmark_set, ==, b->landmark_set);
  g_assert_cmpstr(a->model, ==, b->model);
  g_assert_cmpstr(a->created, ==, b->created);
  g_assert_cmpstr(a->modified, ==, b->modified);
  g_assert_cmpint(a->n_points, ==, b->n_points);
  for (int i = 0; i < a->n_points; i++) {
    const HyAnnotationPoint *p = &a->points[i], *q = &b->points[i];
    g_assert_cmpstr(p->name, ==, q->name);
    g_assert_cmpint(p->state, ==, q->state);
    g_assert_cmpstr(p->model, ==, q->model);
    const double u[] = {p->x, p->y, p->predicted_x, p->predicted_y, p->confidence};
    const double v[] = {q->x, q->y, q->predicted_x, q->predicted_y, q->confidence};
    for (int k = 0; k < 5; k++)
      g_assert_true((isnan(u[k]) && isnan(v[k])) || u[k] == v[k]);
  }
}

static void test_round_trip(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autoptr(HyAnnotation) a = sample();
  g_autofree char *path = tmp("round.hyatt.json");
  GError *error = NULL;
  g_assert_true(hy_annotation_save(a, path, &error));
  g_assert_no_error(error);
  g_assert_nonnull(a->created);
  g_autoptr(HyAnnotation) b = hy_annotation_load(path, set, &error);
  g_assert_no_error(error);
  assert_equal(a, b);
  g_autoptr(HyAnnotation) c = hy_annotation_copy(b);
  assert_equal(b, c);
  g_autofree char *p = hy_annotation_path_for_image("/d/x.png");
  g_assert_cmpstr(p, ==, "/d/x.png.hyatt.json");
}

/* Each edit of the saved text must be refused with a one-line message
 * naming the file and containing `want`. */
static void test_invalid(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autoptr(HyAnnotation) a = sample();
  a->created = g_strdup("2026-01-01T00:00:00Z");
  a->modified = g_strdup("2026-01-01T00:00:00Z");
  g_autofree char *text = hy_annotation_to_data(a);
  const struct { const char *what, *edit, *want; } cases[] = {
    {"\"moved\"", "\"wobbly\"", "landmarks[1].state: unknown state 'wobbly'"},
    {"\"x\" : 33.0", "\"x\" : true", "landmarks[1].x: not a number"},
    {"\"x\" : 33.0", "\"x\" : 3300", "landmarks[1].x: 3300 is far outside the image"},
    {"\"x\" : 33.0", "\"x\" : NaN", "round.hyatt.json: /:"},
    {"\"confidence\" : 0.5", "\"confidence\" : 1.5", "landmarks[0].confidence: not in [0, 1]"},
    {"\"hyatt-annotation\"", "\"other\"", "format: not a hyatt annotation"},
    {"\"version\" : 1", "\"version\" : 2", "version: 2 is not in 1..1"},
    {"\"landmark_set\" : \"tri\"", "\"landmark_set\" : \"quad\"", "landmark_set: 'quad'"},
    {"\"index\" : 3", "\"index\" : 2", "landmarks[2].index: 2 where 3 was expected"},
    {"\"width\" : 100", "\"width\" : -1", "image.width:"},
    {"{", "[", "round.hyatt.json: /:"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_assert_nonnull(strstr(text, cases[i].what));
    GString *s = g_string_new(text);
    g_string_replace(s, cases[i].what, cases[i].edit, 1);
    g_autofree char *path = tmp("round.hyatt.json");
    g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
    g_string_free(s, TRUE);
    GError *error = NULL;
    HyAnnotation *b = hy_annotation_load(path, set, &error);
    g_assert_null(b);
    g_assert_error(error, HY_ANNOTATION_ERROR, HY_ANNOTATION_ERROR_INVALID);
    if (!strstr(error->message, cases[i].want) || strchr(error->message, '\n'))
      g_error("case %u: '%s' lacks '%s'", i, error->message, cases[i].want);
    g_assert_nonnull(strstr(error->message, "round.hyatt.json: "));
    g_error_free(error);
  }

  /* a landmark count other than the set's */
  g_autoptr(HyAnnotation) two = hy_annotation_new("x.png", 10, 10, "tri", 2);
  g_autofree char *path = tmp("two.hyatt.json");
  g_assert_true(hy_annotation_save(two, path, NULL));
  GError *error = NULL;
  g_assert_null(hy_annotation_load(path, set, &error));
  g_assert_error(error, HY_ANNOTATION_ERROR, HY_ANNOTATION_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "2 landmarks, the set 'tri' has 3"));
  g_clear_error(&error);
  /* but without a set it is fine */
  g_autoptr(HyAnnotation) loaded = hy_annotation_load(path, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(loaded->n_points, ==, 2);
  g_autofree char *missing = tmp("missing.hyatt.json");
  g_assert_null(hy_annotation_load(missing, set, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error(&error);
}

static void test_keep_aside(void) {
  g_autofree char *path = tmp("damaged.hyatt.json");
  g_assert_true(g_file_set_contents(path, "{\"format\": ", -1, NULL));
  GError *error = NULL;
  g_assert_null(hy_annotation_load(path, NULL, &error));
  g_clear_error(&error);
  g_autofree char *aside = NULL, *aside2 = NULL;
  g_assert_true(hy_annotation_keep_aside(path, &aside, &error));
  g_assert_no_error(error);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_autofree char *prefix = g_strconcat(path, ".damaged-", NULL);
  g_assert_true(g_str_has_prefix(aside, prefix));
  g_autofree char *kept = NULL;
  g_assert_true(g_file_get_contents(aside, &kept, NULL, NULL));
  g_assert_cmpstr(kept, ==, "{\"format\": ");
  /* a second one in the same second gets its own name */
  g_assert_true(g_file_set_contents(path, "x", -1, NULL));
  g_assert_true(hy_annotation_keep_aside(path, &aside2, NULL));
  g_assert_cmpstr(aside, !=, aside2);
  g_assert_true(g_file_test(aside, G_FILE_TEST_EXISTS));
  g_assert_false(hy_annotation_keep_aside(path, NULL, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error(&error);
}

/* A folder that is a regular file: the save fails even for root. */
static void test_save_fails(void) {
  g_autofree char *file = tmp("not-a-folder");
  g_assert_true(g_file_set_contents(file, "", -1, NULL));
  g_autofree char *path = g_build_filename(file, "x.png.hyatt.json", NULL);
  g_autoptr(HyAnnotation) a = sample();
  GError *error = NULL;
  g_assert_false(hy_annotation_save(a, path, &error));
  g_assert_nonnull(error);
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
}

/* Inputs the fuzzer (fuzz/fuzz_annotation.c) found, kept in
 * tests/regress/annotation/: each is refused with one line naming the file. */
static void test_regress(void) {
  g_autofree char *dir = g_build_filename(HY_SOURCE_DIR, "tests", "regress", "annotation", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  int n = 0;
  for (const char *name; (name = g_dir_read_name(d)); n++) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    GError *error = NULL;
    g_autoptr(HyAnnotation) a = hy_annotation_load(path, NULL, &error);
    g_assert_null(a);
    g_assert_error(error, HY_ANNOTATION_ERROR, HY_ANNOTATION_ERROR_INVALID);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_nonnull(strstr(error->message, name));
    g_clear_error(&error);
  }
  g_assert_cmpint(n, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/annotation/regress", test_regress);
  g_test_add_func("/annotation/round-trip", test_round_trip);
  g_test_add_func("/annotation/invalid", test_invalid);
  g_test_add_func("/annotation/keep-aside", test_keep_aside);
  g_test_add_func("/annotation/save-fails", test_save_fails);
  return g_test_run();
}
