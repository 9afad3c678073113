/* `hyatt export` killed with SIGKILL at random moments: the output file is
 * always byte for byte the previous export or the new one, never a part,
 * and at most its one reusable temp file is left beside it (the writes go
 * through core/fileio.h; test-crash.c kills those in process). */
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "annotation.h"
#include "clitest.h"
#include "fileio.h"
#include "testutil.h"

#define IMAGES 60         /* annotations per export: a write of ~400 KB */
#define KILL_SECONDS 8.0 /* ASan: an export takes up to 0.7 s */
#define KILLS 60          /* per format */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char **make_annotations(const char *dir) {
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_named("isbi2015", &error);
  g_assert_no_error(error);
  char **paths = g_new0(char *, IMAGES + 1);
  tu_rng r = tu_rng_new(3);
  for (int i = 0; i < IMAGES; i++) {
    g_autofree char *image = g_strdup_printf("%03d.png", i);
    g_autoptr(HyAnnotation) a = hy_annotation_new(image, 1935, 2400, "isbi2015", 19);
    for (int k = 0; k < 19; k++) {
      g_free(a->points[k].name);
      a->points[k].name = g_strdup(hy_landmark_set_get_landmark_name(set, k));
      a->points[k].x = a->points[k].predicted_x = 1935 * tu_uniform(&r);
      a->points[k].y = a->points[k].predicted_y = 2400 * tu_uniform(&r);
      a->points[k].confidence = tu_uniform(&r);
    }
    a->spacing_mm = 0.1;
    a->spacing_source = HY_SPACING_DATASET;
    paths[i] = g_strdup_printf("%s/%s.hyatt.json", dir, image);
    g_assert_true(hy_annotation_save(a, paths[i], &error));
  }
  return paths;
}

/* argv of `hyatt export` of version k (k = 1 overrides the spacing). */
static char **export_argv(char **annotations, const char *format, const char *out, int k) {
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, g_strdup(ct_hyatt_bin()));
  g_ptr_array_add(argv, g_strdup("export"));
  g_ptr_array_add(argv, g_strdup_printf("--to=%s", format));
  g_ptr_array_add(argv, g_strdup_printf("--out=%s", out));
  if (k) g_ptr_array_add(argv, g_strdup("--spacing=0.2"));
  for (int i = 0; annotations[i]; i++) g_ptr_array_add(argv, g_strdup(annotations[i]));
  g_ptr_array_add(argv, NULL);
  return (char **)g_ptr_array_free(argv, FALSE);
}

static GPid spawn(char **argv) {
  GPid pid;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async(NULL, argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                              &pid, &error));
  g_assert_no_error(error);
  return pid;
}

static void kill_test(const char *format) {
  g_autofree char *dir = g_build_filename(tu_tmpdir(), format, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_auto(GStrv) annotations = make_annotations(dir);
  g_autofree char *out = g_strdup_printf("%s/out.%s", dir, format);
  char *version[2] = {NULL, NULL};
  gsize len[2];
  double took = 0;
  for (int k = 1; k >= 0; k--) {
    g_auto(GStrv) argv = export_argv(annotations, format, out, k);
    double t0 = now();
    int status;
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               NULL, &status, NULL));
    took = now() - t0;
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_true(g_file_get_contents(out, &version[k], &len[k], NULL));
  }
  g_assert_cmpint(len[0] == len[1] && !memcmp(version[0], version[1], len[0]), ==, 0);
  g_auto(GStrv) argv0 = export_argv(annotations, format, out, 0);
  g_auto(GStrv) argv1 = export_argv(annotations, format, out, 1);
  tu_rng r = tu_rng_new(g_test_rand_int());
  int kills = 0, held = 0, changed = 0, temps = 0;
  g_autofree char *temp = g_strconcat(out, HY_TEMP_SUFFIX, NULL);
  int wanted = tu_kills(KILLS);
  for (double start = now(); now() - start < KILL_SECONDS * wanted / KILLS && kills < wanted;) {
    int k = kills % 2 ? 0 : 1;
    GPid pid = spawn(k ? argv1 : argv0);
    /* a third of the kills come after the export finished: versions alternate */
    double d = tu_uniform(&r) * 1.5 * took;
    struct timespec delay = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    kills++;
    g_autofree char *data = NULL;
    gsize n = 0;
    g_assert_true(g_file_get_contents(out, &data, &n, NULL));
    int which = -1;
    for (int v = 0; v < 2; v++)
      if (n == len[v] && memcmp(data, version[v], n) == 0) which = v;
    if (which < 0) g_error("after a kill, %s (%zu bytes) is neither export", out, n);
    changed += which != held;
    held = which;
    temps += g_file_test(temp, G_FILE_TEST_EXISTS);
  }
  /* a whole export after the last kill: the new version, and no temp left */
  int status;
  g_assert_true(g_spawn_sync(NULL, argv1, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                             &status, NULL));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_autofree char *last = NULL;
  gsize n_last = 0;
  g_assert_true(g_file_get_contents(out, &last, &n_last, NULL));
  g_assert_true(n_last == len[1] && memcmp(last, version[1], n_last) == 0);
  g_assert_false(g_file_test(temp, G_FILE_TEST_EXISTS));
  /* nothing but the annotations, the output and its temp */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name(d));)
    if (!g_str_has_suffix(name, ".hyatt.json") && strcmp(name, "out.coco") && strcmp(name, "out.csv") &&
        !g_str_has_suffix(name, HY_TEMP_SUFFIX))
      g_error("a kill left %s", name);
  g_test_message("hyatt export --to %s: %d kills (one export %.0f ms): %d changes seen, %d left the temp, "
                 "the output always whole", format, kills, took * 1e3, changed, temps);
  g_assert_cmpint(kills, >=, 10);
  g_free(version[0]);
  g_free(version[1]);
}

static void test_coco(void) { kill_test("coco"); }
static void test_csv(void) { kill_test("csv"); }

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_setenv("HYATT_LANDMARKS_DIR", HY_SOURCE_DIR "/data/landmarks", TRUE);
  g_test_add_func("/export-crash/coco", test_coco);
  g_test_add_func("/export-crash/csv", test_csv);
  return g_test_run();
}
