/* HyLandmarkSet (app/landmark_set.h): every shipped definition loads and
 * says what it should; isbi2015.json carries the published ISBI 2015 class
 * thresholds (each bound checked from both sides); its measurements give
 * anatomically plausible values on the senior and junior annotations of
 * image 001 (skipped without ../shared/data), the same on the mirrored
 * image; broken definitions are refused with the file and the field named. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hyatt.h"
#include "landmark_set.h"
#include "testutil.h"

static char *shipped_path(const char *name) {
  g_autofree char *file = g_strconcat(name, ".json", NULL);
  return g_build_filename(HY_SOURCE_DIR, "data", "landmarks", file, NULL);
}

static HyLandmarkSet *load_shipped(const char *name) {
  g_autofree char *path = shipped_path(name);
  g_autoptr(GError) error = NULL;
  HyLandmarkSet *set = hy_landmark_set_new_from_file(path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(set);
  g_assert_cmpstr(hy_landmark_set_get_name(set), ==, name);
  return set;
}

static const char *const isbi_abbreviations[19] = {
  "S", "N", "Or", "Po", "A", "B", "Pog", "Me", "Gn", "Go",
  "LIT", "UIT", "UL", "LL", "Sn", "Pog'", "PNS", "ANS", "Ar",
};

static void assert_colours(HyLandmarkSet *set) {
  for (int i = 0; i < hy_landmark_set_get_count(set); i++) {
    const char *c = hy_landmark_set_get_colour(set, i);
    g_assert_cmpint(strlen(c), ==, 7);
    g_assert_cmpint(c[0], ==, '#');
    double rgb[3];
    hy_landmark_set_get_rgb(set, i, rgb);
    for (int k = 0; k < 3; k++) g_assert_true(rgb[k] >= 0 && rgb[k] <= 1);
    /* neighbours never share a colour */
    if (i > 0) g_assert_cmpstr(c, !=, hy_landmark_set_get_colour(set, i - 1));
  }
}

static void test_isbi2015(void) {
  g_autoptr(HyLandmarkSet) set = load_shipped("isbi2015");
  g_assert_cmpint(hy_landmark_set_get_count(set), ==, 19);
  g_assert_cmpint(hy_landmark_set_get_version(set), >=, 1);
  for (int i = 0; i < 19; i++) {
    g_assert_cmpstr(hy_landmark_set_get_abbreviation(set, i), ==, isbi_abbreviations[i]);
    g_assert_cmpint(hy_landmark_set_find(set, isbi_abbreviations[i]), ==, i);
    for (int j = 0; j < i; j++)
      g_assert_cmpstr(hy_landmark_set_get_colour(set, i), !=, hy_landmark_set_get_colour(set, j));
  }
  g_assert_cmpstr(hy_landmark_set_get_landmark_name(set, 0), ==, "Sella");
  g_assert_cmpstr(hy_landmark_set_get_landmark_name(set, 18), ==, "Articulare");
  g_assert_cmpint(hy_landmark_set_find(set, "Xx"), ==, -1);
  assert_colours(set);
  double spacing = 0;
  const char *source = NULL;
  g_assert_true(hy_landmark_set_default_spacing(set, NULL, 0, &spacing, &source));
  g_assert_cmpfloat(spacing, ==, 0.1);
  g_assert_nonnull(source);
  g_assert_true(hy_landmark_set_has_facing(set));

  static const char *const ids[] = {"ANB", "SNB", "SNA", "ODI", "APDI", "FHI", "FMA-ISBI",
                                    "MW", "SN-MP", "FMA", "ANS-PNS", "N-Me"};
  g_assert_cmpint(hy_landmark_set_get_n_measurements(set), ==, G_N_ELEMENTS(ids));
  for (int i = 0; i < (int)G_N_ELEMENTS(ids); i++) {
    const HyMeasurementDef *d = hy_landmark_set_get_measurement(set, i);
    g_assert_cmpstr(d->m.id, ==, ids[i]);
    g_assert_nonnull(d->source);
    g_assert_nonnull(d->definition);
    /* MW has four classes; the standard measurements a normal range and either side */
    g_assert_cmpint(d->m.n_classes, ==, i == 7 ? 4 : 3);
  }
}

