/* Model files (core/model.h): a tiny network saved and loaded bit for bit
 * with the same forward output; checkpoints with their extras; and every
 * kind of damaged or hostile file refused with a message that names what
 * is wrong, before the network is allocated. */
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"
#include "hyatt.h"
#include "testutil.h"

#define SEED 1234

static hy_net *tiny_net(hy_mode mode) {
  hy_net_config cfg;
  hy_net *net = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "tiny", &err), ==, HY_OK);
  if (hy_net_create(&net, &cfg, 1, mode, 2, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_init_seeded(net, SEED);
  /* running statistics away from their defaults, so the round trip shows */
  tu_rng rng = tu_rng_new(7);
  for (int i = 0; i < net->plan.n_params; i++) {
    hy_param *t = &net->plan.table[i];
    if (g_str_has_suffix(t->name, ".running_mean")) tu_fill(&rng, t->w, t->n, -0.5f, 0.5f);
    if (g_str_has_suffix(t->name, ".running_var")) tu_fill(&rng, t->w, t->n, 0.5f, 1.5f);
  }
  hy_net_fold_bn(net);
  return net;
}

static void tiny_info(hy_model_info *info) {
  memset(info, 0, sizeof *info);
  strcpy(info->landmark_set, "test2");
  info->landmark_count = 2;
  strcpy(info->landmark_names[0], "sella");
  strcpy(info->landmark_names[1], "A point (subspinale)");
  info->spacing_mm = 0.1;
  strcpy(info->dataset, "isbi2015 train 001-150");
  info->steps = 12345;
  strcpy(info->parent, "0badc0de");
  strcpy(info->created, "2025-01-02T03:04:05Z");
  strcpy(info->metrics, "test1 MRE 1.63 mm, SDR 2 mm 86.1 %");
  strcpy(info->hyatt_version, "0.1.0");
}

static char *tmp_path(const char *name) { return g_build_filename(tu_tmpdir(), name, NULL); }

/* A saved tiny model (created once per test program). */
static const char *good_model(void) {
  static char *path;
  if (path) return path;
  path = tmp_path("good.hyatt");
  hy_net *net = tiny_net(HY_INFER);
  hy_model_info info;
  tiny_info(&info);
  hy_error err = {0};
  if (hy_model_save(net, &info, path, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_free(net);
  return path;
}

static void assert_info_equal(const hy_model_info *a, const hy_model_info *b) {
  g_assert_cmpstr(a->landmark_set, ==, b->landmark_set);
  g_assert_cmpint(a->landmark_count, ==, b->landmark_count);
  for (int i = 0; i < a->landmark_count; i++)
    g_assert_cmpstr(a->landmark_names[i], ==, b->landmark_names[i]);
  g_assert_true(a->spacing_mm == b->spacing_mm);
  g_assert_cmpstr(a->dataset, ==, b->dataset);
  g_assert_cmpint(a->steps, ==, b->steps);
  g_assert_cmpstr(a->parent, ==, b->parent);
  g_assert_cmpstr(a->created, ==, b->created);
  g_assert_cmpstr(a->metrics, ==, b->metrics);
  g_assert_cmpstr(a->hyatt_version, ==, b->hyatt_version);
}

static void forward(hy_net *net, const float *input, hy_pool *pool) {
  memcpy(net->input, input, sizeof(float) * net->cfg.in_h * net->cfg.in_w);
  hy_run run = {pool, net->plan.scratch, HY_BN_RUNNING};
  hy_net_forward(net, &run);
}

static void test_round_trip(void) {
  hy_net *net = tiny_net(HY_INFER);
  hy_model_info info, back;
  tiny_info(&info);
  g_autofree char *path = tmp_path("round-trip.hyatt");
  hy_error err = {0};
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_OK);

  hy_net *loaded = NULL;
  if (hy_model_load(&loaded, &back, path, HY_INFER, 2, &err) != HY_OK) g_error("%s", err.msg);
  g_assert_cmpmem(&loaded->cfg, sizeof loaded->cfg, &net->cfg, sizeof net->cfg);
  assert_info_equal(&back, &info);
  g_assert_false(back.checkpoint);
  g_assert_cmpuint(back.param_count, ==, hy_net_param_count(net));
  g_assert_cmpuint(back.buffer_count, >, 0);
  char id[HY_MODEL_ID_SIZE];
  g_assert_cmpint(hy_model_id(id, path, &err), ==, HY_OK);
  g_assert_cmpstr(back.id, ==, id);
  g_assert_cmpuint(strlen(id), ==, 8);
  g_assert_cmpuint(strspn(id, "0123456789abcdef"), ==, 8);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
  g_assert_cmpuint(back.file_bytes, ==, len);

  g_assert_cmpint(loaded->plan.n_params, ==, net->plan.n_params);
  for (int i = 0; i < net->plan.n_params; i++) {
    const hy_param *a = &net->plan.table[i], *b = &loaded->plan.table[i];
    g_assert_cmpstr(a->name, ==, b->name);
    g_assert_cmpmem(a->w, a->n * sizeof(float), b->w, b->n * sizeof(float));
  }

  hy_pool *pool = NULL;
  g_assert_cmpint(hy_pool_create(&pool, 2, &err), ==, HY_OK);
  size_t in = (size_t)net->cfg.in_h * net->cfg.in_w;
  float *input = g_new(float, in);
  tu_rng rng = tu_rng_new(99);
  tu_fill(&rng, input, in, -1, 1);
  forward(net, input, pool);
  forward(loaded, input, pool);
  for (int h = 0; h < 3; h++) {
    size_t n = (size_t)net->cfg.landmarks * net->out_h[h] * net->out_w[h];
    g_assert_cmpmem(net->out[h], n * sizeof(float), loaded->out[h], n * sizeof(float));
  }
  g_free(input);
  hy_pool_destroy(pool);

  /* a different save is a different id; created is filled in when empty */
  info.created[0] = 0;
  strcpy(info.metrics, "other");
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_OK);
  char id2[HY_MODEL_ID_SIZE];
  g_assert_cmpint(hy_model_id(id2, path, &err), ==, HY_OK);
  g_assert_cmpstr(id2, !=, id);
  hy_net_config cfg;
  g_assert_cmpint(hy_model_inspect(&cfg, &back, path, &err), ==, HY_OK);
  g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", back.created, 0, 0));
  g_assert_cmpstr(back.id, ==, id2);

  hy_net_free(loaded);
  hy_net_free(net);
}

static void test_train_mode_and_batch(void) {
  hy_net *net = NULL;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_load_ex(&net, &info, NULL, good_model(), 3, HY_TRAIN, 2, &err) != HY_OK)
    g_error("%s", err.msg);
  g_assert_cmpint(net->N, ==, 3);
  g_assert_cmpint(net->plan.mode, ==, HY_TRAIN);
  g_assert_nonnull(net->plan.table[0].g);
  hy_net_free(net);
}

