/* The .hyatt container: round trips (C and Python writers), and every kind of
 * damage refused with a message naming what is wrong. */
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static char *write_sample(const char *name) {
  static float a[2][3] = {{0, 0.25f, 0.5f}, {0.75f, 1, 1.25f}};
  static int32_t idx[2][2] = {{3, -1}, {7, 2}};
  static float big[1000];
  for (int i = 0; i < 1000; i++) big[i] = (float)i;
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  hy_tensorfile_writer *w = hy_tensorfile_writer_new();
  hy_tensorfile_writer_meta(w, "config", "tiny");
  hy_tensorfile_writer_meta(w, "sigma", "%g", 2.5);
  hy_tensorfile_writer_add(w, "a", HY_F32, a, 2, (int64_t[]){2, 3});
  hy_tensorfile_writer_add(w, "idx", HY_I32, idx, 2, (int64_t[]){2, 2});
  hy_tensorfile_writer_add(w, "stage1/big", HY_F32, big, 1, (int64_t[]){1000});
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_writer_save(w, path, &err), ==, HY_OK);
  hy_tensorfile_writer_free(w);
  return path;
}

static void check_sample(const hy_tensorfile *tf) {
  hy_error err = {0};
  g_assert_cmpstr(hy_tensorfile_meta(tf, "config"), ==, "tiny");
  g_assert_cmpstr(hy_tensorfile_meta(tf, "sigma"), ==, "2.5");
  g_assert_null(hy_tensorfile_meta(tf, "missing"));
  const float *a = hy_tensorfile_f32(tf, "a", 6, &err);
  g_assert_nonnull(a);
  g_assert_cmpfloat(a[4], ==, 1.0f);
  const hy_tensor_entry *e = hy_tensorfile_find(tf, "idx");
  g_assert_nonnull(e);
  g_assert_cmpint(e->dtype, ==, HY_I32);
  g_assert_cmpint(e->ndim, ==, 2);
  g_assert_cmpint(((const int32_t *)e->data)[1], ==, -1);
  g_assert_null(hy_tensorfile_f32(tf, "a", 7, &err));
  g_assert_nonnull(strstr(err.msg, "expected 7"));
  g_assert_null(hy_tensorfile_f32(tf, "nope", 1, &err));
  g_assert_nonnull(strstr(err.msg, "missing tensor nope"));
}

static void test_round_trip(void) {
  g_autofree char *path = write_sample("rt.hyatt");
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, path, 0, &err), ==, HY_OK);
  check_sample(tf);
  const hy_tensor_entry *big = hy_tensorfile_find(tf, "stage1/big");
  g_assert_cmpuint(big->offset % 64, ==, 0);
  g_assert_cmpfloat(((const float *)big->data)[999], ==, 999.0f);
  hy_tensorfile_free(tf);
}

static void test_python_written(void) {
  g_autofree char *path = tu_fixture_path("tensorfile-python.hyatt");
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, path, 0, &err), ==, HY_OK);
  check_sample(tf);
  g_assert_cmpstr(hy_tensorfile_meta(tf, "names"), ==, "sella,nasion");
  const hy_tensor_entry *s = hy_tensorfile_find(tf, "scalar");
  g_assert_cmpint(s->ndim, ==, 0);
  g_assert_cmpfloat(*(const float *)s->data, ==, 1.5f);
  hy_tensorfile_free(tf);
}

/* Loads a damaged copy and expects a refusal mentioning `needle`. */
static void expect_refused(const char *name, const guint8 *bytes, gsize len,
                           hy_status want, const char *needle) {
  g_autofree char *path = g_build_filename(tu_tmpdir(), name, NULL);
  g_assert_true(g_file_set_contents(path, (const char *)bytes, (gssize)len, NULL));
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  hy_status st = hy_tensorfile_load(&tf, path, 0, &err);
  if (st != want || !strstr(err.msg, needle))
    g_error("%s: status %d message '%s', wanted status %d mentioning '%s'",
            name, st, err.msg, want, needle);
  g_assert_null(tf);
}

