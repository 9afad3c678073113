/* `hyatt train` and `hyatt eval` (path in $HYATT_BIN) on a generated data
 * set: outputs, train.log, resume, Ctrl-C (exit 130 with a checkpoint),
 * the Markdown and JSON reports, and one-line errors. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "config.h"
#include "hyatt.h"
#include "testutil.h"

/* 8 images (6 train, 2 test1) of 120 x 80 with a blob at each of 2
 * landmarks, two annotators, and a dataset.json with the spacing. */
static const char *data_dir(void) {
  static char *dir;
  if (dir) return dir;
  dir = g_build_filename(tu_tmpdir(), "set", NULL);
  char *images = g_build_filename(dir, "images", NULL);
  g_assert_cmpint(g_mkdir_with_parents(images, 0755), ==, 0);
  GString *senior = g_string_new("image,split,l1_x,l1_y,l2_x,l2_y\n");
  GString *junior = g_string_new("image,split,l1_x,l1_y,l2_x,l2_y\n");
  GString *train = g_string_new(""), *test = g_string_new("");
  for (int i = 0; i < 8; i++) {
    char id[8];
    snprintf(id, sizeof id, "%03d", i + 1);
    const char *split = i < 6 ? "train" : "test1";
    g_string_append_printf(i < 6 ? train : test, "%s\n", id);
    tu_rng r = tu_rng_new(50 + (uint64_t)i);
    hy_image img = {0};
    hy_error err = {0};
    g_assert_cmpint(hy_image_new(&img, 120, 80, &err), ==, HY_OK);
    for (int p = 0; p < 120 * 80; p++) img.pixels[p] = 0.2f;
    g_string_append_printf(senior, "%s,%s", id, split);
    g_string_append_printf(junior, "%s,%s", id, split);
    for (int k = 0; k < 2; k++) {
      int x = tu_int(&r, 15, 105), y = tu_int(&r, 12, 68);
      for (int j = 0; j < 80; j++)
        for (int q = 0; q < 120; q++)
          img.pixels[j * 120 + q] += 0.7f * (float)exp(-((q - x) * (q - x) + (j - y) * (j - y)) / 12.0);
      g_string_append_printf(senior, ",%d,%d", x, y);
      g_string_append_printf(junior, ",%d,%d", x + 2, y);
    }
    g_string_append(senior, "\n");
    g_string_append(junior, "\n");
    char *path = g_strdup_printf("%s/%s.png", images, id);
    g_assert_cmpint(hy_image_save_png(&img, path, 8, &err), ==, HY_OK);
    g_free(path);
    hy_image_free(&img);
  }
  struct {
    const char *name;
    const char *text;
  } files[] = {
      {"senior_px.csv", senior->str},
      {"junior_px.csv", junior->str},
      {"train.txt", train->str},
      {"test1.txt", test->str},
      {"dataset.json", "{ \"name\": \"blobs\", \"spacing_mm\": 0.1,\n"
                       "  \"annotators\": [ { \"name\": \"senior\", \"file\": \"senior_px.csv\" },\n"
                       "                    { \"name\": \"junior\", \"file\": \"junior_px.csv\" } ],\n"
                       "  \"landmarks\": [ \"top blob\", \"other blob\" ] }\n"},
  };
  for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
    char *path = g_build_filename(dir, files[f].name, NULL);
    tu_write_file(path, files[f].text, -1);
    g_free(path);
  }
  g_string_free(senior, TRUE);
  g_string_free(junior, TRUE);
  g_string_free(train, TRUE);
  g_string_free(test, TRUE);
  g_free(images);
  return dir;
}

static char *tmp_path(const char *name) { return g_build_filename(tu_tmpdir(), name, NULL); }

static char **read_lines(const char *path) {
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  char **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  return lines;
}

