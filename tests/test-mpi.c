/* `hyatt train --distributed` under mpirun ($MPIRUN, two local processes,
 * loopback only): two ranks with one image each make the same weights as
 * one process that accumulates both images' gradients, a checkpoint of two
 * ranks resumes on one, and a rank that hangs or dies makes the job end
 * with an error instead of waiting for ever. */
#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "datasetinfo.h"
#include "hyatt.h"
#include "testutil.h"

#define RANK_TIMEOUT "3" /* seconds, for the hang test */

/* 2 training images of 120 x 80 with a blob at each of 2 landmarks. */
static const char *data_dir(void) {
  static char *dir;
  if (dir) return dir;
  dir = g_build_filename(tu_tmpdir(), "set", NULL);
  char *images = g_build_filename(dir, "images", NULL);
  g_assert_cmpint(g_mkdir_with_parents(images, 0755), ==, 0);
  GString *csv = g_string_new("image,split,l1_x,l1_y,l2_x,l2_y\n");
  for (int i = 0; i < 2; i++) {
    tu_rng r = tu_rng_new(70 + (uint64_t)i);
    hy_image img = {0};
    hy_error err = {0};
    g_assert_cmpint(hy_image_new(&img, 120, 80, &err), ==, HY_OK);
    for (int p = 0; p < 120 * 80; p++) img.pixels[p] = 0.2f;
    g_string_append_printf(csv, "%03d,train", i + 1);
    for (int k = 0; k < 2; k++) {
      int x = tu_int(&r, 15, 105), y = tu_int(&r, 12, 68);
      for (int j = 0; j < 80; j++)
        for (int q = 0; q < 120; q++)
          img.pixels[j * 120 + q] += 0.7f * (float)exp(-((q - x) * (q - x) + (j - y) * (j - y)) / 12.0);
      g_string_append_printf(csv, ",%d,%d", x, y);
    }
    g_string_append(csv, "\n");
    char *path = g_strdup_printf("%s/%03d.png", images, i + 1);
    g_assert_cmpint(hy_image_save_png(&img, path, 8, &err), ==, HY_OK);
    g_free(path);
    hy_image_free(&img);
  }
  struct {
    const char *name;
    const char *text;
  } files[] = {
      {"senior_px.csv", csv->str},
      {"train.txt", "001\n002\n"},
      {"dataset.json", "{ \"name\": \"blobs\", \"spacing_mm\": 0.1,\n"
                       "  \"annotators\": [ { \"name\": \"senior\", \"file\": \"senior_px.csv\" } ],\n"
                       "  \"landmarks\": [ \"top blob\", \"other blob\" ] }\n"},
  };
  for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
    char *path = g_build_filename(dir, files[f].name, NULL);
    tu_write_file(path, files[f].text, -1);
    g_free(path);
  }
  g_string_free(csv, TRUE);
  g_free(images);
  return dir;
}

static const char *mpirun(void) {
  const char *p = g_getenv("MPIRUN");
  if (!p) g_error("MPIRUN is not set");
  return p;
}

/* mpirun -np N hyatt train --distributed ARGS... (NULL-terminated); the
 * exit status, with stdout and stderr in *out (g_free it). */
static int run_distributed(int np, char **out, ...) {
  GPtrArray *argv = g_ptr_array_new();
  char n[8];
  snprintf(n, sizeof n, "%d", np);
  const char *head[] = {mpirun(), "-np", n, "--oversubscribe", "--allow-run-as-root",
                        ct_hyatt_bin(), "train", "--distributed", "--threads", "1",
                        "--data", data_dir(), "--config", "tiny"};
  for (size_t i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(argv, (char *)head[i]);
  va_list ap;
  va_start(ap, out);
  for (const char *a; (a = va_arg(ap, const char *));) g_ptr_array_add(argv, (char *)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  GError *error = NULL;
  GSubprocess *p = g_subprocess_newv((const char *const *)argv->pdata,
                                     G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                     &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, out, NULL, &error));
  g_assert_no_error(error);
  int status = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
  g_object_unref(p);
  g_ptr_array_free(argv, TRUE);
  return status;
}

/* The same options as `hyatt train` with the arguments run_distributed and
 * the tests give, in this process. */
static hy_train_options serial_options(hy_dataset_spec *spec, const char *out, int64_t steps) {
  GError *error = NULL;
  char *source = NULL;
  g_assert_true(hy_dataset_spec_from_options(spec, data_dir(), NULL, 0, &source, &error));
  g_free(source);
  hy_train_options o;
  hy_train_options_defaults(&o);
  o.data_dir = data_dir();
  o.spec = spec;
  o.config = "tiny";
  o.steps = steps;
  o.warmup = 1;
  o.val_fraction = 0;
  o.out_dir = out;
  return o;
}

/* Largest |a − b| / (1 + |b|) over the trained (not buffer) parameters. */
static double max_param_diff(const hy_net *a, const hy_net *b) {
  g_assert_cmpint(a->plan.n_params, ==, b->plan.n_params);
  double worst = 0;
  for (int j = 0; j < a->plan.n_params; j++) {
    const hy_param *pa = &a->plan.table[j], *pb = &b->plan.table[j];
    g_assert_cmpuint(pa->n, ==, pb->n);
    if (pa->is_buffer) continue; /* BatchNorm running statistics stay per rank */
    for (size_t i = 0; i < pa->n; i++)
      worst = fmax(worst, fabs((double)pa->w[i] - pb->w[i]) / (1 + fabs((double)pb->w[i])));
  }
  return worst;
}

static hy_net *load(const char *dir, const char *name) {
  char *path = g_build_filename(dir, name, NULL);
  hy_net *net = NULL;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_load(&net, &info, path, HY_INFER, 1, &err)) g_error("%s", err.msg);
  g_free(path);
  return net;
}