static void test_isbi2023(void) {
  g_autoptr(HyLandmarkSet) set = load_shipped("isbi2023");
  g_autoptr(HyLandmarkSet) isbi = load_shipped("isbi2015");
  g_assert_cmpint(hy_landmark_set_get_count(set), ==, 38);
  for (int i = 0; i < 19; i++) {
    g_assert_cmpstr(hy_landmark_set_get_landmark_name(set, i), ==,
                    hy_landmark_set_get_landmark_name(isbi, i));
    g_assert_cmpstr(hy_landmark_set_get_abbreviation(set, i), ==, isbi_abbreviations[i]);
    g_assert_cmpstr(hy_landmark_set_get_colour(set, i), ==, hy_landmark_set_get_colour(isbi, i));
  }
  g_assert_cmpstr(hy_landmark_set_get_abbreviation(set, 26), ==, "Ba");
  g_assert_cmpstr(hy_landmark_set_get_abbreviation(set, 37), ==, "L6");
  assert_colours(set);
  double spacing;
  g_assert_false(hy_landmark_set_default_spacing(set, NULL, 0, &spacing, NULL));
}

static void test_hand(void) {
  g_autoptr(HyLandmarkSet) set = load_shipped("hand");
  g_assert_cmpint(hy_landmark_set_get_count(set), ==, 37);
  g_assert_false(hy_landmark_set_has_facing(set));
  assert_colours(set);
  /* wrist width: landmarks 2 and 6 are 50 mm apart */
  hy_point p[37];
  for (int i = 0; i < 37; i++) p[i] = (hy_point){i, 2 * i};
  p[1] = (hy_point){100, 900};
  p[5] = (hy_point){400, 500}; /* 500 px from landmark 2 */
  double spacing = 0;
  const char *source = NULL;
  g_assert_true(hy_landmark_set_default_spacing(set, p, 37, &spacing, &source));
  g_assert_cmpfloat_with_epsilon(spacing, 0.1, 1e-15);
  g_assert_nonnull(strstr(source, "50 mm"));
  p[5] = p[1];
  g_assert_false(hy_landmark_set_default_spacing(set, p, 37, &spacing, NULL));
  g_assert_false(hy_landmark_set_default_spacing(set, NULL, 0, &spacing, NULL));
}

static void test_named(void) {
  g_autofree char *dir = g_build_filename(HY_SOURCE_DIR, "data", "landmarks", NULL);
  g_setenv("HYATT_LANDMARKS_DIR", dir, TRUE);
  g_auto(GStrv) dirs = hy_landmark_set_search_dirs();
  g_assert_cmpstr(dirs[0], ==, dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_named("hand", &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(hy_landmark_set_get_origin(set), "hand.json"));

  g_autoptr(HyLandmarkSet) none = hy_landmark_set_new_named("no-such-set", &error);
  g_assert_null(none);
  g_assert_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_null(hy_landmark_set_new_named("../etc/passwd", &error));
  g_assert_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* a file whose "name" is not its file name is refused */
  g_autofree char *src = shipped_path("hand");
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(src, &text, NULL, NULL));
  g_autofree char *moved = g_build_filename(tu_tmpdir(), "other.json", NULL);
  g_assert_true(g_file_set_contents(moved, text, -1, NULL));
  g_setenv("HYATT_LANDMARKS_DIR", tu_tmpdir(), TRUE);
  g_assert_null(hy_landmark_set_new_named("other", &error));
  g_assert_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "name: 'hand', expected 'other'"));
  g_unsetenv("HYATT_LANDMARKS_DIR");
}

/* The thresholds of Wang et al. 2016 (the ISBI 2015 classification table)
 * and the adult norms of the standard measurements: each bound belongs to
 * class 1; just beyond it, the neighbouring class. */
