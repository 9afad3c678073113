/* `hyatt predict` (path in $HYATT_BIN) with a random `tiny` model file:
 * the annotation JSON and overlay PNG it writes, a failing image among
 * good ones, corrections in an existing annotation kept, a damaged one left
 * alone, one of another landmark count or set refused, the spacing
 * entered for a folder (hyatt-folder.json) used, and its usage errors. */
#include <cairo.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "clitest.h"
#include "annotation.h"
#include "hyatt.h"
#include "model.h"
#include "testutil.h"

enum { K = 2 }; /* the tiny configuration's landmarks */

/* A random tiny model in the temporary folder, made once. */
static const char *model_path(void) {
  static char *path;
  if (path) return path;
  hy_net_config cfg;
  hy_net *net;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "tiny", &err), ==, HY_OK);
  g_assert_cmpint(cfg.landmarks, ==, K);
  g_assert_cmpint(hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_init_seeded(net, 5);
  hy_model_info *info = g_new0(hy_model_info, 1);
  strcpy(info->landmark_set, "test-set");
  info->landmark_count = K;
  strcpy(info->landmark_names[0], "Sella");
  strcpy(info->landmark_names[1], "Nasion");
  info->spacing_mm = 0.1;
  path = g_build_filename(tu_tmpdir(), "tiny.hyatt", NULL);
  if (hy_model_save(net, info, path, &err) != HY_OK) g_error("%s", err.msg);
  g_free(info);
  hy_net_free(net);
  return path;
}

static JsonObject *load_json(JsonParser *parser, const char *path) {
  GError *error = NULL;
  if (!json_parser_load_from_file(parser, path, &error)) g_error("%s: %s", path, error->message);
  JsonNode *root = json_parser_get_root(parser);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
  return json_node_get_object(root);
}

static void assert_timestamp(JsonObject *o, const char *member) {
  const char *s = json_object_get_string_member(o, member);
  GDateTime *t = g_date_time_new_from_iso8601(s, NULL);
  if (!t) g_error("%s '%s' is not ISO 8601", member, s);
  g_date_time_unref(t);
}

/* Checks everything of an annotation written for a fresh prediction. */
static void check_annotation(const char *json, const char *image, int w, int h) {
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = load_json(parser, json);
  g_assert_cmpstr(json_object_get_string_member(o, "format"), ==, "hyatt-annotation");
  g_assert_cmpint(json_object_get_int_member(o, "version"), ==, 1);
  JsonObject *img = json_object_get_object_member(o, "image");
  g_autofree char *base = g_path_get_basename(image);
  g_assert_cmpstr(json_object_get_string_member(img, "file"), ==, base);
  g_assert_cmpint(json_object_get_int_member(img, "width"), ==, w);
  g_assert_cmpint(json_object_get_int_member(img, "height"), ==, h);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(image, &bytes, &len, NULL));
  g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)bytes, len);
  g_assert_cmpstr(json_object_get_string_member(img, "sha256"), ==, sha);
  g_assert_cmpfloat(json_object_get_double_member(img, "spacing_mm"), ==, 0.1);
  g_assert_cmpstr(json_object_get_string_member(o, "landmark_set"), ==, "test-set");
  char id[HY_MODEL_ID_SIZE];
  hy_error err = {0};
  g_assert_cmpint(hy_model_id(id, model_path(), &err), ==, HY_OK);
  g_assert_cmpstr(json_object_get_string_member(o, "model"), ==, id);
  assert_timestamp(o, "created");
  assert_timestamp(o, "modified");
  JsonArray *marks = json_object_get_array_member(o, "landmarks");
  g_assert_cmpint(json_array_get_length(marks), ==, K);
  const char *names[K] = {"Sella", "Nasion"};
  for (int k = 0; k < K; k++) {
    JsonObject *m = json_array_get_object_element(marks, k);
    g_assert_cmpint(json_object_get_int_member(m, "index"), ==, k + 1);
    g_assert_cmpstr(json_object_get_string_member(m, "name"), ==, names[k]);
    g_assert_cmpstr(json_object_get_string_member(m, "state"), ==, "predicted");
    double x = json_object_get_double_member(m, "x"), y = json_object_get_double_member(m, "y");
    g_assert_true(x >= -0.5 && x <= w - 0.5 && y >= -0.5 && y <= h - 0.5);
    g_assert_cmpfloat(json_object_get_double_member(m, "predicted_x"), ==, x);
    g_assert_cmpfloat(json_object_get_double_member(m, "predicted_y"), ==, y);
    double c = json_object_get_double_member(m, "confidence");
    g_assert_true(c >= 0 && c <= 1);
  }
}

