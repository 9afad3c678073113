/* Landmark CSV and ISBI text readers: both CSV layouts, CRLF and other
 * tolerated variants, and every refusal naming the file and the line. */
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static void test_csv_with_split(void) {
  char *path = tu_write_tmp("split.csv",
                            "image,split,l1_x,l1_y,l2_x,l2_y\n"
                            "001,train,835,996,1473.5,-2e1\n"
                            "151,test1,+1,2,3,4\n", -1);
  hy_landmark_table t;
  hy_error err = {0};
  g_assert_cmpint(hy_landmark_csv_load(&t, path, &err), ==, HY_OK);
  g_assert_cmpint(t.n_rows, ==, 2);
  g_assert_cmpint(t.n_landmarks, ==, 2);
  g_assert_cmpstr(t.images[1], ==, "151");
  g_assert_nonnull(t.splits);
  g_assert_cmpstr(t.splits[0], ==, "train");
  g_assert_cmpstr(t.splits[1], ==, "test1");
  const hy_point *p = hy_landmark_table_row(&t, 0);
  g_assert_cmpfloat(p[0].x, ==, 835);
  g_assert_cmpfloat(p[0].y, ==, 996);
  g_assert_cmpfloat(p[1].x, ==, 1473.5);
  g_assert_cmpfloat(p[1].y, ==, -20);
  g_assert_cmpint(hy_landmark_table_find(&t, "151"), ==, 1);
  g_assert_cmpint(hy_landmark_table_find(&t, "007"), ==, -1);
  g_assert_null(hy_landmark_table_row(&t, 2));
  hy_landmark_table_free(&t);
  hy_landmark_table_free(&t); /* freed twice: harmless */
  g_free(path);
}

static void test_csv_without_split(void) {
  char *path = tu_write_tmp("nosplit.csv", "image,l1_x,l1_y\n3167,313,2247\n3177,356,1992\n", -1);
  hy_landmark_table t;
  hy_error err = {0};
  g_assert_cmpint(hy_landmark_csv_load(&t, path, &err), ==, HY_OK);
  g_assert_cmpint(t.n_rows, ==, 2);
  g_assert_cmpint(t.n_landmarks, ==, 1);
  g_assert_null(t.splits);
  g_assert_cmpfloat(hy_landmark_table_row(&t, 1)->y, ==, 1992);
  hy_landmark_table_free(&t);
  g_free(path);
}

/* CRLF, a byte order mark, blanks, quotes, blank lines, upper-case header
 * and no final newline are all accepted. */
static void test_csv_variants(void) {
  char *path = tu_write_tmp("crlf.csv",
                            "\xEF\xBB\xBFImage, L1_X ,l1_y\r\n"
                            "\r\n"
                            "\"a b\", 1.25 ,\"2\"\r\n"
                            "c,3,4", -1);
  hy_landmark_table t;
  hy_error err = {0};
  g_assert_cmpint(hy_landmark_csv_load(&t, path, &err), ==, HY_OK);
  g_assert_cmpint(t.n_rows, ==, 2);
  g_assert_cmpstr(t.images[0], ==, "a b");
  g_assert_cmpfloat(t.points[0].x, ==, 1.25);
  g_assert_cmpfloat(t.points[0].y, ==, 2);
  g_assert_cmpstr(t.images[1], ==, "c");
  g_assert_cmpfloat(t.points[1].y, ==, 4);
  hy_landmark_table_free(&t);
  g_free(path);
}

/* Numbers are read with '.' even where the locale's decimal mark is ','. */
static void test_csv_locale(void) {
  const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
  const char *set = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(locales) && !set; i++)
    set = setlocale(LC_NUMERIC, locales[i]);
  char *path = tu_write_tmp("locale.csv", "image,l1_x,l1_y\n1,0.5,2.75\n", -1);
  hy_landmark_table t;
  hy_error err = {0};
  hy_status st = hy_landmark_csv_load(&t, path, &err);
  setlocale(LC_NUMERIC, "C");
  g_assert_cmpint(st, ==, HY_OK);
  g_assert_cmpfloat(t.points[0].x, ==, 0.5);
  g_assert_cmpfloat(t.points[0].y, ==, 2.75);
  hy_landmark_table_free(&t);
  g_free(path);
}

typedef struct bad_case {
  const char *content;
  int line;          /* the line the message must name */
  const char *words; /* and a phrase it must contain */
} bad_case;

static void check_csv_refused(const char *name, const char *content, size_t len,
                              int line, const char *words) {
  char *path = tu_write_tmp(name, content, (gssize)len);
  hy_landmark_table t;
  memset(&t, 0x5a, sizeof t);
  hy_error err = {0};
  hy_status st = hy_landmark_csv_load(&t, path, &err);
  if (st == HY_OK) g_error("%s: accepted; expected an error with '%s'", name, words);
  char *where = g_strdup_printf("%s:%d: ", path, line);
  if (!g_str_has_prefix(err.msg, where) || !strstr(err.msg, words))
    g_error("%s: message '%s' lacks '%s' or '%s'", name, err.msg, where, words);
  g_assert_cmpint(t.n_rows, ==, 0);
  g_assert_null(t.images);
  g_assert_null(t.points);
  g_free(where);
  g_free(path);
}

