/* app/exchange.c and format_*.c: files written by hand from each format's
 * documented schema (tests/data/exchange/) read as expected; what we write
 * reads back unchanged (states, confidences, spacing and its source where
 * the format has room); refusals are one line; and `hyatt export` /
 * `hyatt import` on a tiny image. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "clitest.h"
#include "exchange.h"
#include "testutil.h"

static char *data_path(const char *name) {
  return g_build_filename(HY_SOURCE_DIR, "tests", "data", "exchange", name, NULL);
}

static HyLandmarkSet *tri_set(void) {
  g_autofree char *path = data_path("tri.json");
  g_autoptr(GError) error = NULL;
  HyLandmarkSet *set = hy_landmark_set_new_from_file(path, &error);
  g_assert_no_error(error);
  return set;
}

static GPtrArray *read_file(HyExchangeFormat f, const char *name, double spacing,
                            GError **error) {
  g_autofree char *path = data_path(name);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_autoptr(HyLandmarkSet) set = tri_set();
  return hy_exchange_read(f, data, len, name, set, spacing, error);
}

static void assert_point(const HyAnnotation *a, int k, double x, double y, HyLandmarkState s) {
  const HyAnnotationPoint *p = &a->points[k];
  g_assert_cmpint(p->state, ==, s);
  if (s == HY_LANDMARK_ABSENT) {
    g_assert_true(isnan(p->x) && isnan(p->y));
    return;
  }
  g_assert_cmpfloat_with_epsilon(p->x, x, 1e-9);
  g_assert_cmpfloat_with_epsilon(p->y, y, 1e-9);
}

static void test_hand_slicer(void) {
  g_autoptr(GError) error = NULL;
  /* mm and no spacing in the file: it must be given */
  g_assert_null(read_file(HY_EXCHANGE_SLICER, "hand.mrk.json", 0, &error));
  g_assert_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "--spacing"));
  g_clear_error(&error);
  g_autoptr(GPtrArray) all = read_file(HY_EXCHANGE_SLICER, "hand.mrk.json", 0.5, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 1);
  HyAnnotation *a = all->pdata[0];
  g_assert_cmpstr(a->image_file, ==, "ceph");
  g_assert_cmpstr(a->points[0].name, ==, "One");
  /* by label, not by order; LPS mm / 0.5 mm per pixel */
  assert_point(a, 0, 10, 20.5, HY_LANDMARK_CONFIRMED);
  assert_point(a, 1, 25, 4, HY_LANDMARK_CONFIRMED);
  assert_point(a, 2, 0, 0, HY_LANDMARK_ABSENT);
  g_assert_cmpint(a->spacing_source, ==, HY_SPACING_USER);
  /* RAS in micrometres, labels that are not abbreviations: by order */
  g_autoptr(GPtrArray) ras = read_file(HY_EXCHANGE_SLICER, "hand-ras.mrk.json", 0.5, &error);
  g_assert_no_error(error);
  a = ras->pdata[0];
  assert_point(a, 0, 10, 20.5, HY_LANDMARK_CONFIRMED);
  assert_point(a, 1, 25, 4, HY_LANDMARK_CONFIRMED);
  assert_point(a, 2, 2, 2, HY_LANDMARK_CONFIRMED);
}

static void test_hand_coco(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = read_file(HY_EXCHANGE_COCO, "hand-coco.json", 0, &error);
  g_assert_no_error(error);
  /* the box annotation of the other category is skipped */
  g_assert_cmpuint(all->len, ==, 2);
  HyAnnotation *b = all->pdata[0], *a = all->pdata[1];
  g_assert_cmpstr(b->image_file, ==, "b.png");
  g_assert_cmpint(b->width, ==, 40);
  g_assert_cmpint(b->height, ==, 30);
  assert_point(b, 0, 1, 2, HY_LANDMARK_CONFIRMED);
  assert_point(b, 1, 3.5, 4.25, HY_LANDMARK_CONFIRMED); /* v = 1: labelled, not visible */
  assert_point(b, 2, 0, 0, HY_LANDMARK_ABSENT);
  g_assert_cmpstr(a->image_file, ==, "a.png");
  assert_point(a, 2, 14, 15, HY_LANDMARK_CONFIRMED);
  g_assert_cmpfloat(a->spacing_mm, ==, 0);
}

static void test_hand_csv(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = read_file(HY_EXCHANGE_CSV, "hand.csv", 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 2);
  HyAnnotation *a = all->pdata[0], *b = all->pdata[1];
  g_assert_cmpstr(a->image_file, ==, "a");
  g_assert_cmpstr(b->image_file, ==, "b");
  assert_point(a, 1, 3.5, 4.25, HY_LANDMARK_CONFIRMED);
  assert_point(b, 2, 14, 15, HY_LANDMARK_CONFIRMED);
}

