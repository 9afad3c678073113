/* Inputs that once crashed a loader or made it misbehave under the fuzzers
 * (fuzz/), kept in tests/regress/<loader>/: each must now be refused
 * cleanly, with a status other than HY_OK and a one-line message that names
 * the file. One test case per file, so a new file needs no code here.
 *
 * No single allocation may exceed 256 MB while a loader runs: a small
 * hostile file must not make it allocate what the file claims. malloc and
 * friends are wrapped here to see that (not under AddressSanitizer, which
 * has its own; fuzz/run gives the fuzz targets -malloc_limit_mb=256). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

#define ALLOC_LIMIT ((size_t)256 << 20)

#if !defined(HY_ASAN)
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

static size_t largest; /* the largest single request since reset_largest() */

static void note(size_t n) {
  size_t cur = __atomic_load_n(&largest, __ATOMIC_RELAXED);
  while (n > cur && !__atomic_compare_exchange_n(&largest, &cur, n, 0, __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED)) {
  }
}

void *malloc(size_t n) {
  note(n);
  return __libc_malloc(n);
}

void *calloc(size_t k, size_t n) {
  note(n && k > SIZE_MAX / n ? SIZE_MAX : k * n);
  return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n) {
  note(n);
  return __libc_realloc(p, n);
}

int posix_memalign(void **p, size_t align, size_t n) {
  note(n);
  *p = __libc_memalign(align, n);
  return *p || !n ? 0 : ENOMEM;
}
#endif

static void reset_largest(void) {
#if !defined(HY_ASAN)
  __atomic_store_n(&largest, 0, __ATOMIC_RELAXED);
#endif
}

static void assert_small_allocations(const char *path) {
#if !defined(HY_ASAN)
  size_t n = __atomic_load_n(&largest, __ATOMIC_RELAXED);
  if (n > ALLOC_LIMIT) g_error("%s: the loader asked for %zu bytes at once", path, n);
#endif
}

static void assert_refused(hy_status st, const hy_error *err, const char *path) {
  g_assert_cmpint(st, !=, HY_OK);
  g_assert_cmpint(err->status, ==, st);
  g_assert_nonnull(memchr(err->msg, 0, sizeof err->msg));
  g_assert_cmpuint(strlen(err->msg), >, 0);
  g_assert_null(strchr(err->msg, '\n'));
  g_autofree char *base = g_path_get_basename(path);
  g_assert_nonnull(strstr(err->msg, base));
  assert_small_allocations(path);
}

static void test_image(gconstpointer data) {
  const char *path = data;
  hy_image img;
  hy_error err = {0};
  reset_largest();
  assert_refused(hy_image_load(&img, path, &err), &err, path);
  g_assert_null(img.pixels);
}

static void test_tensorfile(gconstpointer data) {
  const char *path = data;
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  reset_largest();
  assert_refused(hy_tensorfile_load(&tf, path, 0, &err), &err, path);
  g_assert_null(tf);
}

static void test_model(gconstpointer data) {
  const char *path = data;
  hy_net *net = NULL;
  hy_error err = {0};
  reset_largest();
  assert_refused(hy_model_load(&net, NULL, path, HY_INFER, 1, &err), &err, path);
  g_assert_null(net);
}

/* Refused as a CSV table and as ISBI text, with any expected count. */
static void test_landmarks(gconstpointer data) {
  const char *path = data;
  hy_landmark_table t;
  hy_error err = {0};
  reset_largest();
  assert_refused(hy_landmark_csv_load(&t, path, &err), &err, path);
  g_assert_cmpint(t.n_rows, ==, 0);
  for (int expect = 0; expect <= 19; expect += 19) {
    hy_point *p = NULL;
    int n = -1;
    hy_error e2 = {0};
    reset_largest();
    assert_refused(hy_landmark_text_load(&p, &n, path, expect, &e2), &e2, path);
    g_assert_null(p);
    g_assert_cmpint(n, ==, 0);
  }
}

static gint by_name(gconstpointer a, gconstpointer b) { return strcmp(a, b); }

/* One test case per file of tests/regress/<loader>/ (sorted); the paths live
 * until exit. */
static void add_cases(const char *loader, GTestDataFunc fn) {
  g_autofree char *dir = g_build_filename(HY_SOURCE_DIR, "tests", "regress", loader, NULL);
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d) return;
  GList *names = NULL;
  const char *name;
  while ((name = g_dir_read_name(d))) names = g_list_insert_sorted(names, g_strdup(name), by_name);
  g_dir_close(d);
  for (GList *l = names; l; l = l->next) {
    g_autofree char *test = g_strdup_printf("/regress/%s/%s", loader, (char *)l->data);
    g_test_add_data_func_full(test, g_build_filename(dir, l->data, NULL), fn, g_free);
  }
  g_list_free_full(names, g_free);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  add_cases("image", test_image);
  add_cases("tensorfile", test_tensorfile);
  add_cases("model", test_model);
  add_cases("landmarks", test_landmarks);
  return g_test_run();
}