static void test_help_and_usage(void) {
  ct_result r = ct_run("train", "--help", NULL);
  ct_assert_status(&r, 0);
  const char *train_opts[] = {"--data", "--config", "--steps", "--resume", "--out", "--seed",
                              "--reference", "--threads", "--val-every", "--checkpoint-minutes",
                              "--input"};
  for (size_t i = 0; i < G_N_ELEMENTS(train_opts); i++) g_assert_nonnull(strstr(r.out, train_opts[i]));
  ct_result_clear(&r);
  r = ct_run("eval", "--help", NULL);
  ct_assert_status(&r, 0);
  const char *eval_opts[] = {"--model", "--data", "--split", "--json", "--threads", "--limit"};
  for (size_t i = 0; i < G_N_ELEMENTS(eval_opts); i++) g_assert_nonnull(strstr(r.out, eval_opts[i]));
  ct_result_clear(&r);

  r = ct_run("train", "--steps", "5", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt train: ", "--data");
  ct_result_clear(&r);
  r = ct_run("train", "--data", data_dir(), NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt train: ", "--steps");
  ct_result_clear(&r);
  r = ct_run("train", "--data", data_dir(), "--steps", "3", "--input", "500x416", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt train: ", "multiples of 32");
  ct_result_clear(&r);
  r = ct_run("eval", "--model", "m.hyatt", "--data", data_dir(), NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt eval: ", "--split");
  ct_result_clear(&r);
}

/* Trains the tiny configuration for 4 steps into OUT once. */
static const char *trained(void) {
  static char *out;
  if (out) return out;
  out = tmp_path("out");
  ct_result r = ct_run("train", "--data", data_dir(), "--config", "tiny", "--steps", "4",
                       "--val-every", "2", "--val-fraction", "0.2", "--warmup", "2", "--threads",
                       "1", "--out", out, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "step 1/4"));
  g_assert_nonnull(strstr(r.out, "step 4/4"));
  g_assert_nonnull(strstr(r.out, "validation at step 2 (1 images)"));
  g_assert_nonnull(strstr(r.out, "dataset.json"));
  ct_result_clear(&r);
  return out;
}

static void test_train(void) {
  const char *out = trained();
  char *log = g_build_filename(out, "train.log", NULL);
  char **lines = read_lines(log);
  g_assert_cmpstr(lines[0], ==, "step\tloss\tlr\tgrad_norm\tval_mre_mm");
  g_assert_cmpuint(g_strv_length(lines), ==, 6); /* header, 4 steps, "" after the last \n */
  for (int i = 1; i <= 4; i++) {
    char **f = g_strsplit(lines[i], "\t", -1);
    g_assert_cmpuint(g_strv_length(f), ==, 5);
    g_assert_cmpint(atoi(f[0]), ==, i);
    g_assert_cmpfloat(g_ascii_strtod(f[1], NULL), >, 0);
    /* validations at steps 2 and 4 */
    g_assert_cmpint(f[4][0] != 0, ==, i % 2 == 0);
    g_strfreev(f);
  }
  g_strfreev(lines);
  char *best = g_build_filename(out, "best.hyatt", NULL), *last = g_build_filename(out, "last.hyatt", NULL);
  hy_net_config cfg;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_inspect(&cfg, &info, best, &err)) g_error("%s", err.msg);
  g_assert_false(info.checkpoint);
  g_assert_cmpstr(info.landmark_names[0], ==, "top blob");
  g_assert_cmpstr(info.landmark_set, ==, "blobs");
  if (hy_model_inspect(&cfg, &info, last, &err)) g_error("%s", err.msg);
  g_assert_true(info.checkpoint);
  g_assert_cmpint(info.steps, ==, 4);

  /* resume to 6 steps: the log goes on */
  char *copy = tmp_path("out-resumed");
  g_assert_cmpint(g_mkdir_with_parents(copy, 0755), ==, 0);
  char *copy_log = g_build_filename(copy, "train.log", NULL), *text = NULL;
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  tu_write_file(copy_log, text, -1);
  ct_result r = ct_run("train", "--data", data_dir(), "--resume", last, "--steps", "6",
                       "--threads", "1", "--out", copy, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "from step 4"));
  ct_result_clear(&r);
  lines = read_lines(copy_log);
  g_assert_cmpuint(g_strv_length(lines), ==, 8);
  g_assert_true(g_str_has_prefix(lines[6], "6\t"));
  g_strfreev(lines);
  g_free(text);
  g_free(copy_log);
  g_free(copy);
  g_free(last);
  g_free(best);
  g_free(log);
}

/* --distributed itself is tested in test-mpi.c, under mpirun. */
static void test_distributed_without_mpi(void) {
#ifdef HY_HAVE_MPI
  g_test_skip("this build has MPI");
#else
  ct_result r = ct_run("train", "--data", data_dir(), "--steps", "1", "--distributed", NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt train: ", "this build has no MPI support");
  ct_result_clear(&r);
#endif
}

static void test_train_interrupted(void) {
  char *out = tmp_path("out-int");
  char *log = g_build_filename(out, "train.log", NULL);
  GError *error = NULL;
  GSubprocess *p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                    &error, ct_hyatt_bin(), "train", "--data", data_dir(), "--config",
                                    "tiny", "--steps", "1000000", "--threads", "1", "--out", out, NULL);
  g_assert_no_error(error);
  ct_wait_for_lines(log, 3, 60); /* the header and two steps */
  g_subprocess_send_signal(p, SIGINT);
  char *sout = NULL, *serr = NULL;
  g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &sout, &serr, &error));
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(p));
  if (g_subprocess_get_exit_status(p) != 130) g_error("exit %d; %s %s", g_subprocess_get_exit_status(p), sout, serr);
  g_assert_nonnull(strstr(serr, "--resume"));
  char *last = g_build_filename(out, "last.hyatt", NULL);
  hy_net_config cfg;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_inspect(&cfg, &info, last, &err)) g_error("%s", err.msg);
  g_assert_true(info.checkpoint);
  g_assert_cmpint(info.steps, >=, 2);
  g_object_unref(p);
  g_free(sout);
  g_free(serr);
  g_free(last);
  g_free(log);
  g_free(out);
}