static void test_checkpoint(void) {
  hy_net *net = tiny_net(HY_TRAIN);
  hy_model_info info;
  tiny_info(&info);
  size_t n = net->plan.params.used / sizeof(float);
  float *m = g_new(float, n);
  tu_rng rng = tu_rng_new(3);
  tu_fill(&rng, m, n, -1, 1);
  int32_t step[1] = {42}, state[2] = {-7, 123456789};
  hy_model_extra_tensor tensors[] = {
      {"optim/m", HY_F32, m, 1, {(int64_t)n}},
      {"optim/step", HY_I32, step, 1, {1}},
      {"rng/state", HY_I32, state, 2, {1, 2}},
  };
  hy_model_extra_meta meta[] = {{"optim.lr", "0.001"}, {"train.data", "isbi2015 train"}};
  hy_model_extra extra = {tensors, 3, meta, 2};
  g_autofree char *path = tmp_path("checkpoint.hyatt");
  hy_error err = {0};
  if (hy_model_save_ex(net, &info, &extra, path, &err) != HY_OK) g_error("%s", err.msg);

  hy_net *loaded = NULL;
  hy_tensorfile *tf = NULL;
  hy_model_info back;
  if (hy_model_load_ex(&loaded, &back, &tf, path, 1, HY_TRAIN, 1, &err) != HY_OK)
    g_error("%s", err.msg);
  g_assert_true(back.checkpoint);
  assert_info_equal(&back, &info);
  g_assert_cmpmem(hy_tensorfile_f32(tf, "optim/m", n, &err), n * sizeof(float), m, n * sizeof(float));
  const hy_tensor_entry *e = hy_tensorfile_find(tf, "rng/state");
  g_assert_nonnull(e);
  g_assert_cmpint(e->dtype, ==, HY_I32);
  g_assert_cmpint(e->ndim, ==, 2);
  g_assert_cmpint(e->dims[1], ==, 2);
  g_assert_cmpmem(e->data, sizeof state, state, sizeof state);
  g_assert_cmpint(*(const int32_t *)hy_tensorfile_find(tf, "optim/step")->data, ==, 42);
  g_assert_cmpstr(hy_tensorfile_meta(tf, "optim.lr"), ==, "0.001");
  g_assert_cmpstr(hy_tensorfile_meta(tf, "train.data"), ==, "isbi2015 train");
  hy_tensorfile_free(tf);
  hy_net_free(loaded);

  /* a model loader takes a checkpoint and ignores its extras */
  g_assert_cmpint(hy_model_load(&loaded, NULL, path, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_free(loaded);

  /* extras that could be mistaken for the model's own are refused */
  g_autofree char *bad = tmp_path("bad-checkpoint.hyatt");
  hy_model_extra_tensor plain = {"optim_m", HY_F32, m, 1, {(int64_t)n}};
  extra = (hy_model_extra){&plain, 1, NULL, 0};
  g_assert_cmpint(hy_model_save_ex(net, &info, &extra, bad, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "optim_m"));
  hy_model_extra_meta key = {"lr", "0.1"};
  extra = (hy_model_extra){NULL, 0, &key, 1};
  g_assert_cmpint(hy_model_save_ex(net, &info, &extra, bad, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "'lr'"));
  m[5] = INFINITY;
  extra = (hy_model_extra){tensors, 1, NULL, 0};
  g_assert_cmpint(hy_model_save_ex(net, &info, &extra, bad, &err), ==, HY_E_NUMERIC);
  g_assert_nonnull(strstr(err.msg, "+Inf in optim/m[5]"));
  g_assert_false(g_file_test(bad, G_FILE_TEST_EXISTS));
  g_free(m);
  hy_net_free(net);
}

static void test_save_refuses(void) {
  hy_net *net = tiny_net(HY_INFER);
  hy_model_info info;
  g_autofree char *path = tmp_path("refused.hyatt");
  hy_error err = {0};
  tiny_info(&info);
  info.landmark_count = 3;
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "names 3 landmarks, the network has 2"));
  tiny_info(&info);
  strcpy(info.landmark_names[1], "B,C");
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "landmark 2's name"));
  tiny_info(&info);
  strcpy(info.landmark_names[0], " sella");
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  tiny_info(&info);
  info.landmark_names[0][0] = 0;
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  tiny_info(&info);
  strcpy(info.landmark_names[0], "bad\xff");
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  tiny_info(&info);
  strcpy(info.metrics, "two\nlines");
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "'metrics'"));
  tiny_info(&info);
  info.spacing_mm = 0;
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "spacing"));
  tiny_info(&info);
  strcpy(info.landmark_set, "isbi 2015");
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "landmark set"));

  /* never a poisoned model */
  tiny_info(&info);
  hy_param *t = &net->plan.table[3];
  t->w[t->n - 1] = NAN;
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_E_NUMERIC);
  g_autofree char *want = g_strdup_printf("NaN in %s[%zu]", t->name, t->n - 1);
  g_assert_nonnull(strstr(err.msg, want));
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  hy_net_free(net);
}

