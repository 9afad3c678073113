/* Autosave under SIGKILL: a child edits a HyDocument and saves it, over and
 * over, alternating landmark 1 between two positions; the parent kills it
 * at random moments and checks that the annotation always loads and holds
 * one of the two, and that at most the writer's one reusable temp file is
 * left beside it. */
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "document.h"
#include "fileio.h"
#include "apptest.h"
#include "testutil.h"

#define KILLS 200
#define KILL_SECONDS 15.0

static double now(void) { return (double)g_get_monotonic_time() * 1e-6; }

/* Files in dir other than the image and its annotation. */
static int strays(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  int n = 0;
  for (const char *name; (name = g_dir_read_name(d));) {
    if (!strcmp(name, "x.png") || !strcmp(name, "x.png.hyatt.json")) continue;
    if (strcmp(name, "x.png.hyatt.json" HY_TEMP_SUFFIX)) g_error("a kill left %s", name);
    n++;
  }
  return n;
}

/* The child: edits and saves until killed. */
static G_NORETURN void edit_forever(const char *image_path, HyLandmarkSet *set) {
  GError *error = NULL;
  HyDocument *doc = hy_document_new(image_path, at_grey_image(), set, NULL, &error);
  if (!doc) _exit(2);
  for (int k = 0;; k ^= 1) {
    hy_document_move(doc, 0, k ? 20.0 : 10.0, k ? 25.0 : 15.0, TRUE);
    if (!hy_document_save(doc, &error)) _exit(3);
  }
}

static void test_kill_autosave(void) {
  g_autoptr(HyLandmarkSet) set = at_tri_set();
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "kill-autosave", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autofree char *image = g_build_filename(dir, "x.png", NULL);
  g_autofree char *json = g_strconcat(image, ".hyatt.json", NULL);
  tu_write_file(image, "pixels", -1);
  /* how long one save takes here: the kills land in the first ten */
  double t0 = now();
  {
    GError *error = NULL;
    g_autoptr(HyDocument) doc = hy_document_new(image, at_grey_image(), set, NULL, &error);
    g_assert_no_error(error);
    hy_document_move(doc, 0, 10, 15, TRUE);
    g_assert_true(hy_document_save(doc, &error));
  }
  double one = now() - t0;
  tu_rng r = tu_rng_new(g_test_rand_int());
  int kills = 0, with_temp = 0, changed = 0, held = 10;
  int wanted = tu_kills(KILLS);
  double start = now(), limit = KILL_SECONDS * wanted / KILLS;
  while (kills < wanted && now() - start < limit) {
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) edit_forever(image, set);
    double d = tu_uniform(&r) * 10 * one;
    struct timespec delay = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (!WIFSIGNALED(status)) g_error("the editing child exited with status %d", status);
    kills++;
    with_temp += strays(dir) > 0;
    GError *error = NULL;
    g_autoptr(HyAnnotation) a = hy_annotation_load(json, set, &error);
    if (!a) g_error("after a kill: %s", error->message);
    double x = a->points[0].x;
    if (x != 10 && x != 20) g_error("after a kill landmark 1 is at x = %g", x);
    g_assert_cmpint(a->points[0].state, ==, HY_LANDMARK_MOVED);
    changed += x != held;
    held = (int)x;
  }
  g_test_message("annotation autosave: %d kills in %.1f s (one save %.2f ms): %d left the temp file, %d changes "
                 "seen, the annotation always intact",
                 kills, now() - start, one * 1e3, with_temp, changed);
  g_assert_cmpint(kills, >=, 20);
  g_assert_cmpint(changed, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/document-crash/kill-autosave", test_kill_autosave);
  return g_test_run();
}
