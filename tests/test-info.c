/* `hyatt model-init` and `hyatt info` (the executable in $HYATT_BIN): a
 * random tiny model written and described, as text and as JSON, and the
 * one-line errors on damaged files and bad command lines. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#include "hyatt.h"
#include "testutil.h"

typedef struct run_result {
  int status; /* exit status, or -1 if killed */
  char *out;
  char *err;
} run_result;

static void run_result_clear(run_result *r) {
  g_free(r->out);
  g_free(r->err);
}

/* Runs hyatt with the NULL-terminated arguments. */
static run_result run(const char *first, ...) {
  const char *bin = g_getenv("HYATT_BIN");
  if (!bin) g_error("HYATT_BIN is not set: run this test through meson test");
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)bin);
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(argv, (char *)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  run_result r = {0};
  int wait_status = 0;
  GError *error = NULL;
  char **env = g_environ_setenv(g_get_environ(), "LC_ALL", "C.UTF-8", TRUE);
  env = g_environ_setenv(env, "HYATT_LANDMARKS_DIR", HY_SOURCE_DIR "/data/landmarks", TRUE);
  if (!g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
                    &r.err, &wait_status, &error))
    g_error("cannot run %s: %s", bin, error->message);
  g_strfreev(env);
  g_ptr_array_free(argv, TRUE);
  r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  return r;
}

static void assert_status(const run_result *r, int status) {
  if (r->status != status)
    g_error("exit status %d, expected %d; stdout: '%s'; stderr: '%s'", r->status, status,
            r->out, r->err);
}

/* stderr is exactly one line that starts with prefix and contains words. */
static void assert_one_line_error(const run_result *r, const char *prefix, const char *words) {
  const char *nl = strchr(r->err, '\n');
  if (!g_str_has_prefix(r->err, prefix) || !strstr(r->err, words) || !nl || nl[1])
    g_error("stderr '%s' is not one line starting '%s' with '%s'", r->err, prefix, words);
}

/* A tiny random model with landmarks "first", "second point" (made once). */
static const char *tiny_model(void) {
  static char *path;
  if (path) return path;
  path = g_build_filename(tu_tmpdir(), "tiny.hyatt", NULL);
  run_result r = run("model-init", "--config", "tiny", "--landmarks", "test-set", "--names",
                     "first, second point", "--seed", "7", "--spacing", "0.125", "--out", path,
                     NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "config tiny, 2 landmarks (test-set)"));
  run_result_clear(&r);
  return path;
}

static void test_help(void) {
  run_result r = run("--help", NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "  info "));
  g_assert_nonnull(strstr(r.out, "  model-init "));
  run_result_clear(&r);
  r = run("info", "--help", NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "--json"));
  run_result_clear(&r);
  r = run("model-init", "--help", NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "--landmarks"));
  g_assert_nonnull(strstr(r.out, "--seed"));
  run_result_clear(&r);
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
  run_result r = run("model-init", "--config", "tiny", "--out", isbi, NULL);
  assert_status(&r, 0);
  g_assert_nonnull(strstr(r.out, "19 landmarks (isbi2015)"));
  run_result_clear(&r);
  hy_net_config cfg;
  g_assert_cmpint(hy_model_inspect(&cfg, &info, isbi, &err), ==, HY_OK);
  g_assert_cmpint(cfg.landmarks, ==, 19);
  g_assert_cmpstr(info.landmark_names[0], ==, "Sella");
  g_assert_true(info.spacing_mm == 0.1);
  /* a definition file; commas in names become semicolons */
  g_autofree char *hand = g_build_filename(tu_tmpdir(), "hand.hyatt", NULL);
  r = run("model-init", "--config", "tiny", "--landmarks", HY_SOURCE_DIR "/data/landmarks/hand.json",
          "--out", hand, NULL);
  assert_status(&r, 0);
  run_result_clear(&r);
  g_assert_cmpint(hy_model_inspect(&cfg, &info, hand, &err), ==, HY_OK);
  g_assert_cmpint(info.landmark_count, ==, 37);
  g_assert_cmpstr(info.landmark_set, ==, "hand");
  g_assert_cmpstr(info.landmark_names[0], ==, "Ulna; ulnar border of the distal end");
  r = run("model-init", "--config", "tiny", "--out", isbi, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt model-init: ", "--force");
  run_result_clear(&r);
  r = run("model-init", "--config", "tiny", "--force", "--out", isbi, NULL);
  assert_status(&r, 0);
  run_result_clear(&r);
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
    run_result r = run("model-init", "--config", "tiny", "--out", out, a[0], a[1], a[2], a[3], NULL);
    assert_status(&r, cases[i].status);
    assert_one_line_error(&r, "hyatt model-init: ", cases[i].words);
    run_result_clear(&r);
  }
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  run_result r = run("model-init", "--config", "tiny", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt model-init: ", "--out FILE is required");
  run_result_clear(&r);
}

static void test_info_text(void) {
  const char *path = tiny_model();
  char id[HY_MODEL_ID_SIZE];
  hy_error err = {0};
  g_assert_cmpint(hy_model_id(id, path, &err), ==, HY_OK);
  run_result r = run("info", path, NULL);
  assert_status(&r, 0);
  g_assert_cmpstr(r.err, ==, "");
  const char *want[] = {"tiny", id, "96 × 64 px", "4, 8, 8, 16, 16", "41,316",
                        "2 (test-set)", "  1  first\n", "  2  second point\n", "0.125 mm",
                        "seed 7", "untrained", "Hyatt Studio 0.1.0"};
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    if (!strstr(r.out, want[i])) g_error("'hyatt info' does not say '%s':\n%s", want[i], r.out);
  run_result_clear(&r);
}

static void test_info_json(void) {
  const char *path = tiny_model();
  run_result r = run("info", "--json", path, NULL);
  assert_status(&r, 0);
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
  run_result_clear(&r);
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
  run_result r = run("info", "model.hyatt", NULL);
  g_assert_cmpint(g_chdir(cwd), ==, 0);
  assert_status(&r, 1);
  g_assert_cmpstr(r.err, ==,
                  "hyatt info: model.hyatt: checksum mismatch in tensor stages.0.embed.weight "
                  "(damaged file)\n");
  g_assert_cmpstr(r.out, ==, "");
  run_result_clear(&r);

  g_assert_true(g_file_set_contents(bad, bytes, 100, NULL));
  r = run("info", "--json", bad, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt info: ", "truncated");
  g_assert_cmpstr(r.out, ==, "");
  run_result_clear(&r);

  g_autofree char *missing = g_build_filename(dir, "missing.hyatt", NULL);
  r = run("info", missing, NULL);
  assert_status(&r, 1);
  assert_one_line_error(&r, "hyatt info: ", "missing.hyatt");
  run_result_clear(&r);

  r = run("info", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt info: ", "no MODEL given");
  run_result_clear(&r);
  r = run("info", "a.hyatt", "b.hyatt", NULL);
  assert_status(&r, 2);
  run_result_clear(&r);
  r = run("info", "--bogus", "a.hyatt", NULL);
  assert_status(&r, 2);
  assert_one_line_error(&r, "hyatt info: ", "--bogus");
  run_result_clear(&r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/info/help", test_help);
  g_test_add_func("/info/model-init", test_model_init);
  g_test_add_func("/info/model-init-errors", test_model_init_errors);
  g_test_add_func("/info/text", test_info_text);
  g_test_add_func("/info/json", test_info_json);
  g_test_add_func("/info/errors", test_info_errors);
  return g_test_run();
}