static void test_hand_isbi(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = read_file(HY_EXCHANGE_ISBI, "a.txt", 0, &error);
  g_assert_no_error(error);
  HyAnnotation *a = all->pdata[0];
  g_assert_cmpstr(a->image_file, ==, "a");
  assert_point(a, 0, 10, 11, HY_LANDMARK_CONFIRMED);
  assert_point(a, 1, 12.5, 13, HY_LANDMARK_CONFIRMED);
}

/* An annotation with every state, a confidence and a DICOM spacing. */
static HyAnnotation *sample(const char *image) {
  g_autoptr(HyLandmarkSet) set = tri_set();
  HyAnnotation *a = hy_annotation_new(image, 40, 30, "tri", 3);
  for (int k = 0; k < 3; k++) {
    HyAnnotationPoint *p = &a->points[k];
    g_free(p->name);
    p->name = g_strdup(hy_landmark_set_get_landmark_name(set, k));
    p->x = p->predicted_x = 1.25 + 10 * k;
    p->y = p->predicted_y = 2.5 + 7 * k;
    p->confidence = 0.25 * (k + 1);
  }
  a->points[1].state = HY_LANDMARK_CONFIRMED;
  a->points[2].state = HY_LANDMARK_ABSENT;
  a->points[2].x = a->points[2].y = NAN;
  a->spacing_mm = 0.125;
  a->spacing_source = HY_SPACING_DICOM;
  return a;
}

static void assert_same_points(const HyAnnotation *a, const HyAnnotation *b, gboolean states,
                               gboolean confidence) {
  g_assert_cmpint(a->n_points, ==, b->n_points);
  for (int k = 0; k < a->n_points; k++) {
    const HyAnnotationPoint *p = &a->points[k], *q = &b->points[k];
    gboolean absent = p->state == HY_LANDMARK_ABSENT;
    g_assert_cmpint(absent, ==, q->state == HY_LANDMARK_ABSENT);
    if (states) g_assert_cmpint(p->state, ==, q->state);
    if (!absent) {
      g_assert_cmpfloat_with_epsilon(p->x, q->x, 1e-9);
      g_assert_cmpfloat_with_epsilon(p->y, q->y, 1e-9);
    }
    if (confidence) g_assert_cmpfloat_with_epsilon(p->confidence, q->confidence, 1e-12);
  }
}

static GPtrArray *round_trip(HyExchangeFormat f, HyAnnotation **as, int n, const char *origin,
                             char **text_out) {
  g_autoptr(HyLandmarkSet) set = tri_set();
  g_autoptr(GError) error = NULL;
  char *text = hy_exchange_write(f, as, n, set, 0, &error);
  g_assert_no_error(error);
  GPtrArray *back = hy_exchange_read(f, text, strlen(text), origin, set, 0, &error);
  g_assert_no_error(error);
  *text_out = text;
  return back;
}

static void test_round_trip_slicer(void) {
  g_autoptr(HyAnnotation) a = sample("c.png");
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) back = round_trip(HY_EXCHANGE_SLICER, &a, 1, "c.mrk.json", &text);
  HyAnnotation *b = back->pdata[0];
  assert_same_points(a, b, TRUE, TRUE);
  g_assert_cmpfloat(b->spacing_mm, ==, 0.125);
  g_assert_cmpint(b->spacing_source, ==, HY_SPACING_DICOM);
  g_assert_cmpstr(b->image_file, ==, "c.png");
  g_assert_cmpint(b->width, ==, 40);
  /* what Slicer reads: the schema's fields, mm in LPS */
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  JsonObject *m = json_array_get_object_element(
      json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "markups"), 0);
  g_assert_cmpstr(json_object_get_string_member(m, "type"), ==, "Fiducial");
  g_assert_cmpstr(json_object_get_string_member(m, "coordinateSystem"), ==, "LPS");
  JsonArray *cps = json_object_get_array_member(m, "controlPoints");
  JsonObject *cp1 = json_array_get_object_element(cps, 1);
  g_assert_cmpstr(json_object_get_string_member(cp1, "label"), ==, "P2");
  g_assert_cmpstr(json_object_get_string_member(cp1, "positionStatus"), ==, "defined");
  g_assert_true(json_object_get_boolean_member(cp1, "locked"));
  g_assert_cmpfloat_with_epsilon(
      json_array_get_double_element(json_object_get_array_member(cp1, "position"), 0),
      11.25 * 0.125, 1e-12);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(cps, 2),
                                                "positionStatus"), ==, "undefined");
}

