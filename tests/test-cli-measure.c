/* `hyatt measure` (path in $HYATT_BIN): the measurements of made-up
 * cephalometric points from ISBI text, CSV and an annotation, the line
 * that says where the spacing came from, a mirrored profile giving the
 * same values, the hand set, one-line errors, and ISBI 2015 image 001 with
 * its data set descriptor when ../shared/data is there. */
#include <glib/gstdio.h>
#include <string.h>

#include "clitest.h"
#include "hyatt.h"
#include "testutil.h"

static void assert_has(const char *text, const char *words) {
  if (!strstr(text, words)) g_error("'%s' lacks '%s'", text, words);
}

/* A made-up lateral cephalogram facing right (not from any data set). */
static const double ceph[19][2] = {
  {800, 1000}, {1400, 900},  {1250, 1100}, {650, 1120},  {1350, 1500}, {1300, 1850},
  {1300, 1950}, {1250, 2050}, {1290, 2010}, {750, 1750},  {1360, 1640}, {1390, 1650},
  {1480, 1600}, {1460, 1750}, {1470, 1450}, {1400, 2000}, {850, 1400},  {1400, 1390},
  {700, 1350},
};

/* ISBI text, x mirrored about `mirror` when it is not 0, and class lines
 * after the points as in the original ISBI files. */
static char *write_ceph_text(const char *name, double mirror) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 19; i++)
    g_string_append_printf(s, "%g,%g\n", mirror ? mirror - ceph[i][0] : ceph[i][0], ceph[i][1]);
  g_string_append(s, "1\n2\n3\n");
  g_autofree char *text = g_string_free(s, FALSE);
  return tu_write_tmp(name, text, -1);
}

/* The measurement lines: from the first group heading on. */
static const char *measurements(const char *out) {
  const char *p = strstr(out, "\n\n");
  g_assert_nonnull(p);
  return p;
}

static void test_text(void) {
  g_autofree char *path = write_ceph_text("ceph.txt", 0);
  ct_result r = ct_run("measure", path, NULL);
  ct_assert_status(&r, 0);
  assert_has(r.out, "Landmark set: isbi2015");
  assert_has(r.out, "Spacing: 0.1 mm per pixel, from the landmark set isbi2015");
  assert_has(r.out, "Profile: facing right");
  static const char *const ids[] = {"ANB", "SNB", "SNA", "ODI", "APDI", "FHI", "FMA-ISBI",
                                    "MW", "SN-MP", "FMA", "ANS-PNS", "N-Me"};
  for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
    g_autofree char *line = g_strdup_printf("\n  %s ", ids[i]);
    assert_has(r.out, line);
  }
  assert_has(r.out, "class ");
  g_assert_cmpstr(r.err, ==, "");

  /* the mirror image: the same lines, but facing left */
  g_autofree char *mpath = write_ceph_text("mirrored.txt", 1935);
  ct_result m = ct_run("measure", mpath, NULL);
  ct_assert_status(&m, 0);
  assert_has(m.out, "Profile: facing left");
  g_assert_cmpstr(measurements(m.out), ==, measurements(r.out));
  ct_result_clear(&m);

  /* --spacing wins and scales the distances: N-Me = 1159.7 px */
  ct_result s = ct_run("measure", path, "--spacing", "0.2", NULL);
  ct_assert_status(&s, 0);
  assert_has(s.out, "Spacing: 0.2 mm per pixel, given with --spacing");
  assert_has(s.out, "231.95 mm");
  assert_has(r.out, "115.97 mm");
  ct_result_clear(&s);
  ct_result_clear(&r);
}