/* ---- damaged files ---- */

/* The message of loading path, which must fail with status st; every
 * message names the file. */
static char *refused(const char *path, hy_status st) {
  hy_net *net = NULL;
  hy_model_info info;
  hy_error err = {0};
  hy_status got = hy_model_load(&net, &info, path, HY_INFER, 1, &err);
  if (got != st) g_error("loading %s: status %d, expected %d (%s)", path, got, st, err.msg);
  g_assert_null(net);
  g_assert_nonnull(strstr(err.msg, path));
  g_assert_null(strchr(err.msg, '\n'));
  hy_net_config cfg;
  hy_error err2 = {0};
  g_assert_cmpint(hy_model_inspect(&cfg, &info, path, &err2), ==, st);
  g_assert_cmpstr(err2.msg, ==, err.msg);
  g_test_message("%s", err.msg);
  return g_strdup(err.msg);
}

static void assert_refused(const char *path, hy_status st, const char *words) {
  g_autofree char *msg = refused(path, st);
  if (!strstr(msg, words)) g_error("message '%s' does not say '%s'", msg, words);
}

static void test_truncated(void) {
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(good_model(), &bytes, &len, NULL));
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, good_model(), 0, &err), ==, HY_OK);
  size_t header_end = 16 + (bytes[12] | (size_t)(unsigned char)bytes[13] << 8);
  size_t first_data = tf->tensors[0].offset;
  size_t cuts[] = {16, 20, header_end / 2, header_end + 2, (header_end + first_data) / 2,
                   first_data + 8, len / 2, len - 1};
  g_autofree char *path = tmp_path("truncated.hyatt");
  for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++) {
    tu_write_file(path, bytes, (gssize)cuts[i]);
    assert_refused(path, HY_E_FORMAT, "truncated");
  }
  tu_write_file(path, bytes, 0);
  assert_refused(path, HY_E_FORMAT, "HYATTNET");
  hy_tensorfile_free(tf);
}

