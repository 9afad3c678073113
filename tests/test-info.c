/* `hyatt model-init` and `hyatt info` (the executable in $HYATT_BIN): a
 * random tiny model written and described, as text and as JSON, and the
 * one-line errors on damaged files and bad command lines. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "clitest.h"
#include "hyatt.h"
#include "testutil.h"

/* A tiny random model with landmarks "first", "second point" (made once). */
static const char *tiny_model(void) {
  static char *path;
  if (path) return path;
  path = g_build_filename(tu_tmpdir(), "tiny.hyatt", NULL);
  ct_result r = ct_run("model-init", "--config", "tiny", "--landmarks", "test-set", "--names",
                       "first, second point", "--seed", "7", "--spacing", "0.125", "--out", path,
                       NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "config tiny, 2 landmarks (test-set)"));
  ct_result_clear(&r);
  return path;
}

static void test_help(void) {
  ct_result r = ct_run("--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "  info "));
  g_assert_nonnull(strstr(r.out, "  model-init "));
  ct_result_clear(&r);
  r = ct_run("info", "--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "--json"));
  ct_result_clear(&r);
  r = ct_run("model-init", "--help", NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "--landmarks"));
  g_assert_nonnull(strstr(r.out, "--seed"));
  ct_result_clear(&r);
}

static void test_model_init(void) {
  const char *path = tiny_model();
  hy_net *net = NULL;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_load(&net, &info, path, HY_INFER, 1, &err) != HY_OK) g_error("%s", err.msg);
  g_assert_cmpstr(net->cfg.name, ==, "tiny");
  g_assert_cmpint(info.landmark_count, ==, 2);
  g_assert_cmpstr(info.landmark_names[1], ==, "second point");
  g_assert_true(info.spacing_mm == 0.125);
  g_assert_cmpint(info.steps, ==, 0);
  g_assert_cmpstr(info.hyatt_version, ==, "0.1.0");
  /* the weights are hy_net_init_seeded's */
  hy_net *want = NULL;
  g_assert_cmpint(hy_net_create(&want, &net->cfg, 1, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_init_seeded(want, 7);
  for (int i = 0; i < net->plan.n_params; i++)
    g_assert_cmpmem(net->plan.table[i].w, net->plan.table[i].n * sizeof(float),
                    want->plan.table[i].w, want->plan.table[i].n * sizeof(float));
  hy_net_free(want);
  hy_net_free(net);

  /* the built-in ISBI set; an existing file needs --force */
  g_autofree char *isbi = g_build_filename(tu_tmpdir(), "isbi.hyatt", NULL);
  ct_result r = ct_run("model-init", "--config", "tiny", "--out", isbi, NULL);
  ct_assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "19 landmarks (isbi2015)"));
  ct_result_clear(&r);
  hy_net_config cfg;
  g_assert_cmpint(hy_model_inspect(&cfg, &info, isbi, &err), ==, HY_OK);
  g_assert_cmpint(cfg.landmarks, ==, 19);
  g_assert_cmpstr(info.landmark_names[0], ==, "Sella");
  g_assert_true(info.spacing_mm == 0.1);
  /* a definition file; commas in names become semicolons */
  g_autofree char *hand = g_build_filename(tu_tmpdir(), "hand.hyatt", NULL);
  r = ct_run("model-init", "--config", "tiny", "--landmarks", HY_SOURCE_DIR "/data/landmarks/hand.json",
             "--out", hand, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
  g_assert_cmpint(hy_model_inspect(&cfg, &info, hand, &err), ==, HY_OK);
  g_assert_cmpint(info.landmark_count, ==, 37);
  g_assert_cmpstr(info.landmark_set, ==, "hand");
  g_assert_cmpstr(info.landmark_names[0], ==, "Ulna; ulnar border of the distal end");
  r = ct_run("model-init", "--config", "tiny", "--out", isbi, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt model-init: ", "--force");
  ct_result_clear(&r);
  r = ct_run("model-init", "--config", "tiny", "--force", "--out", isbi, NULL);
  ct_assert_status(&r, 0);
  ct_result_clear(&r);
}

static void test_model_init_errors(void) {
  g_autofree char *out = g_build_filename(tu_tmpdir(), "never.hyatt", NULL);
  struct {
    const char *args[4];
    int status;
    const char *words;
  } cases[] = {
      {{"--config", "huge"}, 2, "unknown network configuration 'huge'"},
      {{"--landmarks", "no-such-set"}, 2, "--names"},
      {{"--landmarks", "hand", "--names", "a,,b"}, 2, "name 2 is empty"},
      {{"--seed", "-1"}, 2, "--seed"},
      {{"--landmarks", "bad set", "--names", "a"}, 1, "landmark set name"},
      {{"--spacing", "0"}, 2, "--spacing"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *const *a = cases[i].args;
    ct_result r = ct_run("model-init", "--config", "tiny", "--out", out, a[0], a[1], a[2], a[3], NULL);
    ct_assert_status(&r, cases[i].status);
    ct_assert_one_line_error(&r, "hyatt model-init: ", cases[i].words);
    ct_result_clear(&r);
  }
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  ct_result r = ct_run("model-init", "--config", "tiny", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt model-init: ", "--out FILE is required");
  ct_result_clear(&r);
}

static void test_info_text(void) {
  const char *path = tiny_model();
  char id[HY_MODEL_ID_SIZE];
  hy_error err = {0};
  g_assert_cmpint(hy_model_id(id, path, &err), ==, HY_OK);
  ct_result r = ct_run("info", path, NULL);
  ct_assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  const char *want[] = {"tiny", id, "96 × 64 px", "4, 8, 8, 16, 16", "41,316",
                        "2 (test-set)", "  1  first\n", "  2  second point\n", "0.125 mm",
                        "seed 7", "untrained", "Hyatt Studio 0.1.0"};
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    if (!strstr(r.out, want[i])) g_error("'hyatt info' does not say '%s':\n%s", want[i], r.out);
  ct_result_clear(&r);
}

static void test_info_json(void) {
  const char *path = tiny_model();
  ct_result r = ct_run("info", "--json", path, NULL);
  ct_assert_status(&r, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, r.out, -1, &error)) g_error("%s: %s", error->message, r.out);
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  char id[HY_MODEL_ID_SIZE];
  hy_error err = {0};
  g_assert_cmpint(hy_model_id(id, path, &err), ==, HY_OK);
  g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, id);
  g_assert_cmpstr(json_object_get_string_member(o, "format"), ==, "hyatt-model");
  JsonObject *cfg = json_object_get_object_member(o, "config");
  g_assert_cmpstr(json_object_get_string_member(cfg, "name"), ==, "tiny");
  g_assert_cmpint(json_object_get_int_member(cfg, "landmarks"), ==, 2);
  g_assert_cmpint(json_array_get_int_element(json_object_get_array_member(cfg, "widths"), 4), ==, 16);
  JsonArray *names = json_object_get_array_member(o, "landmark_names");
  g_assert_cmpint(json_array_get_length(names), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(names, 1), ==, "second point");
  g_assert_cmpint(json_object_get_int_member(o, "param_count"), ==, 41316);
  g_assert_cmpint(json_object_get_int_member(o, "steps"), ==, 0);
  g_assert_cmpfloat(json_object_get_double_member(o, "spacing_mm"), ==, 0.125);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
  g_assert_cmpint(json_object_get_int_member(o, "file_bytes"), ==, (gint64)len);
  ct_result_clear(&r);
}

static void test_info_errors(void) {
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(tiny_model(), &bytes, &len, NULL));
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, tiny_model(), 0, &err), ==, HY_OK);
  size_t at = hy_tensorfile_find(tf, "stages.0.embed.weight")->offset + 3;
  hy_tensorfile_free(tf);
  bytes[at] ^= 0x40;
  g_autofree char *dir = g_strdup(tu_tmpdir());
  g_autofree char *bad = g_build_filename(dir, "model.hyatt", NULL);
  g_assert_true(g_file_set_contents(bad, bytes, (gssize)len, NULL));
  g_autofree char *cwd = g_get_current_dir();
  g_assert_cmpint(g_chdir(dir), ==, 0);
  ct_result r = ct_run("info", "model.hyatt", NULL);
  g_assert_cmpint(g_chdir(cwd), ==, 0);
  ct_assert_status(&r, 1);
  g_assert_cmpstr(r.err, ==,
                  "hyatt info: model.hyatt: checksum mismatch in tensor stages.0.embed.weight "
                  "(damaged file)\n");
  g_assert_cmpstr(r.out, ==, "");
  ct_result_clear(&r);

  g_assert_true(g_file_set_contents(bad, bytes, 100, NULL));
  r = ct_run("info", "--json", bad, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt info: ", "truncated");
  g_assert_cmpstr(r.out, ==, "");
  ct_result_clear(&r);

  g_autofree char *missing = g_build_filename(dir, "missing.hyatt", NULL);
  r = ct_run("info", missing, NULL);
  ct_assert_status(&r, 1);
  ct_assert_one_line_error(&r, "hyatt info: ", "missing.hyatt");
  ct_result_clear(&r);

  r = ct_run("info", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt info: ", "no MODEL given");
  ct_result_clear(&r);
  r = ct_run("info", "a.hyatt", "b.hyatt", NULL);
  ct_assert_status(&r, 2);
  ct_result_clear(&r);
  r = ct_run("info", "--bogus", "a.hyatt", NULL);
  ct_assert_status(&r, 2);
  ct_assert_one_line_error(&r, "hyatt info: ", "--bogus");
  ct_result_clear(&r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  /* hyatt finds the shipped landmark sets there */
  g_setenv("HYATT_LANDMARKS_DIR", HY_SOURCE_DIR "/data/landmarks", TRUE);
  g_test_add_func("/info/help", test_help);
  g_test_add_func("/info/model-init", test_model_init);
  g_test_add_func("/info/model-init-errors", test_model_init_errors);
  g_test_add_func("/info/text", test_info_text);
  g_test_add_func("/info/json", test_info_json);
  g_test_add_func("/info/errors", test_info_errors);
  return g_test_run();
}