static void test_eval(void) {
  char *model = g_build_filename(trained(), "best.hyatt", NULL);
  ct_result r = ct_run("eval", "--model", model, "--data", data_dir(), "--split", "test1", "--threads", "1", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "| mean of senior, junior |"));
  g_assert_nonnull(strstr(r.out, "| senior |"));
  g_assert_nonnull(strstr(r.out, "| junior |"));
  g_assert_nonnull(strstr(r.out, "| 2 other blob |"));
  g_assert_nonnull(strstr(r.out, "SDR 2.5 mm"));
  g_assert_nonnull(strstr(r.out, "2 of 2 images"));
  ct_result_clear(&r);

  r = ct_run("eval", "--model", model, "--data", data_dir(), "--split", "test1", "--json",
             "--limit", "1", "--threads", "1", NULL);
  ct_assert_status(&r, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  GError *error = NULL;
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, &error));
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpint(json_object_get_int_member(o, "images"), ==, 1);
  g_assert_cmpfloat(json_object_get_double_member(o, "spacing_mm"), ==, 0.1);
  JsonArray *refs = json_object_get_array_member(o, "references");
  g_assert_cmpuint(json_array_get_length(refs), ==, 3);
  JsonObject *mean = json_array_get_object_element(refs, 0);
  g_assert_cmpstr(json_object_get_string_member(mean, "reference"), ==, "mean");
  JsonObject *overall = json_object_get_object_member(mean, "overall");
  g_assert_cmpfloat(json_object_get_double_member(overall, "mre_mm"), >=, 0);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(overall, "sdr")), ==, 4);
  JsonArray *per = json_object_get_array_member(mean, "per_landmark");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(per, 1), "name"), ==,
                  "other blob");
  ct_result_clear(&r);

  /* --record: the figures land in a copy's metrics, the weights stay */
  char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(model, &bytes, &len, NULL));
  char *copy = g_build_filename(tu_tmpdir(), "recorded.hyatt", NULL);
  g_assert_true(g_file_set_contents(copy, bytes, (gssize)len, NULL));
  g_free(bytes);
  r = ct_run("eval", "--model", copy, "--data", data_dir(), "--split", "test1", "--record",
             "--threads", "1", NULL);
  ct_assert_status(&r, 0);
  char *before = g_strdup(r.out);
  ct_result_clear(&r);
  r = ct_run("info", copy, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "test1 MRE "));
  g_assert_nonnull(strstr(r.out, "(2 images, mean of senior, junior)"));
  ct_result_clear(&r);
  r = ct_run("eval", "--model", copy, "--data", data_dir(), "--split", "test1", "--threads", "1", NULL);
  ct_assert_status(&r, 0);
  /* the tables after the model line (its id changes with the header) */
  g_assert_cmpstr(strstr(r.out, "| reference"), ==, strstr(before, "| reference"));
  ct_result_clear(&r);
  g_free(before);
  g_free(copy);

  /* errors: a split that does not exist, a spacing-less data set, K mismatch */
  r = ct_run("eval", "--model", model, "--data", data_dir(), "--split", "test7", NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt eval: ", "no split 'test7'");
  ct_result_clear(&r);
  char *bare = tu_write_tmp("bare.json", "{ \"name\": \"bare\" }", -1);
  r = ct_run("eval", "--model", model, "--data", data_dir(), "--split", "test1", "--dataset-info",
             bare, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt eval: ", "no pixel spacing");
  ct_result_clear(&r);
  const char *shared = tu_shared_data();
  if (shared) {
    char *isbi = g_build_filename(shared, "isbi2015", NULL);
    r = ct_run("eval", "--model", model, "--data", isbi, "--split", "test1", NULL);
    ct_assert_status(&r, 1);
    ct_assert_one_line_error(&r, "hyatt eval: ", "predicts 2 landmarks");
    g_assert_nonnull(strstr(r.err, "has 19"));
    ct_result_clear(&r);
    g_free(isbi);
  }
  g_free(bare);
  g_free(model);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli-train/help-and-usage", test_help_and_usage);
  g_test_add_func("/cli-train/train", test_train);
  g_test_add_func("/cli-train/interrupted", test_train_interrupted);
  g_test_add_func("/cli-train/distributed-without-mpi", test_distributed_without_mpi);
  g_test_add_func("/cli-train/eval", test_eval);
  return g_test_run();
}