static void test_round_trip_coco_csv(void) {
  HyAnnotation *as[2] = {sample("d.png"), sample("e.png")};
  as[1]->points[0].state = HY_LANDMARK_MOVED;
  as[1]->points[0].x = 3.125;
  as[1]->spacing_mm = 0;
  as[1]->spacing_source = HY_SPACING_UNKNOWN;
  g_autofree char *coco = NULL, *csv = NULL;
  g_autoptr(GPtrArray) c = round_trip(HY_EXCHANGE_COCO, as, 2, "x.json", &coco);
  g_autoptr(GPtrArray) v = round_trip(HY_EXCHANGE_CSV, as, 2, "x.csv", &csv);
  for (int i = 0; i < 2; i++) {
    HyAnnotation *bc = c->pdata[i], *bv = v->pdata[i];
    assert_same_points(as[i], bc, TRUE, TRUE);
    assert_same_points(as[i], bv, TRUE, FALSE);
    g_assert_cmpstr(bc->image_file, ==, as[i]->image_file);
    g_assert_cmpstr(bv->image_file, ==, as[i]->image_file);
    g_assert_cmpfloat(bc->spacing_mm, ==, as[i]->spacing_mm);
    g_assert_cmpfloat(bv->spacing_mm, ==, as[i]->spacing_mm);
    g_assert_cmpint(bc->spacing_source, ==, as[i]->spacing_source);
    g_assert_cmpint(bv->spacing_source, ==, as[i]->spacing_source);
  }
  /* the documented layout: one row per image, coordinates first */
  g_assert_true(g_str_has_prefix(csv, "image,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y,spacing_mm,"));
  g_assert_nonnull(strstr(csv, "\nd.png,1.25,2.5,11.25,9.5,,,0.125,dicom,predicted,confirmed,absent\n"));
  g_assert_nonnull(strstr(coco, "\"keypoints\" : [\n        1.25,"));
  for (int i = 0; i < 2; i++) hy_annotation_free(as[i]);
}

static void test_round_trip_isbi(void) {
  g_autoptr(HyAnnotation) a = sample("f.png");
  g_autoptr(HyLandmarkSet) set = tri_set();
  g_autoptr(GError) error = NULL;
  /* an absent landmark has no place in ISBI text */
  g_assert_null(hy_exchange_write(HY_EXCHANGE_ISBI, &a, 1, set, 0, &error));
  g_assert_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  a->points[2].state = HY_LANDMARK_MOVED;
  a->points[2].x = 7, a->points[2].y = 8;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) back = round_trip(HY_EXCHANGE_ISBI, &a, 1, "f.txt", &text);
  g_assert_cmpstr(text, ==, "1.25,2.5\n11.25,9.5\n7,8\n");
  assert_same_points(a, back->pdata[0], FALSE, FALSE);
}

static void assert_refused(HyExchangeFormat f, const char *text, const char *words) {
  g_autoptr(HyLandmarkSet) set = tri_set();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hy_exchange_read(f, text, strlen(text), "bad", set, 1, &error);
  g_assert_null(all);
  g_assert_nonnull(error);
  if (!strstr(error->message, words)) g_error("'%s' lacks '%s'", error->message, words);
  g_assert_null(strchr(error->message, '\n'));
}

static void test_refused(void) {
  assert_refused(HY_EXCHANGE_CSV, "image,l1_x,l1_y,l2_x,l2_y,l3_x\n", "l3_x and l3_y");
  assert_refused(HY_EXCHANGE_CSV, "image,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y,colour\na,1,2,3,4,5,6,red\n",
                 "unknown column 'colour'");
  assert_refused(HY_EXCHANGE_CSV, "image,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y\na,1,2,3,4,5,nan\n",
                 "not a number");
  assert_refused(HY_EXCHANGE_CSV, "image,l1_x,l1_y,l2_x,l2_y,l3_x,l3_y\na,1,2,3,4,5\n", "fields");
  assert_refused(HY_EXCHANGE_COCO, "{\"images\": [], \"annotations\": [], \"categories\": "
                 "[{\"id\": 1, \"keypoints\": [\"a\"]}]}", "no category with 3 keypoints");
  assert_refused(HY_EXCHANGE_COCO, "{\"images\": [{\"id\": 1, \"file_name\": \"a\"}], "
                 "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, \"keypoints\": [1, 2, 2]}], "
                 "\"categories\": [{\"id\": 1, \"keypoints\": [\"a\", \"b\", \"c\"]}]}",
                 "expected 3 per landmark");
  assert_refused(HY_EXCHANGE_COCO, "[1, 2]", "not a JSON object");
  assert_refused(HY_EXCHANGE_SLICER, "{\"markups\": [{\"type\": \"Fiducial\", \"controlPoints\": "
                 "[{\"label\": \"P1\", \"position\": [1, \"x\", 0]}]}]}", "not a finite number");
  assert_refused(HY_EXCHANGE_SLICER, "{\"markups\": [{\"type\": \"Line\"}]}", "no Fiducial list");
  assert_refused(HY_EXCHANGE_ISBI, "1,2\n3,4\n", "");
}