static void test_isbi_thresholds(void) {
  g_autoptr(HyLandmarkSet) set = load_shipped("isbi2015");
  static const struct { const char *id; double bound; int at, below, above; } bounds[] = {
    {"ANB", 3.2, 1, 3, 1},   {"ANB", 5.7, 1, 1, 2},
    {"SNB", 74.6, 1, 2, 1},  {"SNB", 78.7, 1, 1, 3},
    {"SNA", 79.4, 1, 3, 1},  {"SNA", 83.2, 1, 1, 2},
    {"ODI", 68.4, 1, 3, 1},  {"ODI", 80.5, 1, 1, 2},
    {"APDI", 77.6, 1, 2, 1}, {"APDI", 85.2, 1, 1, 3},
    {"FHI", 0.65, 1, 3, 1},  {"FHI", 0.75, 1, 1, 2},
    {"FMA-ISBI", 26.8, 1, 3, 1}, {"FMA-ISBI", 31.4, 1, 1, 2},
    {"MW", 2, 1, 0, 1},      {"MW", 4.5, 1, 1, 4},
    {"MW", 0, 2, 3, 0}, /* 0 < MW < 2 mm: in no published class */
    /* the standard measurements' approximate adult norms */
    {"SN-MP", 27, 1, 3, 1},  {"SN-MP", 37, 1, 1, 2},
    {"FMA", 20, 1, 3, 1},    {"FMA", 30, 1, 1, 2},
    {"ANS-PNS", 49, 1, 3, 1}, {"ANS-PNS", 60, 1, 1, 2},
    {"N-Me", 105, 1, 3, 1},  {"N-Me", 125, 1, 1, 2},
  };
  for (size_t b = 0; b < G_N_ELEMENTS(bounds); b++) {
    const HyMeasurementDef *def = NULL;
    for (int i = 0; i < hy_landmark_set_get_n_measurements(set); i++)
      if (strcmp(hy_landmark_set_get_measurement(set, i)->m.id, bounds[b].id) == 0)
        def = hy_landmark_set_get_measurement(set, i);
    g_assert_nonnull(def);
    const double v[3] = {bounds[b].bound, nextafter(bounds[b].bound, -1e9),
                         nextafter(bounds[b].bound, 1e9)};
    const int want[3] = {bounds[b].at, bounds[b].below, bounds[b].above};
    for (int k = 0; k < 3; k++) {
      const hy_measure_class *c = hy_measurement_classify(&def->m, v[k]);
      int got = c ? c->number : 0;
      if (got != want[k])
        g_error("%s = %.17g: class %d, expected %d", bounds[b].id, v[k], got, want[k]);
    }
  }
}

static const struct { const char *id; double lo, hi; } plausible[] = {
  {"ANB", -10, 15},  {"SNB", 70, 95},      {"SNA", 70, 95},      {"ODI", 40, 100},
  {"APDI", 60, 110}, {"FHI", 0.5, 0.9},    {"FMA-ISBI", 15, 50}, {"MW", -10, 15},
  {"SN-MP", 15, 55}, {"FMA", 10, 50},      {"ANS-PNS", 35, 65},  {"N-Me", 90, 150},
};

static void test_isbi_001(void) {
  const char *data = tu_shared_data();
  g_autofree char *dir = data ? g_build_filename(data, "isbi2015", NULL) : NULL;
  if (!dir || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_test_skip("no ../shared/data/isbi2015");
    return;
  }
  g_autoptr(HyLandmarkSet) set = load_shipped("isbi2015");
  static const char *const annotators[] = {"senior_px.csv", "junior_px.csv"};
  for (size_t a = 0; a < G_N_ELEMENTS(annotators); a++) {
    g_autofree char *csv = g_build_filename(dir, annotators[a], NULL);
    hy_landmark_table t = {0};
    hy_error err = {0};
    if (hy_landmark_csv_load(&t, csv, &err) != HY_OK) g_error("%s", err.msg);
    int r = hy_landmark_table_find(&t, "001");
    g_assert_cmpint(r, >=, 0);
    g_assert_cmpint(t.n_landmarks, ==, 19);
    hy_point p[19], mirrored[19];
    memcpy(p, hy_landmark_table_row(&t, r), sizeof p);
    for (int i = 0; i < 19; i++) mirrored[i] = (hy_point){1934 - p[i].x, p[i].y};
    int facing = hy_landmark_set_facing(set, p, 19);
    g_assert_cmpint(facing, ==, 1);
    g_assert_cmpint(hy_landmark_set_facing(set, mirrored, 19), ==, -1);
    double spacing;
    g_assert_true(hy_landmark_set_default_spacing(set, p, 19, &spacing, NULL));
    g_assert_cmpint(hy_landmark_set_get_n_measurements(set), ==, G_N_ELEMENTS(plausible));
    for (int i = 0; i < hy_landmark_set_get_n_measurements(set); i++) {
      const HyMeasurementDef *def = hy_landmark_set_get_measurement(set, i);
      double v, w;
      if (hy_measurement_eval(&v, &def->m, p, 19, spacing, facing, &err) != HY_OK ||
          hy_measurement_eval(&w, &def->m, mirrored, 19, spacing, -1, &err) != HY_OK)
        g_error("%s", err.msg);
      g_test_message("%s 001 %s = %.3f", annotators[a], def->m.id, v);
      g_assert_cmpstr(def->m.id, ==, plausible[i].id);
      if (!(v >= plausible[i].lo && v <= plausible[i].hi))
        g_error("%s of 001 (%s) is %g, outside %g to %g", def->m.id, annotators[a], v,
                plausible[i].lo, plausible[i].hi);
      g_assert_cmpfloat_with_epsilon(w, v, 1e-9);
    }
    hy_landmark_table_free(&t);
  }
}