static void check_png(const char *path, int w, int h) {
  cairo_surface_t *s = cairo_image_surface_create_from_png(path);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, w);
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, h);
  cairo_surface_destroy(s);
}

static char *out_file(const char *dir, const char *name) {
  return g_build_filename(dir, name, NULL);
}

static const char *spacing_source(JsonParser *parser, const char *json, double *mm) {
  JsonObject *img = json_object_get_object_member(load_json(parser, json), "image");
  *mm = json_object_get_double_member(img, "spacing_mm");
  return json_object_get_string_member(img, "spacing_source");
}

/* A folder's spacing over the model's; --spacing over both, and kept after. */
static void test_folder_spacing(void) {
  g_autofree char *png = ct_write_png("folder-spacing.png", 60, 50, 0.2f);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "spacing-folder", NULL);
  g_autofree char *image = g_build_filename(dir, "x.png", NULL);
  g_autofree char *json = g_build_filename(dir, "x.png.hyatt.json", NULL);
  g_autofree char *settings = g_build_filename(dir, "hyatt-folder.json", NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  double mm;
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  g_assert_true(g_file_get_contents(png, &bytes, &len, NULL));
  tu_write_file(image, bytes, (gssize)len);
  tu_write_file(settings, "{\"format\": \"hyatt-folder\", \"version\": 1, \"spacing_mm\": 0.125}", -1);

  ct_result r = ct_run("predict", "--model", model_path(), image, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "spacing 0.125 mm entered by the user for this folder"));
  ct_result_clear(&r);
  {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_cmpstr(spacing_source(parser, json, &mm), ==, "folder");
    g_assert_cmpfloat(mm, ==, 0.125);
  }

  r = ct_run("predict", "--model", model_path(), "--spacing", "0.2", image, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  r = ct_run("predict", "--model", model_path(), image, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_cmpstr(spacing_source(parser, json, &mm), ==, "user");
    g_assert_cmpfloat(mm, ==, 0.2);
  }

  /* a damaged folder file fails the image, naming the file */
  tu_write_file(settings, "{\"format\": \"hyatt-fol", -1);
  r = ct_run("predict", "--model", model_path(), image, NULL);
  ct_assert_status(&r, 1);
  g_assert_nonnull(strstr(r.err, "hyatt-folder.json"));
  ct_result_clear(&r);
}