/* 3 steps of two ranks into OUT once; its folder. */
static const char *two_ranks(void) {
  static char *out;
  if (out) return out;
  out = g_build_filename(tu_tmpdir(), "two", NULL);
  char *text = NULL;
  int status = run_distributed(2, &text, "--steps", "3", "--warmup", "1", "--val-fraction", "0",
                               "--out", out, NULL);
  if (status != 0) g_error("exit %d: %s", status, text);
  g_assert_nonnull(strstr(text, "data parallel: 2 processes, 2 samples a step"));
  g_assert_nonnull(strstr(text, "2 processes: "));
  g_test_message("%s", text);
  g_free(text);
  return out;
}

/* Trains in this process with accumulate samples a step (from resume if
 * not NULL); the largest difference to the weights of two_ranks(). */
static double diff_to_two_ranks(int accumulate, const char *resume) {
  hy_dataset_spec spec;
  char *out = g_build_filename(tu_tmpdir(), "serial", NULL);
  hy_train_options o = serial_options(&spec, out, 3);
  o.accumulate = accumulate;
  o.resume = resume;
  hy_trainer *t = NULL;
  hy_error err = {0};
  if (hy_trainer_new(&t, &o, &err) || hy_trainer_run(t, &err)) g_error("%s", err.msg);
  g_assert_cmpint(hy_trainer_step(t), ==, 3);
  hy_net *two = load(two_ranks(), "last.hyatt");
  double diff = max_param_diff(two, hy_trainer_net(t));
  hy_net_free(two);
  hy_trainer_free(t);
  g_free(out);
  return diff;
}

static void test_same_as_accumulated(void) {
  double diff = diff_to_two_ranks(2, NULL);
  g_test_message("largest relative weight difference %g", diff);
  g_assert_cmpfloat(diff, <, 1e-5);
  /* and not by chance: one sample a step makes other weights */
  g_assert_cmpfloat(diff_to_two_ranks(1, NULL), >, 1e-4);
}

/* The checkpoint of two ranks after 2 steps holds the order and generator
 * of all: one process accumulating both samples continues it to the
 * weights of two ranks' 3 steps; mpirun -np 1 resumes it too. */
static void test_resume_other_count(void) {
  char *out = g_build_filename(tu_tmpdir(), "resume", NULL), *text = NULL;
  int status = run_distributed(2, &text, "--steps", "2", "--warmup", "1", "--val-fraction", "0",
                               "--out", out, NULL);
  if (status != 0) g_error("exit %d: %s", status, text);
  g_free(text);
  char *ckpt = g_build_filename(out, "last.hyatt", NULL);
  double diff = diff_to_two_ranks(2, ckpt);
  g_test_message("largest relative weight difference %g", diff);
  g_assert_cmpfloat(diff, <, 1e-5);
  char *again = g_build_filename(tu_tmpdir(), "resume-1", NULL);
  status = run_distributed(1, &text, "--resume", ckpt, "--steps", "3", "--out", again, NULL);
  if (status != 0) g_error("exit %d: %s", status, text);
  g_assert_nonnull(strstr(text, "from step 2"));
  g_assert_nonnull(strstr(text, "done: 3 steps"));
  g_free(text);
  g_free(again);
  g_free(ckpt);
  g_free(out);
}