/* A valid one-landmark-set skeleton with `edit` replacing `what`. */
static char *variant(const char *what, const char *edit) {
  static const char *base =
      "{\"format_version\": 1, \"name\": \"tri\", \"version\": 1, \"count\": 3,\n"
      " \"landmarks\": [\n"
      "  {\"index\": 1, \"name\": \"One\", \"abbreviation\": \"P1\", \"colour\": \"#e69f00\"},\n"
      "  {\"index\": 2, \"name\": \"Two\", \"abbreviation\": \"P2\", \"colour\": \"#56B4E9\"},\n"
      "  {\"index\": 3, \"name\": \"Three\", \"abbreviation\": \"P3\", \"colour\": \"#009e73\"}],\n"
      " \"measurements\": [\n"
      "  {\"id\": \"A\", \"kind\": \"angle\", \"points\": [\"P1\", \"P2\", 3],\n"
      "   \"classes\": [{\"class\": 1, \"label\": \"wide\", \"above\": 90}]}]}\n";
  g_assert_nonnull(strstr(base, what));
  GString *s = g_string_new(base);
  g_string_replace(s, what, edit, 1);
  return g_string_free(s, FALSE);
}

static void test_refuses(void) {
  {
    g_autofree char *ok = variant("\"tri\"", "\"tri\"");
    g_autoptr(GError) error = NULL;
    g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_from_data(ok, -1, "ok.json", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(hy_landmark_set_get_colour(set, 1), ==, "#56b4e9");
    g_assert_cmpint(hy_landmark_set_get_measurement(set, 0)->m.terms[0].points[2], ==, 2);
  }
  static const struct { const char *what, *edit, *words; } cases[] = {
    {"\"count\": 3", "\"count\": 4", "broken.json: landmarks: 3 landmarks, but count says 4"},
    {"\"index\": 2", "\"index\": 1", "broken.json: landmarks[1].index: 1 is also the index of landmarks[0]"},
    {"\"index\": 3", "\"index\": 4", "broken.json: landmarks[2].index: 4, expected 1 to 3"},
    {"#009e73", "#009e7", "broken.json: landmarks[2].colour: '#009e7' is not a colour #rrggbb"},
    {"#009e73", "red", "landmarks[2].colour: 'red'"},
    {"\"abbreviation\": \"P2\"", "\"abbreviation\": \"P1\"", "landmarks[1].abbreviation: 'P1' is also"},
    {"\"name\": \"Two\", ", "", "landmarks[1].name: missing"},
    {"[\"P1\", \"P2\", 3]", "[\"P1\", \"P9\", 3]", "broken.json: measurements[0].points[1]: no landmark 'P9' in this set"},
    {"[\"P1\", \"P2\", 3]", "[\"P1\", \"P2\", 4]", "measurements[0].points[2]: no landmark 4 in this set of 3"},
    {"[\"P1\", \"P2\", 3]", "[\"P1\", \"P2\"]", "measurements[0].points: 2 landmarks, angle needs 3"},
    {"\"angle\"", "\"angel\"", "measurements[0].kind: unknown kind 'angel'"},
    {"\"above\": 90", "\"above\": 90, \"min\": 1", "measurements[0].classes[0]: both min and above"},
    {"\"above\": 90", "\"abuve\": 90", "measurements[0].classes[0]: unknown key 'abuve'"},
    {"\"above\": 90", "\"min\": 9, \"max\": 1", "measurements[0].classes[0]: the bounds 9 to 1 hold no value"},
    {"\"kind\": \"angle\", \"points\": [\"P1\", \"P2\", 3]",
     "\"terms\": [{\"kind\": \"angle\", \"points\": [1, 2, 3]}, {\"kind\": \"distance\", \"points\": [1, 2]}]",
     "measurement A: term 2 (distance) is in other units than term 1 (angle)"},
    {"\"id\": \"A\",", "", "measurements[0].id: missing"},
    {"\"format_version\": 1", "\"format_version\": 2", "broken.json: format_version: 2, this program reads version 1"},
    {"\"name\": \"tri\"", "\"name\": \"Tri set\"", "broken.json: name: 'Tri set'"},
    {"\"version\": 1,", "\"version\": 1, \"colour\": \"#000000\",", "(top level): unknown key 'colour'"},
    {"\"count\": 3,", "\"count\": 3, \"spacing\": {\"mm_per_pixel\": 0.1},", "spacing.source: missing"},
    {"\"count\": 3,", "\"count\": 3, \"spacing\": {\"mm_per_pixel\": -1, \"source\": \"x\"},",
     "spacing.mm_per_pixel: -1, expected a positive number"},
    {"\"count\": 3,", "\"count\": 3, \"spacing\": {\"reference\": {\"from\": \"P1\", \"to\": \"P7\", \"mm\": 5}, \"source\": \"x\"},",
     "spacing.reference.to: no landmark 'P7' in this set"},
    {"\"count\": 3,", "\"count\": 3, \"facing\": {\"posterior\": \"P1\", \"anterior\": \"P1\"},",
     "facing: posterior and anterior are the same landmark"},
    {"\"classes\"", "\"weight\": 0, \"classes\"", "measurements[0].weight: 0, expected a non-zero number"},
    {"}]}]}", "}]}, {\"id\": \"A\", \"kind\": \"distance\", \"points\": [1, 2]}]}",
     "measurements[1].id: 'A' is also the id of measurements[0]"},
    {"{\"format_version\"", "[{\"format_version\"", "broken.json: not valid JSON"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = variant(cases[i].what, cases[i].edit);
    g_autoptr(GError) error = NULL;
    g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_from_data(text, -1, "broken.json", &error);
    if (set) g_error("case %zu (%s) was accepted", i, cases[i].words);
    g_assert_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID);
    if (!strstr(error->message, cases[i].words))
      g_error("case %zu: '%s' lacks '%s'", i, error->message, cases[i].words);
    g_assert_null(strchr(error->message, '\n'));
  }

  /* from a file: the file's name leads the message */
  g_autofree char *path = g_build_filename(tu_tmpdir(), "bad-colour.json", NULL);
  g_autofree char *text = variant("#009e73", "#00ge73");
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_null(hy_landmark_set_new_from_file(path, &error));
  g_assert_nonnull(strstr(error->message, "bad-colour.json: landmarks[2].colour"));
  g_clear_error(&error);
  g_autofree char *missing = g_build_filename(tu_tmpdir(), "missing.json", NULL);
  g_assert_null(hy_landmark_set_new_from_file(missing, &error));
  g_assert_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/landmark-set/isbi2015", test_isbi2015);
  g_test_add_func("/landmark-set/isbi2023", test_isbi2023);
  g_test_add_func("/landmark-set/hand", test_hand);
  g_test_add_func("/landmark-set/named", test_named);
  g_test_add_func("/landmark-set/isbi-thresholds", test_isbi_thresholds);
  g_test_add_func("/landmark-set/isbi-001", test_isbi_001);
  g_test_add_func("/landmark-set/refuses", test_refuses);
  return g_test_run();
}