/* `hyatt export` then `hyatt import` on a tiny PNG: the annotation comes back. */
static void test_cli(void) {
  g_autofree char *image = ct_write_png("g.png", 40, 30, 0.1f);
  g_autofree char *set = data_path("tri.json");
  g_autoptr(HyAnnotation) a = sample("g.png");
  g_autofree char *ann = g_build_filename(tu_tmpdir(), "g.png.hyatt.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *set_dir = g_path_get_dirname(set);
  g_setenv("HYATT_LANDMARKS_DIR", set_dir, TRUE);
  g_assert_true(hy_annotation_save(a, ann, &error));
  const char *formats[] = {"slicer", "coco", "csv"};
  for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
    g_autofree char *out = g_strdup_printf("%s/g.%s", tu_tmpdir(), formats[i]);
    ct_result r = ct_run("export", "--to", formats[i], ann, "--out", out, NULL);
    ct_assert_status(&r, 0);
    ct_result_clear(&r);
    g_autofree char *dir = g_strdup_printf("%s/in-%s", tu_tmpdir(), formats[i]);
    r = ct_run("import", "--from", formats[i], "--set", set, "--images", tu_tmpdir(), "--out", dir,
               out, NULL);
    ct_assert_status(&r, 0);
    g_assert_nonnull(strstr(r.out, "2 of 3 landmarks, spacing 0.125 mm from the DICOM header"));
    ct_result_clear(&r);
    g_autofree char *back_path = g_build_filename(dir, "g.png.hyatt.json", NULL);
    g_autoptr(HyLandmarkSet) tri = tri_set();
    g_autoptr(HyAnnotation) b = hy_annotation_load(back_path, tri, &error);
    g_assert_no_error(error);
    assert_same_points(a, b, TRUE, FALSE);
    g_assert_nonnull(b->sha256);
    /* an existing annotation is kept */
    r = ct_run("import", "--from", formats[i], "--set", set, "--images", tu_tmpdir(), "--out", dir,
               out, NULL);
    ct_assert_status(&r, 1);
    ct_assert_one_line_error(&r, "hyatt import: ", "--replace");
    ct_result_clear(&r);
  }
  /* Slicer needs a spacing */
  a->spacing_mm = 0;
  g_assert_true(hy_annotation_save(a, ann, &error));
  g_autofree char *out = g_build_filename(tu_tmpdir(), "nospacing.mrk.json", NULL);
  ct_result r = ct_run("export", "--to", "slicer", ann, "--out", out, NULL);
  ct_assert_one_line_error(&r, "hyatt export: ", "--spacing");
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  ct_result_clear(&r);
  r = ct_run("export", "--to", "slicer", "--spacing", "0.2", ann, "--out", out, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
}

/* Inputs fuzz_import_coco found, in tests/regress/import_coco/: each is
 * refused in one line (point-1e26.json: a point json-glib would write
 * back as "1e+26.0", which no JSON reader takes). */
static void test_regress(void) {
  g_autofree char *dir = g_build_filename(HY_SOURCE_DIR, "tests", "regress", "import_coco", NULL);
  g_autofree char *set_path = g_build_filename(HY_SOURCE_DIR, "data", "landmarks", "isbi2015.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_from_file(set_path, &error);
  g_assert_no_error(error);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  int n = 0;
  for (const char *name; (name = g_dir_read_name(d)); n++) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_autoptr(GPtrArray) all = hy_exchange_read(HY_EXCHANGE_COCO, data, len, name, set, 0.1, &error);
    g_assert_null(all);
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  g_assert_cmpint(n, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/exchange/hand/slicer", test_hand_slicer);
  g_test_add_func("/exchange/hand/coco", test_hand_coco);
  g_test_add_func("/exchange/hand/csv", test_hand_csv);
  g_test_add_func("/exchange/hand/isbi", test_hand_isbi);
  g_test_add_func("/exchange/round-trip/slicer", test_round_trip_slicer);
  g_test_add_func("/exchange/round-trip/coco-csv", test_round_trip_coco_csv);
  g_test_add_func("/exchange/round-trip/isbi", test_round_trip_isbi);
  g_test_add_func("/exchange/refused", test_refused);
  g_test_add_func("/exchange/cli", test_cli);
  g_test_add_func("/exchange/regress", test_regress);
  return g_test_run();
}