static void test_csv_and_annotation(void) {
  /* a CSV row chosen after the image's name; the image is only named */
  GString *csv = g_string_new("image");
  for (int i = 1; i <= 19; i++) g_string_append_printf(csv, ",l%d_x,l%d_y", i, i);
  g_string_append(csv, "\nceph");
  for (int i = 0; i < 19; i++) g_string_append_printf(csv, ",%g,%g", ceph[i][0], ceph[i][1]);
  g_string_append(csv, "\nother");
  for (int i = 0; i < 19; i++) g_string_append_printf(csv, ",%g,%g", ceph[i][0] + 1, ceph[i][1]);
  g_string_append_c(csv, '\n');
  g_autofree char *csv_text = g_string_free(csv, FALSE);
  g_autofree char *csv_path = tu_write_tmp("points.csv", csv_text, -1);
  g_autofree char *image = tu_write_tmp("ceph.png", "\x89PNG not decoded", -1);
  ct_result r = ct_run("measure", image, "--landmarks", csv_path, NULL);
  ct_assert_status(&r, 0);
  assert_has(r.out, "Landmarks: points.csv:ceph, 19 points");
  assert_has(r.out, "115.97 mm");
  ct_result_clear(&r);

  /* the annotation beside the image, with its own spacing */
  GString *a = g_string_new("{\"format\": \"hyatt-annotation\", \"version\": 1,\n"
                            " \"image\": {\"file\": \"ceph.png\", \"spacing_mm\": 0.2},\n"
                            " \"landmark_set\": \"isbi2015\", \"landmarks\": [");
  for (int i = 0; i < 19; i++)
    g_string_append_printf(a, "%s{\"index\": %d, \"x\": %g, \"y\": %g, \"state\": \"moved\"}",
                           i ? ", " : "", i + 1, ceph[i][0], ceph[i][1]);
  g_string_append(a, "]}\n");
  g_autofree char *a_text = g_string_free(a, FALSE);
  g_autofree char *a_path = tu_write_tmp("ceph.png.hyatt.json", a_text, -1);
  r = ct_run("measure", image, NULL);
  ct_assert_status(&r, 0);
  assert_has(r.out, "Spacing: 0.2 mm per pixel, from the annotation ceph.png.hyatt.json");
  assert_has(r.out, "231.95 mm");
  ct_result_clear(&r);
  r = ct_run("measure", a_path, NULL);
  ct_assert_status(&r, 0);
  assert_has(r.out, "231.95 mm");
  ct_result_clear(&r);

  /* a CSV of 37 points is the hand set: spacing from the wrist width */
  GString *h = g_string_new("image");
  for (int i = 1; i <= 37; i++) g_string_append_printf(h, ",l%d_x,l%d_y", i, i);
  g_string_append(h, "\nhand");
  for (int i = 0; i < 37; i++)
    g_string_append_printf(h, ",%d,%d", i == 5 ? 310 : 10 * i, i == 5 ? 420 : 20 * i);
  g_string_append_c(h, '\n');
  g_autofree char *h_text = g_string_free(h, FALSE);
  g_autofree char *h_path = tu_write_tmp("hand.csv", h_text, -1);
  r = ct_run("measure", h_path, NULL);
  ct_assert_status(&r, 0);
  assert_has(r.out, "Landmark set: hand");
  assert_has(r.out, "Spacing: 0.1 mm per pixel, from the landmark set hand");
  assert_has(r.out, "defines no measurements");
  ct_result_clear(&r);
}

static void test_errors(void) {
  ct_result r = ct_run("measure", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt measure: ", "no IMAGE_OR_ANNOTATION given");
  ct_result_clear(&r);

  g_autofree char *path = write_ceph_text("errors.txt", 0);
  r = ct_run("measure", path, "--spacing", "0,1", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt measure: ", "--spacing '0,1' is not a positive number");
  ct_result_clear(&r);

  r = ct_run("measure", path, "--set", "no-such-set", NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt measure: ", "no landmark set 'no-such-set'");
  ct_result_clear(&r);

  g_autofree char *five = tu_write_tmp("five.csv", "image,l1_x,l1_y,l2_x,l2_y\nx,1,2,3,4\n", -1);
  r = ct_run("measure", five, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt measure: ", "no landmark set with 2 landmarks");
  ct_result_clear(&r);

  g_autofree char *image = tu_write_tmp("lonely.png", "\x89PNG not decoded", -1);
  r = ct_run("measure", image, NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt measure: ",
                           "no --landmarks given and no annotation lonely.png.hyatt.json");
  ct_result_clear(&r);

  /* two coincident landmarks: that line says so, the others are printed */
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 19; i++)
    g_string_append_printf(s, "%g,%g\n", ceph[i == 1 ? 0 : i][0], ceph[i == 1 ? 0 : i][1]);
  g_autofree char *text = g_string_free(s, FALSE);
  g_autofree char *same = tu_write_tmp("same.txt", text, -1);
  r = ct_run("measure", same, NULL);
  ct_assert_status(&r, 1);
  assert_has(r.out, "not computed");
  assert_has(r.out, "ANS-PNS");
  assert_has(r.err, "undefined (coincident landmarks)");
  ct_result_clear(&r);
}

static void test_isbi_001(void) {
  const char *data = tu_shared_data();
  g_autofree char *dir = data ? g_build_filename(data, "isbi2015", NULL) : NULL;
  g_autofree char *image = dir ? g_build_filename(dir, "images", "001.jpg", NULL) : NULL;
  if (!image || !g_file_test(image, G_FILE_TEST_IS_REGULAR)) {
    g_test_skip("no ../shared/data/isbi2015");
    return;
  }
  g_autofree char *senior = g_build_filename(dir, "senior_px.csv", NULL);
  ct_result r = ct_run("measure", image, "--landmarks", senior, NULL);
  ct_assert_status(&r, 0);
  assert_has(r.out, "Landmarks: senior_px.csv:001, 19 points");
  assert_has(r.out, "Spacing: 0.1 mm per pixel, from the data set descriptor");
  assert_has(r.out, "  SNA ");
  g_test_message("%s", r.out);
  ct_result_clear(&r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  /* hyatt finds the shipped landmark sets there */
  g_setenv("HYATT_LANDMARKS_DIR", HY_SOURCE_DIR "/data/landmarks", TRUE);
  g_test_add_func("/cli-measure/text", test_text);
  g_test_add_func("/cli-measure/csv-and-annotation", test_csv_and_annotation);
  g_test_add_func("/cli-measure/errors", test_errors);
  g_test_add_func("/cli-measure/isbi-001", test_isbi_001);
  return g_test_run();
}