/* The pid of rank `rank` of the job whose environment has tag. */
static int find_rank(const char *tag, int rank) {
  char want[64];
  snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
  GDir *proc = g_dir_open("/proc", 0, NULL);
  g_assert_nonnull(proc);
  int found = 0;
  for (const char *name; !found && (name = g_dir_read_name(proc));) {
    if (!g_ascii_isdigit(name[0])) continue;
    char *path = g_build_filename("/proc", name, "environ", NULL), *env = NULL;
    gsize len = 0;
    if (g_file_get_contents(path, &env, &len, NULL)) {
      gboolean has_tag = FALSE, has_rank = FALSE;
      for (gsize i = 0; i < len; i += strlen(env + i) + 1) {
        has_tag = has_tag || strcmp(env + i, tag) == 0;
        has_rank = has_rank || strcmp(env + i, want) == 0;
      }
      if (has_tag && has_rank) found = atoi(name);
    }
    g_free(env);
    g_free(path);
  }
  g_dir_close(proc);
  return found;
}

static void on_exit_cb(GObject *source, GAsyncResult *res, gpointer user) {
  g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
  *(gboolean *)user = TRUE;
}

/* Rank 1 gets sig once both ranks train; the job must end non-zero within
 * the rank timeout (plus start-up slack), not wait for ever. */
static void check_lost_rank(const char *name, int sig, const char *expect) {
  char *out = g_build_filename(tu_tmpdir(), name, NULL);
  char *log = g_build_filename(out, "train.log", NULL);
  char *err_path = g_build_filename(tu_tmpdir(), name, NULL);
  char *tag = g_strdup_printf("HYATT_TEST_TAG=%s-%d", name, (int)getpid());
  char *err_file = g_strconcat(err_path, ".stderr", NULL);
  GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_setenv(l, "HYATT_TEST_TAG", strchr(tag, '=') + 1, TRUE);
  g_subprocess_launcher_set_stderr_file_path(l, err_file);
  GError *error = NULL;
  GSubprocess *p = g_subprocess_launcher_spawn(
      l, &error, mpirun(), "-np", "2", "--oversubscribe", "--allow-run-as-root", "-x",
      "HYATT_TEST_TAG", ct_hyatt_bin(), "train", "--distributed", "--threads", "1", "--data",
      data_dir(), "--config", "tiny", "--steps", "1000000", "--val-fraction", "0",
      "--rank-timeout", RANK_TIMEOUT, "--out", out, NULL);
  g_assert_no_error(error);
  ct_wait_for_lines(log, 3, 60); /* rank 0's header and two steps */
  int pid = find_rank(tag, 1);
  g_assert_cmpint(pid, >, 0);
  gint64 t0 = g_get_monotonic_time();
  g_assert_cmpint(kill(pid, sig), ==, 0);
  gboolean exited = FALSE;
  g_subprocess_wait_async(p, NULL, on_exit_cb, &exited);
  while (!exited && g_get_monotonic_time() - t0 < 30 * G_USEC_PER_SEC)
    if (!g_main_context_iteration(NULL, FALSE)) g_usleep(50000);
  double seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  if (!exited) {
    kill(pid, SIGKILL);
    g_subprocess_force_exit(p);
    g_error("the job still ran %.0f s after rank 1 got signal %d", seconds, sig);
  }
  char *err_text = NULL;
  g_assert_true(g_file_get_contents(err_file, &err_text, NULL, NULL));
  g_test_message("ended %.1f s after signal %d: %s", seconds, sig, err_text);
  g_assert_false(g_subprocess_get_if_exited(p) && g_subprocess_get_exit_status(p) == 0);
  g_assert_nonnull(strstr(err_text, expect));
  kill(pid, SIGKILL); /* a stopped rank may outlive mpirun */
  g_free(err_text);
  g_object_unref(p);
  g_object_unref(l);
  g_free(err_file);
  g_free(tag);
  g_free(err_path);
  g_free(log);
  g_free(out);
}

static void test_hung_rank(void) { check_lost_rank("hung", SIGSTOP, "waited " RANK_TIMEOUT " s"); }
static void test_killed_rank(void) { check_lost_rank("killed", SIGKILL, "signal 9"); }

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mpi/same-as-accumulated", test_same_as_accumulated);
  g_test_add_func("/mpi/resume-other-count", test_resume_other_count);
  g_test_add_func("/mpi/hung-rank", test_hung_rank);
  g_test_add_func("/mpi/killed-rank", test_killed_rank);
  return g_test_run();
}