static void test_damage(void) {
  g_autofree char *path = write_sample("good.hyatt");
  g_autofree guint8 *good = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, (char **)&good, &len, NULL));
  g_autofree guint8 *b = g_memdup2(good, len);

  expect_refused("empty", b, 0, HY_E_FORMAT, "magic");
  b[0] = 'X';
  expect_refused("magic", b, len, HY_E_FORMAT, "magic");
  memcpy(b, good, len);
  b[8] = 2;
  expect_refused("version", b, len, HY_E_FORMAT, "version 2");
  memcpy(b, good, len);
  b[12] = 0xff, b[13] = 0xff, b[14] = 0xff;
  expect_refused("header-size", b, len, HY_E_FORMAT, "truncated");
  memcpy(b, good, len);
  b[20] ^= 1; /* inside the header text */
  expect_refused("header-flip", b, len, HY_E_FORMAT, "checksum");
  memcpy(b, good, len);
  b[len - 7] ^= 0x40; /* inside stage1/big */
  expect_refused("data-flip", b, len, HY_E_FORMAT, "stage1/big");
  memcpy(b, good, len);
  /* every truncation point is refused, none crashes */
  for (gsize cut = 0; cut < len; cut += (cut < 200 ? 1 : 97)) {
    g_autofree char *name = g_strdup_printf("cut-%zu", cut);
    g_autofree char *p = g_build_filename(tu_tmpdir(), name, NULL);
    g_assert_true(g_file_set_contents(p, (const char *)b, (gssize)cut, NULL));
    hy_tensorfile *tf = NULL;
    hy_error err = {0};
    g_assert_cmpint(hy_tensorfile_load(&tf, p, 0, &err), ==, HY_E_FORMAT);
    g_assert_cmpuint(strlen(err.msg), >, 0);
  }
  /* random single-byte damage anywhere: refused cleanly (or harmless padding) */
  tu_rng rng = tu_rng_new(5);
  for (int i = 0; i < 300; i++) {
    memcpy(b, good, len);
    gsize at = (gsize)(tu_uniform(&rng) * len);
    b[at] ^= (guint8)tu_int(&rng, 1, 255);
    g_autofree char *p = g_build_filename(tu_tmpdir(), "flip", NULL);
    g_assert_true(g_file_set_contents(p, (const char *)b, (gssize)len, NULL));
    hy_tensorfile *tf = NULL;
    hy_error err = {0};
    if (hy_tensorfile_load(&tf, p, 0, &err) == HY_OK) hy_tensorfile_free(tf);
  }
}

static void test_size_cap(void) {
  g_autofree char *path = write_sample("cap.hyatt");
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, path, 100, &err), ==, HY_E_LIMIT);
  g_assert_cmpint(hy_tensorfile_load(&tf, "/nonexistent/x.hyatt", 0, &err), ==, HY_E_IO);
  g_assert_nonnull(strstr(err.msg, "/nonexistent/x.hyatt"));
}

static void test_atomic_write_failure_keeps_old(void) {
  g_autofree char *path = write_sample("keep.hyatt");
  hy_tensorfile_writer *w = hy_tensorfile_writer_new();
  hy_tensorfile_writer_meta(w, "bad key!", "x");
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_writer_save(w, path, &err), ==, HY_E_ARG);
  hy_tensorfile_writer_free(w);
  hy_tensorfile *tf = NULL;
  g_assert_cmpint(hy_tensorfile_load(&tf, path, 0, &err), ==, HY_OK);
  check_sample(tf);
  hy_tensorfile_free(tf);
  /* no temp file left behind */
  g_autoptr(GDir) dir = g_dir_open(tu_tmpdir(), 0, NULL);
  for (const char *n; (n = g_dir_read_name(dir));) g_assert_null(strstr(n, ".tmp-"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tensorfile/round-trip", test_round_trip);
  g_test_add_func("/tensorfile/python-written", test_python_written);
  g_test_add_func("/tensorfile/damage", test_damage);
  g_test_add_func("/tensorfile/size-cap", test_size_cap);
  g_test_add_func("/tensorfile/atomic-failure", test_atomic_write_failure_keeps_old);
  return g_test_run();
}
