/* The fine-tuning round with its guard (app/finetune_job.c), the model
 * store (app/model_store.c) and `hyatt finetune`, on a tiny model and
 * generated images (96×64, a bright blob at each of 3 landmarks, the same
 * layout on every image): a round on right corrections is kept and made
 * current, one on wrong corrections is discarded with the reason and
 * changes nothing; restore; the shipped model is never written; the store
 * ignores what a crash can leave; the job in a thread with progress and
 * cancellation; and SIGKILL at random moments of rounds and of switches
 * never leaves the store inconsistent or the current model unloadable. */
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "annotation.h"
#include "clitest.h"
#include "finetunetest.h"
#include "finetune_job.h"
#include "hyatt.h"
#include "model_store.h"
#include "testutil.h"

static const HyFinetuneSettings settings = {.steps = 40, .lr = 2e-3, .threads = 1, .seed = 1};

static char *model_id(const char *path) {
  char id[HY_MODEL_ID_SIZE];
  hy_error err = {0};
  g_assert_cmpint(hy_model_id(id, path, &err), ==, HY_OK);
  return g_strdup(id);
}

/* Every listed model's file checks out, and the current one loads. */
static void assert_consistent(HyModelStore *store) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = hy_model_store_list(store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(list->len, >=, 1);
  for (guint i = 0; i < list->len; i++) {
    HyModelRecord *r = g_ptr_array_index(list, i);
    g_autofree char *id = model_id(r->path);
    g_assert_cmpstr(id, ==, r->id);
  }
  g_autoptr(HyModelRecord) cur = hy_model_store_current(store, &error);
  g_assert_no_error(error);
  hy_net *net = NULL;
  hy_error err = {0};
  if (hy_model_load(&net, NULL, cur->path, HY_INFER, 1, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_free(net);
}

static void test_guard_keep_discard_restore(void) {
  g_autofree char *shipped = ft_tiny_model("shipped-guard.hyatt");
  g_autofree char *shipped_id = model_id(shipped);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "guard", NULL);
  g_autofree char *store_dir = g_build_filename(dir, "models", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(HyModelStore) store = hy_model_store_new(store_dir, shipped, &error);
  g_assert_no_error(error);

  /* right corrections: kept, current, parent and samples recorded */
  g_autoptr(GPtrArray) paths = ft_corrected_set(dir, "right", 6, NULL, 0, 0);
  g_autoptr(HyFinetuneReport) r1 = hy_finetune_job_run(store, (const char *const *)paths->pdata,
                                                       &settings, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(r1->held_out, ==, 1);
  g_assert_cmpint(r1->tuned, ==, 5);
  g_assert_cmpint(r1->landmarks, ==, 3);
  g_assert_cmpfloat(r1->after_mm, <, r1->before_mm);
  g_assert_true(r1->kept);
  g_assert_null(r1->reason);
  g_autoptr(HyModelRecord) cur = hy_model_store_current(store, &error);
  g_assert_cmpstr(cur->id, ==, r1->new_id);
  g_assert_cmpstr(cur->parent, ==, shipped_id);
  g_assert_false(cur->shipped);
  g_assert_cmpuint(g_strv_length(cur->samples), ==, 5);
  g_assert_cmpfloat(cur->after_mm, ==, r1->after_mm);

  /* wrong corrections (moved by 12 px) on 6 more images: the held-out
   * images say the new model is worse, so it is discarded */
  g_autoptr(GPtrArray) more = ft_corrected_set(dir, "wrong", 6, paths, 12, -8);
  g_autoptr(HyFinetuneReport) r2 = hy_finetune_job_run(store, (const char *const *)more->pdata,
                                                       &settings, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(r2->replayed, >, 0);
  g_assert_false(r2->kept);
  g_assert_cmpfloat(r2->after_mm, >, r2->before_mm);
  g_assert_nonnull(strstr(r2->reason, "worse"));
  g_autoptr(HyModelRecord) still = hy_model_store_current(store, &error);
  g_assert_cmpstr(still->id, ==, r1->new_id);
  g_autoptr(GPtrArray) list = hy_model_store_list(store, &error);
  g_assert_cmpuint(list->len, ==, 2);
  g_autofree char *incoming = hy_model_store_incoming_path(store);
  g_assert_false(g_file_test(incoming, G_FILE_TEST_EXISTS));

  /* restore the shipped model, and back */
  g_assert_true(hy_model_store_set_current(store, shipped_id, &error));
  g_autoptr(HyModelRecord) s = hy_model_store_current(store, &error);
  g_assert_true(s->shipped);
  g_assert_cmpstr(s->path, ==, shipped);
  g_assert_false(hy_model_store_set_current(store, "00000000", &error));
  g_clear_error(&error);
  g_assert_true(hy_model_store_set_current(store, r1->new_id, &error));
  /* the shipped model is never written */
  g_autofree char *after_id = model_id(shipped);
  g_assert_cmpstr(after_id, ==, shipped_id);
  assert_consistent(store);
}

/* What a crash can leave: an orphan model, a temporary, a record whose
 * model is gone, a `current` naming nothing. */
static void test_store_leftovers(void) {
  g_autofree char *shipped = ft_tiny_model("shipped-leftovers.hyatt");
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "leftovers", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HyModelStore) store = hy_model_store_new(dir, shipped, &error);
  g_assert_no_error(error);
  g_autofree char *orphan = g_build_filename(dir, "0badf00d.hyatt", NULL);
  g_autofree char *gone = g_build_filename(dir, "12345678.json", NULL);
  g_autofree char *tmp = g_build_filename(dir, "current.ABC123", NULL);
  g_autofree char *current = g_build_filename(dir, "current", NULL);
  tu_write_file(orphan, "junk", -1);
  tu_write_file(tmp, "junk", -1);
  tu_write_file(gone, "{\"format\": \"hyatt-model-record\", \"id\": \"12345678\", "
                      "\"file\": \"12345678.hyatt\"}", -1);
  tu_write_file(current, "12345678\n", -1);
  g_autoptr(GPtrArray) list = hy_model_store_list(store, &error);
  g_assert_cmpuint(list->len, ==, 1);
  g_autoptr(HyModelRecord) cur = hy_model_store_current(store, &error);
  g_assert_true(cur->shipped);
  g_assert_false(hy_model_store_set_current(store, "12345678", &error));
  g_assert_nonnull(strstr(error->message, "missing"));
  /* reopening keeps the records */
  g_clear_object(&store);
  g_clear_error(&error);
  store = hy_model_store_new(dir, shipped, &error);
  g_assert_no_error(error);
  assert_consistent(store);
}

typedef struct async_state {
  GMainLoop *loop;
  GCancellable *cancel_at_first;
  int progress_calls, last_step, steps;
  HyFinetuneReport *report;
  GError *error;
} async_state;

static void on_progress(int step, int steps, double eta, gpointer user) {
  async_state *s = user;
  g_assert_cmpint(step, >, s->last_step);
  g_assert_true(eta >= 0);
  s->last_step = step;
  s->steps = steps;
  s->progress_calls++;
  if (s->cancel_at_first) g_cancellable_cancel(s->cancel_at_first);
}

static void on_done(GObject *source, GAsyncResult *res, gpointer user) {
  async_state *s = user;
  s->report = hy_finetune_job_run_finish(HY_MODEL_STORE(source), res, &s->error);
  g_main_loop_quit(s->loop);
}

static void test_job_async(void) {
  g_autofree char *shipped = ft_tiny_model("shipped-async.hyatt");
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "async", NULL);
  g_autofree char *store_dir = g_build_filename(dir, "models", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(HyModelStore) store = hy_model_store_new(store_dir, shipped, &error);
  g_autoptr(GPtrArray) paths = ft_corrected_set(dir, "img", 4, NULL, 0, 0);
  HyFinetuneSettings few = settings;
  few.steps = 8;

  async_state s = {.loop = g_main_loop_new(NULL, FALSE)};
  hy_finetune_job_run_async(store, (const char *const *)paths->pdata, &few, NULL, on_progress, &s,
                            on_done, &s);
  g_main_loop_run(s.loop);
  g_assert_no_error(s.error);
  g_assert_nonnull(s.report);
  g_assert_cmpint(s.last_step, ==, 8);
  g_assert_cmpint(s.steps, ==, 8);
  hy_finetune_report_free(s.report);

  /* cancelled at the first step: an error, and nothing changes */
  g_autoptr(GPtrArray) more = ft_corrected_set(dir, "more", 3, paths, 0, 0);
  g_autoptr(HyModelRecord) before = hy_model_store_current(store, &error);
  g_autoptr(GCancellable) c = g_cancellable_new();
  async_state t = {.loop = s.loop, .cancel_at_first = c};
  few.steps = 200;
  hy_finetune_job_run_async(store, (const char *const *)more->pdata, &few, c, on_progress, &t,
                            on_done, &t);
  g_main_loop_run(t.loop);
  g_assert_null(t.report);
  g_assert_error(t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint(t.last_step, <, 200);
  g_clear_error(&t.error);
  g_autoptr(HyModelRecord) after = hy_model_store_current(store, &error);
  g_assert_cmpstr(before->id, ==, after->id);
  g_main_loop_unref(s.loop);
  assert_consistent(store);
}

static void test_cli(void) {
  g_autofree char *shipped = ft_tiny_model("shipped-cli.hyatt");
  g_autofree char *shipped_id = model_id(shipped);
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "cli", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autoptr(GPtrArray) paths = ft_corrected_set(dir, "c", 5, NULL, 0, 0);
  g_autofree char *out = g_build_filename(dir, "tuned.hyatt", NULL);
  ct_result r = ct_run("finetune", "--model", shipped, "--out", out, "--steps", "40", "--lr",
                       "2e-3", g_ptr_array_index(paths, 0), g_ptr_array_index(paths, 1),
                       g_ptr_array_index(paths, 2), g_ptr_array_index(paths, 3),
                       g_ptr_array_index(paths, 4), NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "4 tuned on, 0 replayed, 1 held out"));
  g_assert_nonnull(strstr(r.out, "held-out MRE: before"));
  g_assert_nonnull(strstr(r.out, "kept: written to"));
  g_assert_true(g_file_test(out, G_FILE_TEST_IS_REGULAR));
  g_autofree char *id = model_id(shipped);
  g_assert_cmpstr(id, ==, shipped_id);
  ct_result_clear(&r);

  /* earlier corrections replayed: counted apart from the new ones */
  g_autoptr(GPtrArray) more = ft_corrected_set(dir, "d", 3, NULL, 0, 0);
  const char *replayed = NULL; /* one that the round does not hold out */
  for (guint i = 0; i < paths->len - 1 && !replayed; i++) {
    const char *c = g_ptr_array_index(paths, i);
    const char *round[] = {g_ptr_array_index(more, 0), g_ptr_array_index(more, 1),
                           g_ptr_array_index(more, 2), c, NULL};
    g_auto(GStrv) held = hy_finetune_held_out(round);
    if (!g_strv_contains((const char *const *)held, c)) replayed = c;
  }
  g_assert_nonnull(replayed);
  r = ct_run("finetune", "--model", shipped, "--steps", "4", "--replay", replayed,
             g_ptr_array_index(more, 0), g_ptr_array_index(more, 1), g_ptr_array_index(more, 2),
             NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "1 replayed"));
  g_assert_nonnull(strstr(r.out, "not written (no --out)"));
  ct_result_clear(&r);

  r = ct_run("finetune", "--model", shipped, g_ptr_array_index(paths, 0), NULL);
  ct_assert_one_line_error(&r, "hyatt finetune:", "at least 2");
  ct_result_clear(&r);
  r = ct_run("finetune", g_ptr_array_index(paths, 0), NULL);
  ct_assert_status(&r, 2);
  ct_result_clear(&r);
  r = ct_run("finetune", "--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "--model"));
  ct_result_clear(&r);
}

/* ---- killed at random moments ---- */

#define KILLS 25

/* The child: rounds and switches on the store, forever; each round has a
 * newly corrected image to learn from, as a user would add. */
static int child_main(const char *store_dir, const char *shipped, const char *dir) {
  g_autoptr(GError) error = NULL;
  g_autoptr(HyModelStore) store = hy_model_store_new(store_dir, shipped, &error);
  if (!store) g_error("%s", error->message);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < 4; i++)
    g_ptr_array_add(paths, g_strdup_printf("%s/k%d.png.hyatt.json", dir, i));
  g_ptr_array_add(paths, NULL);
  HyFinetuneSettings few = settings;
  for (guint64 seed = (guint64)g_random_int() + 1;; seed++) {
    g_autofree char *name = g_strdup_printf("n%" G_GUINT64_FORMAT, seed);
    g_ptr_array_insert(paths, (int)paths->len - 1, ft_corrected_image(dir, name, 0, 0));
    few.seed = seed;
    few.steps = 3;
    g_autoptr(HyFinetuneReport) r = hy_finetune_job_run(store, (const char *const *)paths->pdata,
                                                        &few, NULL, NULL, NULL, &error);
    /* the new image may be among those held out: then there is nothing new yet */
    if (!r && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
      g_clear_error(&error);
      continue;
    }
    if (!r) g_error("%s", error->message);
    g_autoptr(GPtrArray) list = hy_model_store_list(store, &error);
    for (guint i = 0; i < list->len; i++) {
      HyModelRecord *m = g_ptr_array_index(list, i);
      if (!hy_model_store_set_current(store, m->id, &error)) g_error("%s", error->message);
    }
  }
  return 0;
}

static void test_kill(void) {
  g_autofree char *shipped = ft_tiny_model("shipped-kill.hyatt");
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "kill", NULL);
  g_autofree char *store_dir = g_build_filename(dir, "models", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autoptr(GPtrArray) paths = ft_corrected_set(dir, "k", 4, NULL, 0, 0);
  const char *self = g_test_get_filename(G_TEST_BUILT, "test-finetune-job", NULL);
  tu_rng rng = tu_rng_new(99);
  int killed_with_models = 0, wanted = tu_kills(KILLS);
  gint64 start = g_get_monotonic_time();
  for (int i = 0; i < wanted; i++) {
    const char *argv[] = {self, "--child", store_dir, shipped, dir, NULL};
    GPid pid;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &pid, &error));
    g_usleep((gulong)tu_int(&rng, 20000, 400000));
    kill(pid, SIGKILL);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
      g_error("the child ended by itself: status %d", status);
    g_autoptr(HyModelStore) store = hy_model_store_new(store_dir, shipped, &error);
    g_assert_no_error(error);
    assert_consistent(store);
    g_autoptr(GPtrArray) list = hy_model_store_list(store, &error);
    killed_with_models += list->len > 1;
  }
  g_test_message("fine-tuning rounds and model-store switches: %d kills in %.1f s, %d of them with tuned models in the store: the store "
                 "consistent and the current model loading after every one",
                 wanted, (double)(g_get_monotonic_time() - start) * 1e-6, killed_with_models);
  /* the kills fell after some rounds were kept, not only at start-up */
  g_assert_cmpint(killed_with_models, >, wanted / 2);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--child") == 0) return child_main(argv[2], argv[3], argv[4]);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/finetune-job/guard-keep-discard-restore", test_guard_keep_discard_restore);
  g_test_add_func("/finetune-job/store-leftovers", test_store_leftovers);
  g_test_add_func("/finetune-job/async", test_job_async);
  g_test_add_func("/finetune-job/cli", test_cli);
  g_test_add_func("/finetune-job/kill", test_kill);
  return g_test_run();
}