static void test_csv_errors(void) {
  const bad_case cases[] = {
    {"", 1, "empty file"},
    {"\n\n", 2, "empty file"},
    {"image,l1_x,l1_y\n", 1, "no data rows"},
    {"image,l1_x,l1_y\n1,2,3\n4,5\n", 3, "2 fields, expected 3"},
    {"image,l1_x,l1_y\n1,2,3,\n", 2, "4 fields, expected 3"},
    {"image,split,l1_x,l1_y,l2_x\n", 1, "odd number of coordinate columns (3)"},
    {"image,split\n", 1, "no landmark columns"},
    {"image,l1_x,l2_y\n", 1, "column 3 is 'l2_y', expected 'l1_y'"},
    {"image,l1_y,l1_x\n", 1, "column 2 is 'l1_y', expected 'l1_x'"},
    {"name,l1_x,l1_y\n", 1, "column 1 is 'name', expected 'image'"},
    {"image,split,x1,y1\n", 1, "column 3 is 'x1', expected 'l1_x'"},
    {"image,l1_x,l1_y\n1,2,3\n2,abc,3\n", 3, "column 2 (l1_x): 'abc' is not a number"},
    {"image,l1_x,l1_y\n1,2,nan\n", 2, "column 3 (l1_y): 'nan' is not a number"},
    {"image,l1_x,l1_y\n1,inf,2\n", 2, "'inf' is not a number"},
    {"image,l1_x,l1_y\n1,0x10,2\n", 2, "'0x10' is not a number"},
    {"image,l1_x,l1_y\n1,1e999,2\n", 2, "column 2 (l1_x): '1e999' is out of range"},
    {"image,l1_x,l1_y\n1,2 3,2\n", 2, "'2 3' is not a number"},
    {"image,l1_x,l1_y\n1,12e,2\n", 2, "'12e' is not a number"},
    {"image,l1_x,l1_y\n1,.,2\n", 2, "'.' is not a number"},
    {"image,l1_x,l1_y\n1,,2\n", 2, "column 2 (l1_x): empty value"},
    {"image,l1_x,l1_y\n,1,2\n", 2, "empty image name"},
    {"image,l1_x,l1_y\r\n001,1,2\r\n002,1,2\r\n001,3,4\r\n", 4,
     "image '001' already appears on line 2"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char name[32];
    snprintf(name, sizeof name, "bad%zu.csv", i);
    check_csv_refused(name, cases[i].content, strlen(cases[i].content), cases[i].line,
                      cases[i].words);
  }
  static const char nul[] = "image,l1_x,l1_y\n1,2,3\n4\0,5,6\n";
  check_csv_refused("nul.csv", nul, sizeof nul - 1, 3, "NUL byte");
}

static void test_csv_missing_file(void) {
  char *path = g_build_filename(tu_tmpdir(), "absent.csv", NULL);
  hy_landmark_table t;
  hy_error err = {0};
  g_assert_cmpint(hy_landmark_csv_load(&t, path, &err), ==, HY_E_IO);
  g_assert_nonnull(strstr(err.msg, path));
  g_free(path);
}

static void test_text_plain(void) {
  char *path = tu_write_tmp("001.txt", "835,996\r\n1473.5, 1029\r\n\r\n1,2", -1);
  hy_point *p = NULL;
  int n = 0;
  hy_error err = {0};
  g_assert_cmpint(hy_landmark_text_load(&p, &n, path, 0, &err), ==, HY_OK);
  g_assert_cmpint(n, ==, 3);
  g_assert_cmpfloat(p[0].x, ==, 835);
  g_assert_cmpfloat(p[1].x, ==, 1473.5);
  g_assert_cmpfloat(p[1].y, ==, 1029);
  g_assert_cmpfloat(p[2].y, ==, 2);
  free(p);
  g_assert_cmpint(hy_landmark_text_load(&p, &n, path, 3, &err), ==, HY_OK);
  g_assert_cmpint(n, ==, 3);
  free(p);
  g_free(path);
}

/* The original ISBI files end with class labels: fine with a count given. */
static void test_text_trailing_labels(void) {
  char *path = tu_write_tmp("labels.txt", "1,2\n3,4\n5,6\n2\n1\n4,4\n", -1);
  hy_point *p = NULL;
  int n = 0;
  hy_error err = {0};
  g_assert_cmpint(hy_landmark_text_load(&p, &n, path, 3, &err), ==, HY_OK);
  g_assert_cmpint(n, ==, 3);
  g_assert_cmpfloat(p[2].x, ==, 5);
  free(p);

  char *where = g_strdup_printf("%s:4: '2' is not an 'x,y' line (after 3 points)", path);
  g_assert_cmpint(hy_landmark_text_load(&p, &n, path, 0, &err), ==, HY_E_FORMAT);
  g_assert_cmpstr(err.msg, ==, where);
  g_assert_null(p);
  g_assert_cmpint(n, ==, 0);
  g_free(where);

  where = g_strdup_printf("%s:3: more than the 2 points expected", path);
  g_assert_cmpint(hy_landmark_text_load(&p, &n, path, 2, &err), ==, HY_E_FORMAT);
  g_assert_cmpstr(err.msg, ==, where);
  g_free(where);

  where = g_strdup_printf("%s:4: '2' is not an 'x,y' line (after 3 points)", path);
  g_assert_cmpint(hy_landmark_text_load(&p, &n, path, 4, &err), ==, HY_E_FORMAT);
  g_assert_cmpstr(err.msg, ==, where);
  g_free(where);
  g_free(path);
}

static void check_text_refused(const char *name, const char *content, int expect,
                               int line, const char *words) {
  char *path = tu_write_tmp(name, content, -1);
  hy_point *p = NULL;
  int n = -1;
  hy_error err = {0};
  hy_status st = hy_landmark_text_load(&p, &n, path, expect, &err);
  if (st == HY_OK) g_error("%s: accepted; expected an error with '%s'", name, words);
  char *where = g_strdup_printf("%s:%d: ", path, line);
  if (!g_str_has_prefix(err.msg, where) || !strstr(err.msg, words))
    g_error("%s: message '%s' lacks '%s' or '%s'", name, err.msg, where, words);
  g_assert_null(p);
  g_assert_cmpint(n, ==, 0);
  g_free(where);
  g_free(path);
}

static void test_text_errors(void) {
  check_text_refused("t0.txt", "", 0, 1, "empty file");
  check_text_refused("t1.txt", "1,2\n3;4\n", 0, 2, "'3;4' is not an 'x,y' line");
  check_text_refused("t2.txt", "1,2\n3,4,5\n", 0, 2, "not an 'x,y' line");
  check_text_refused("t3.txt", "1,2\n3,y\n", 0, 2, "column 2 (y): 'y' is not a number");
  check_text_refused("t4.txt", "1,2\nnan,4\n", 0, 2, "column 1 (x): 'nan' is not a number");
  check_text_refused("t5.txt", "1,2\n3,4\n", 3, 2, "file ends after 2 points, expected 3");
}

/* The real files: both layouts, 19 and 37 landmarks. */
static void test_shared_data(void) {
  const char *data = tu_shared_data();
  if (!data) {
    g_test_skip("shared data not found");
    return;
  }
  char *senior = g_build_filename(data, "isbi2015", "senior_px.csv", NULL);
  char *hand = g_build_filename(data, "hand", "landmarks_px.csv", NULL);
  hy_landmark_table t;
  hy_error err = {0};
  if (g_file_test(senior, G_FILE_TEST_EXISTS)) {
    g_assert_cmpint(hy_landmark_csv_load(&t, senior, &err), ==, HY_OK);
    g_assert_cmpint(t.n_landmarks, ==, 19);
    g_assert_cmpint(t.n_rows, ==, 300);
    int r = hy_landmark_table_find(&t, "001");
    g_assert_cmpint(r, >=, 0);
    g_assert_cmpstr(t.splits[r], ==, "train");
    g_assert_cmpfloat(hy_landmark_table_row(&t, r)[0].x, ==, 835); /* sella */
    g_assert_cmpfloat(hy_landmark_table_row(&t, r)[0].y, ==, 996);
    hy_landmark_table_free(&t);
  }
  if (g_file_test(hand, G_FILE_TEST_EXISTS)) {
    g_assert_cmpint(hy_landmark_csv_load(&t, hand, &err), ==, HY_OK);
    g_assert_cmpint(t.n_landmarks, ==, 37);
    g_assert_cmpint(t.n_rows, ==, 9);
    g_assert_null(t.splits);
    hy_landmark_table_free(&t);
  }
  g_free(senior);
  g_free(hand);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/landmarks/csv/split", test_csv_with_split);
  g_test_add_func("/landmarks/csv/no-split", test_csv_without_split);
  g_test_add_func("/landmarks/csv/variants", test_csv_variants);
  g_test_add_func("/landmarks/csv/locale", test_csv_locale);
  g_test_add_func("/landmarks/csv/errors", test_csv_errors);
  g_test_add_func("/landmarks/csv/missing-file", test_csv_missing_file);
  g_test_add_func("/landmarks/text/plain", test_text_plain);
  g_test_add_func("/landmarks/text/trailing-labels", test_text_trailing_labels);
  g_test_add_func("/landmarks/text/errors", test_text_errors);
  g_test_add_func("/landmarks/shared-data", test_shared_data);
  return g_test_run();
}