static void test_damaged_bytes(void) {
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(good_model(), &bytes, &len, NULL));
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, good_model(), 0, &err), ==, HY_OK);
  const hy_tensor_entry *e = hy_tensorfile_find(tf, "stages.0.embed.weight");
  g_assert_nonnull(e);
  g_autofree char *path = tmp_path("damaged.hyatt");

  bytes[e->offset + 5] ^= 0x10;
  tu_write_file(path, bytes, (gssize)len);
  assert_refused(path, HY_E_FORMAT, "checksum mismatch in tensor stages.0.embed.weight");
  bytes[e->offset + 5] ^= 0x10;

  bytes[30] ^= 0x01; /* in the header text */
  tu_write_file(path, bytes, (gssize)len);
  assert_refused(path, HY_E_FORMAT, "header checksum mismatch");
  bytes[30] ^= 0x01;

  bytes[8] = 2;
  tu_write_file(path, bytes, (gssize)len);
  assert_refused(path, HY_E_FORMAT, "format version 2");
  bytes[8] = 1;

  bytes[7] = 'X';
  tu_write_file(path, bytes, (gssize)len);
  assert_refused(path, HY_E_FORMAT, "no HYATTNET magic");
  bytes[7] = 'T';

  tu_write_file(path, bytes, (gssize)len);
  hy_net *net = NULL;
  g_assert_cmpint(hy_model_load(&net, NULL, path, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_free(net);
  hy_tensorfile_free(tf);
}

/* Rewrites the good model with the tensor file writer: header key `key` set
 * to `value` (NULL: removed), tensor `drop` left out, tensor `add` added,
 * value `v` put at [index] of tensor `poison`. */
typedef struct spoil {
  const char *key, *value;
  const char *drop, *add, *poison;
  size_t index;
  float v;
} spoil;

static char *spoiled(const char *name, const spoil *s) {
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, good_model(), 0, &err), ==, HY_OK);
  hy_tensorfile_writer *w = hy_tensorfile_writer_new();
  gboolean seen = FALSE;
  for (int i = 0; i < tf->n_meta; i++) {
    const char *v = tf->values[i];
    if (s->key && strcmp(tf->keys[i], s->key) == 0) {
      seen = TRUE;
      v = s->value;
    }
    if (v) hy_tensorfile_writer_meta(w, tf->keys[i], "%s", v);
  }
  if (s->key && !seen && s->value) hy_tensorfile_writer_meta(w, s->key, "%s", s->value);
  float *copy = NULL;
  for (int i = 0; i < tf->n_tensors; i++) {
    const hy_tensor_entry *e = &tf->tensors[i];
    if (s->drop && strcmp(e->name, s->drop) == 0) continue;
    const void *data = e->data;
    if (s->poison && strcmp(e->name, s->poison) == 0) {
      copy = g_memdup2(e->data, e->nbytes);
      copy[s->index] = s->v;
      data = copy;
    }
    hy_tensorfile_writer_add(w, e->name, e->dtype, data, e->ndim, e->dims);
  }
  static const float three[3] = {1, 2, 3};
  int64_t dims[1] = {3};
  if (s->add) hy_tensorfile_writer_add(w, s->add, HY_F32, three, 1, dims);
  char *path = tmp_path(name);
  if (hy_tensorfile_writer_save(w, path, &err) != HY_OK) g_error("%s", err.msg);
  hy_tensorfile_writer_free(w);
  g_free(copy);
  hy_tensorfile_free(tf);
  return path;
}

static void check_spoiled(const spoil *s, hy_status st, const char *words) {
  g_autofree char *path = spoiled("spoiled.hyatt", s);
  assert_refused(path, st, words);
}