static void test_predict(void) {
  g_autofree char *a = ct_write_png("a.png", 150, 100, 0.2f);
  g_autofree char *b = ct_write_png("b.png", 70, 110, 0.2f);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "results", "new", NULL);
  ct_result r = ct_run("predict", "--model", model_path(), "--out", dir, "--overlay",
                       "--threads", "2", a, b, NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  g_assert_nonnull(strstr(r.out, "[1/2] "));
  g_assert_nonnull(strstr(r.out, "[2/2] "));
  g_assert_nonnull(strstr(r.out, "2 of 2 images done"));
  ct_result_clear(&r);
  g_autofree char *ja = out_file(dir, "a.png.hyatt.json");
  g_autofree char *jb = out_file(dir, "b.png.hyatt.json");
  g_autofree char *pa = out_file(dir, "a.png.overlay.png");
  g_autofree char *pb = out_file(dir, "b.png.overlay.png");
  check_annotation(ja, a, 150, 100);
  check_annotation(jb, b, 70, 110);
  check_png(pa, 150, 100);
  check_png(pb, 70, 110);

  /* beside the image when there is no --out, no overlay unless asked */
  r = ct_run("predict", "--model", model_path(), a, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  g_autofree char *beside = out_file(tu_tmpdir(), "a.png.hyatt.json");
  check_annotation(beside, a, 150, 100);
  g_autofree char *no_png = out_file(tu_tmpdir(), "a.png.overlay.png");
  g_assert_false(g_file_test(no_png, G_FILE_TEST_EXISTS));
}

static void test_failing_image(void) {
  g_autofree char *a = ct_write_png("c.png", 64, 64, 0.2f);
  g_autofree char *b = ct_write_png("d.png", 90, 40, 0.2f);
  g_autofree char *missing = g_build_filename(tu_tmpdir(), "missing.png", NULL);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "results-fail", NULL);
  ct_result r = ct_run("predict", "--model", model_path(), "--out", dir, a, missing, b, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "missing.png");
  g_assert_nonnull(strstr(r.out, "2 of 3 images done"));
  ct_result_clear(&r);
  g_autofree char *jc = out_file(dir, "c.png.hyatt.json");
  g_autofree char *jd = out_file(dir, "d.png.hyatt.json");
  check_annotation(jc, a, 64, 64);
  check_annotation(jd, b, 90, 40);
}

/* Sets landmark 1 of the annotation at path to `moved` at (10, 20). */
static void correct_first(const char *path) {
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = load_json(parser, path);
  json_object_set_string_member(o, "created", "2020-01-02T03:04:05Z");
  JsonObject *m = json_array_get_object_element(json_object_get_array_member(o, "landmarks"), 0);
  json_object_set_string_member(m, "state", "moved");
  json_object_set_double_member(m, "x", 10.0);
  json_object_set_double_member(m, "y", 20.0);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, json_parser_get_root(parser));
  GError *error = NULL;
  g_assert_true(json_generator_to_file(gen, path, &error));
}

static void test_existing_annotation(void) {
  g_autofree char *a = ct_write_png("e.png", 80, 60, 0.2f);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "results-keep", NULL);
  g_autofree char *json = out_file(dir, "e.png.hyatt.json");
  ct_result r = ct_run("predict", "--model", model_path(), "--out", dir, a, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  correct_first(json);

  r = ct_run("predict", "--model", model_path(), "--out", dir, a, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "1 corrected ones kept"));
  ct_result_clear(&r);
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = load_json(parser, json);
  g_assert_cmpstr(json_object_get_string_member(o, "created"), ==, "2020-01-02T03:04:05Z");
  JsonArray *marks = json_object_get_array_member(o, "landmarks");
  JsonObject *m0 = json_array_get_object_element(marks, 0);
  g_assert_cmpstr(json_object_get_string_member(m0, "state"), ==, "moved");
  g_assert_cmpfloat(json_object_get_double_member(m0, "x"), ==, 10.0);
  g_assert_cmpfloat(json_object_get_double_member(m0, "y"), ==, 20.0);
  g_assert_cmpfloat(json_object_get_double_member(m0, "predicted_x"), !=, 10.0);
  JsonObject *m1 = json_array_get_object_element(marks, 1);
  g_assert_cmpstr(json_object_get_string_member(m1, "state"), ==, "predicted");

  /* corrections of another image are not overwritten */
  g_autofree char *other = ct_write_png("e.png", 81, 60, 0.2f);
  r = ct_run("predict", "--model", model_path(), "--out", dir, a, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "different image");
  ct_result_clear(&r);
  g_autoptr(JsonParser) again = json_parser_new();
  m0 = json_array_get_object_element(
      json_object_get_array_member(load_json(again, json), "landmarks"), 0);
  g_assert_cmpfloat(json_object_get_double_member(m0, "x"), ==, 10.0);

  /* nor is a damaged file */
  const char *damaged = "{\"format\": \"hyatt-annotation\", \"landm";
  g_assert_true(g_file_set_contents(json, damaged, -1, NULL));
  r = ct_run("predict", "--model", model_path(), "--out", dir, a, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "not overwritten");
  ct_result_clear(&r);
  g_autofree char *now = NULL;
  g_assert_true(g_file_get_contents(json, &now, NULL, NULL));
  g_assert_cmpstr(now, ==, damaged);
}