static void test_wrong_contents(void) {
  /* widths of another configuration with this file's tensors */
  check_spoiled(&(spoil){.key = "widths", .value = "8,8,8,16,16"}, HY_E_FORMAT,
                "tensor stages.0.embed.weight has shape [4,1,4,4] but the 'tiny' configuration "
                "needs [8,1,4,4]");
  check_spoiled(&(spoil){.key = "input_h", .value = "100"}, HY_E_FORMAT, "multiples of 32");
  check_spoiled(&(spoil){.key = "neck", .value = NULL}, HY_E_FORMAT, "'neck'");
  check_spoiled(&(spoil){.drop = "stages.1.arm.bn1.running_var"}, HY_E_FORMAT,
                "model is missing tensor stages.1.arm.bn1.running_var");
  check_spoiled(&(spoil){.add = "stages.0.extra.weight"}, HY_E_FORMAT,
                "unexpected tensor stages.0.extra.weight");
  /* optimiser state only in a checkpoint */
  check_spoiled(&(spoil){.add = "optim/m"}, HY_E_FORMAT, "unexpected tensor optim/m");
  check_spoiled(&(spoil){.key = "format", .value = "hyatt-checkpoint", .add = "stray"},
                HY_E_FORMAT, "unexpected tensor stray");
  check_spoiled(&(spoil){.poison = "stages.0.embed.weight", .index = 17, .v = NAN}, HY_E_NUMERIC,
                "NaN in stages.0.embed.weight[17]");
  check_spoiled(&(spoil){.poison = "up_bn.running_var", .index = 0, .v = -INFINITY},
                HY_E_NUMERIC, "-Inf in up_bn.running_var[0]");
  check_spoiled(&(spoil){.key = "landmark_count", .value = "3"}, HY_E_FORMAT,
                "the header says 3 landmarks but the network has 2");
  check_spoiled(&(spoil){.key = "landmark_names", .value = "sella"}, HY_E_FORMAT,
                "'landmark_names' has 1 names, 'landmark_count' says 2");
  check_spoiled(&(spoil){.key = "landmark_names", .value = "a,b,c"}, HY_E_FORMAT,
                "more than the 2 names");
  check_spoiled(&(spoil){.key = "landmark_names", .value = "a, b"}, HY_E_FORMAT,
                "landmark 2's name ' b'");
  check_spoiled(&(spoil){.key = "spacing_mm", .value = "0,1"}, HY_E_FORMAT, "'spacing_mm'");
  check_spoiled(&(spoil){.key = "steps", .value = "-3"}, HY_E_FORMAT, "'steps'");
  check_spoiled(&(spoil){.key = "format", .value = "hyatt-dataset"}, HY_E_FORMAT,
                "is a 'hyatt-dataset' file, not a model");
  check_spoiled(&(spoil){.key = "format", .value = NULL}, HY_E_FORMAT, "no 'format'");

  /* a checkpoint's optimiser state is fine */
  g_autofree char *path = spoiled("spoiled-ok.hyatt",
                                  &(spoil){.key = "format", .value = "hyatt-checkpoint", .add = "optim/v"});
  hy_net *net = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_model_load(&net, NULL, path, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_free(net);
}

static void test_absurd(void) {
  /* widths 4000 everywhere at 4096×4096 passes the config check but would
   * need ~90 GiB: refused from the configuration alone, at once */
  g_autofree char *path = tmp_path("absurd.hyatt");
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_tensorfile_load(&tf, good_model(), 0, &err), ==, HY_OK);
  hy_tensorfile_writer *w = hy_tensorfile_writer_new();
  for (int i = 0; i < tf->n_meta; i++) {
    const char *k = tf->keys[i], *v = tf->values[i];
    if (strcmp(k, "widths") == 0) v = "4000,4000,4000,4000,4000";
    if (strcmp(k, "input_h") == 0 || strcmp(k, "input_w") == 0) v = "4096";
    hy_tensorfile_writer_meta(w, k, "%s", v);
  }
  g_assert_cmpint(hy_tensorfile_writer_save(w, path, &err), ==, HY_OK);
  hy_tensorfile_writer_free(w);
  hy_tensorfile_free(tf);
  gint64 t0 = g_get_monotonic_time();
  assert_refused(path, HY_E_LIMIT, "GiB of memory");
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 2000000);

  /* a file over the size cap is refused before it is read (sparse file) */
  g_autofree char *big = tmp_path("big.hyatt");
  int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(ftruncate(fd, (off_t)HY_MODEL_FILE_MAX + 1), ==, 0);
  close(fd);
  hy_net *net = NULL;
  g_assert_cmpint(hy_model_load(&net, NULL, big, HY_INFER, 1, &err), ==, HY_E_LIMIT);
  g_assert_null(net);
}

/* ---- the planning walk without memory ---- */

static void check_shape(const char *name, int N, hy_mode mode, int size) {
  hy_net_config cfg;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, name, &err), ==, HY_OK);
  if (size) cfg.in_h = cfg.in_w = size;
  hy_plan shape;
  g_assert_cmpint(hy_net_plan_shape(&shape, &cfg, N, mode, 2, &err), ==, HY_OK);
  hy_net *net = NULL;
  g_assert_cmpint(hy_net_create(&net, &cfg, N, mode, 2, &err), ==, HY_OK);
  g_assert_cmpint(shape.n_params, ==, net->plan.n_params);
  for (int i = 0; i < shape.n_params; i++) {
    const hy_param *a = &shape.table[i], *b = &net->plan.table[i];
    g_assert_cmpstr(a->name, ==, b->name);
    g_assert_cmpint(a->ndim, ==, b->ndim);
    g_assert_cmpmem(a->dims, sizeof a->dims, b->dims, sizeof b->dims);
    g_assert_cmpint(a->is_buffer, ==, b->is_buffer);
    g_assert_null(a->w);
  }
  const hy_plan *p = &net->plan;
  size_t committed = p->params.capacity + p->grads.capacity + p->buffers.capacity +
                     p->acts.capacity + p->dacts.capacity + p->transient.capacity +
                     p->scratch_arena.capacity;
  size_t planned = hy_plan_bytes(&shape);
  g_test_message("%s N=%d %s: %zu bytes planned, %zu committed", name, N,
                 mode == HY_TRAIN ? "train" : "infer", planned, committed);
  g_assert_cmpuint(planned, <=, committed);
  g_assert_cmpuint(committed - planned, <=, 1024);
  g_assert_cmpfloat(hy_net_memory_floor(&cfg, N), <=, (double)planned);
  hy_net_free(net);
  hy_plan_free(&shape);
}

static void test_plan_shape(void) {
  check_shape("tiny", 1, HY_INFER, 0);
  check_shape("tiny", 2, HY_TRAIN, 0);
  check_shape("small", 1, HY_INFER, 128);
  /* the floor is below the plan for the big configuration too */
  hy_net_config cfg;
  hy_error err = {0};
  hy_plan shape;
  hy_net_config_named(&cfg, "paper", &err);
  g_assert_cmpint(hy_net_plan_shape(&shape, &cfg, 1, HY_INFER, 2, &err), ==, HY_OK);
  g_assert_cmpfloat(hy_net_memory_floor(&cfg, 1), <=, (double)hy_plan_bytes(&shape));
  hy_plan_free(&shape);
}

static void test_locale(void) {
  const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
  const char *found = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(names) && !found; i++)
    if (setlocale(LC_NUMERIC, names[i])) found = names[i];
  if (!found) {
    g_test_skip("no locale with a decimal comma installed");
    return;
  }
  hy_net *net = tiny_net(HY_INFER), *loaded = NULL;
  hy_model_info info, back;
  tiny_info(&info);
  info.spacing_mm = 0.125;
  g_autofree char *path = tmp_path("locale.hyatt");
  hy_error err = {0};
  g_assert_cmpint(hy_model_save(net, &info, path, &err), ==, HY_OK);
  g_assert_cmpint(hy_model_load(&loaded, &back, path, HY_INFER, 1, &err), ==, HY_OK);
  setlocale(LC_NUMERIC, "C");
  g_assert_true(back.spacing_mm == 0.125);
  hy_tensorfile *tf = NULL;
  g_assert_cmpint(hy_tensorfile_load(&tf, path, 0, &err), ==, HY_OK);
  g_assert_cmpstr(hy_tensorfile_meta(tf, "spacing_mm"), ==, "0.125");
  hy_tensorfile_free(tf);
  hy_net_free(loaded);
  hy_net_free(net);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model/round-trip", test_round_trip);
  g_test_add_func("/model/train-mode-and-batch", test_train_mode_and_batch);
  g_test_add_func("/model/checkpoint", test_checkpoint);
  g_test_add_func("/model/save-refuses", test_save_refuses);
  g_test_add_func("/model/truncated", test_truncated);
  g_test_add_func("/model/damaged-bytes", test_damaged_bytes);
  g_test_add_func("/model/wrong-contents", test_wrong_contents);
  g_test_add_func("/model/absurd-config", test_absurd);
  g_test_add_func("/model/plan-shape", test_plan_shape);
  g_test_add_func("/model/locale", test_locale);
  return g_test_run();
}