/* An annotation the model does not fit (another landmark count, or
 * corrections of another landmark set) is refused, byte for byte kept. */
static void test_foreign_annotation(void) {
  g_autofree char *img = ct_write_png("g.png", 50, 40, 0.2f);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "results-foreign", NULL);
  g_autofree char *json = out_file(dir, "g.png.hyatt.json");
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  g_autoptr(HyAnnotation) nineteen = hy_annotation_new("g.png", 50, 40, "isbi2015", 19);
  GError *error = NULL;
  g_assert_true(hy_annotation_save(nineteen, json, &error));
  g_autofree char *before = NULL;
  g_assert_true(g_file_get_contents(json, &before, NULL, NULL));
  ct_result r = ct_run("predict", "--model", model_path(), "--out", dir, img, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "holds 19 landmarks, the model predicts 2");
  ct_result_clear(&r);
  g_autofree char *after = NULL;
  g_assert_true(g_file_get_contents(json, &after, NULL, NULL));
  g_assert_cmpstr(after, ==, before);

  g_autoptr(HyAnnotation) other = hy_annotation_new("g.png", 50, 40, "other", K);
  other->points[1].x = other->points[1].y = 5;
  other->points[1].state = HY_LANDMARK_CONFIRMED;
  g_assert_true(hy_annotation_save(other, json, &error));
  g_clear_pointer(&before, g_free);
  g_assert_true(g_file_get_contents(json, &before, NULL, NULL));
  r = ct_run("predict", "--model", model_path(), "--out", dir, img, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "landmark set 'other'");
  ct_result_clear(&r);
  g_clear_pointer(&after, g_free);
  g_assert_true(g_file_get_contents(json, &after, NULL, NULL));
  g_assert_cmpstr(after, ==, before);
}

static void test_usage(void) {
  g_autofree char *a = ct_write_png("f.png", 40, 40, 0.2f);
  g_autofree char *bad_model = g_build_filename(tu_tmpdir(), "bad.hyatt", NULL);
  g_assert_true(g_file_set_contents(bad_model, "not a model", -1, NULL));

  ct_result r = ct_run("predict", "--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "--model"));
  g_assert_nonnull(strstr(r.out, "--overlay"));
  ct_result_clear(&r);

  r = ct_run("predict", a, NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt predict: ", "--model");
  ct_result_clear(&r);

  r = ct_run("predict", "--model", model_path(), NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt predict: ", "IMAGE");
  ct_result_clear(&r);

  r = ct_run("predict", "--model", bad_model, a, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt predict: ", "bad.hyatt");
  ct_result_clear(&r);

  r = ct_run("predict", "--model", model_path(), "--threads", "0", a, NULL);
  ct_assert_status(&r, 2);
  ct_result_clear(&r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli-predict/predict", test_predict);
  g_test_add_func("/cli-predict/failing-image", test_failing_image);
  g_test_add_func("/cli-predict/existing-annotation", test_existing_annotation);
  g_test_add_func("/cli-predict/foreign-annotation", test_foreign_annotation);
  g_test_add_func("/cli-predict/folder-spacing", test_folder_spacing);
  g_test_add_func("/cli-predict/usage", test_usage);
  return g_test_run();
}
