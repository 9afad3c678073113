/* The atomic writers under SIGKILL, a full file system and a read-only one.
 * A child saves, over and over, a plain file (hy_write_file_atomic), a
 * model (hy_model_save) and a checkpoint (hy_model_save_ex with training
 * state), each alternating between two known versions; the parent kills it
 * at random moments and checks that every target is byte for byte one of
 * its two versions (models also load) and that at most the one reusable
 * temp per target is left. Mounting a tmpfs needs root: without it those
 * tests skip. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "hyatt.h"
#include "testutil.h"

#define KILLS 500           /* per run of the kill test */
#define KILL_SECONDS 25.0   /* stop earlier on a slow disk or under sanitizers */
#define PLAIN_BYTES (512 * 1024)

typedef struct version {
  char *data;
  size_t len;
} version;

typedef struct target {
  const char *what;
  char *path;
  version v[2];
  int model; /* must also load */
} target;

static hy_net *tiny_net(uint64_t seed) {
  hy_net_config cfg;
  hy_net *net = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "tiny", &err), ==, HY_OK);
  /* one thread: the child of fork() has only the thread that forked */
  if (hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_init_seeded(net, seed);
  return net;
}

static void tiny_info(hy_model_info *info) {
  memset(info, 0, sizeof *info);
  strcpy(info->landmark_set, "test2");
  info->landmark_count = 2;
  strcpy(info->landmark_names[0], "sella");
  strcpy(info->landmark_names[1], "nasion");
  info->spacing_mm = 0.1;
  /* fixed, so that each version's bytes are known */
  strcpy(info->created, "2025-01-02T03:04:05Z");
  strcpy(info->hyatt_version, "0.1.0");
}

static hy_net *nets[2];
static float *optim_m[2];

static hy_status save_version(const target *t, int k, hy_error *err) {
  hy_model_info info;
  tiny_info(&info);
  if (!t->model) return hy_write_file_atomic(t->path, t->v[k].data, t->v[k].len, err);
  if (strcmp(t->what, "checkpoint") != 0) return hy_model_save(nets[k], &info, t->path, err);
  hy_model_extra_tensor m = {"optim/m", HY_F32, optim_m[k], 1,
                             {(int64_t)nets[k]->plan.n_params}};
  hy_model_extra_meta lr = {"optim.lr", k ? "0.002" : "0.001"};
  hy_model_extra extra = {&m, 1, &lr, 1};
  return hy_model_save_ex(nets[k], &info, &extra, t->path, err);
}

static void read_version(target *t, int k) {
  hy_error err = {0};
  void *data;
  if (hy_read_file(t->path, (size_t)1 << 30, &data, &t->v[k].len, &err) != HY_OK)
    g_error("%s", err.msg);
  t->v[k].data = data;
}

static target targets[3];

/* Both versions of each target, saved once in process; leaves version 0 in
 * place. */
static void make_targets(const char *dir) {
  tu_rng r = tu_rng_new(11);
  for (int k = 0; k < 2; k++) {
    nets[k] = tiny_net(100 + (uint64_t)k);
    optim_m[k] = tu_random(&r, (size_t)nets[k]->plan.n_params, -1, 1);
  }
  targets[0] = (target){"file", g_build_filename(dir, "plain.bin", NULL), {{0}}, 0};
  targets[1] = (target){"model", g_build_filename(dir, "model.hyatt", NULL), {{0}}, 1};
  targets[2] = (target){"checkpoint", g_build_filename(dir, "last.hyatt", NULL), {{0}}, 1};
  for (int k = 0; k < 2; k++) {
    targets[0].v[k].len = PLAIN_BYTES;
    targets[0].v[k].data = g_malloc(PLAIN_BYTES);
    for (size_t i = 0; i < PLAIN_BYTES; i++) targets[0].v[k].data[i] = (char)('a' + k + i % 7);
  }
  for (int k = 1; k >= 0; k--)
    for (int i = 0; i < 3; i++) {
      hy_error err = {0};
      if (save_version(&targets[i], k, &err) != HY_OK) g_error("%s", err.msg);
      if (targets[i].model) read_version(&targets[i], k);
    }
  g_assert_cmpint(memcmp(targets[1].v[0].data, targets[1].v[1].data, targets[1].v[0].len), !=, 0);
}

/* 0 or 1: which version the target holds; fails the test on anything else. */
static int check_target(const target *t, int load) {
  void *data;
  size_t len;
  hy_error err = {0};
  if (hy_read_file(t->path, (size_t)1 << 30, &data, &len, &err) != HY_OK)
    g_error("after a kill: %s", err.msg);
  int which = -1;
  for (int k = 0; k < 2; k++)
    if (len == t->v[k].len && memcmp(data, t->v[k].data, len) == 0) which = k;
  free(data);
  if (which < 0) g_error("after a kill, %s %s (%zu bytes) is neither version", t->what, t->path, len);
  if (t->model && load) {
    hy_net *net = NULL;
    if (hy_model_load(&net, NULL, t->path, HY_INFER, 1, &err) != HY_OK)
      g_error("after a kill: %s", err.msg);
    hy_net_free(net);
  }
  return which;
}

/* Entries of dir besides the targets; fails the test on any but their temps. */
static int strays(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  int n = 0;
  for (const char *name; (name = g_dir_read_name(d));) {
    int known = 0;
    for (int i = 0; i < 3; i++) {
      g_autofree char *base = g_path_get_basename(targets[i].path);
      g_autofree char *temp = g_strconcat(base, HY_TEMP_SUFFIX, NULL);
      if (strcmp(name, base) == 0) known = 1;
      if (strcmp(name, temp) == 0) known = 2;
    }
    if (!known) g_error("a kill left %s in %s", name, dir);
    n += known == 2;
  }
  return n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_kill(void) {
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "kill", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  make_targets(dir);
  /* how long one round of the three saves takes here: the kills land
   * anywhere in the first five rounds of each child */
  double t0 = now();
  for (int i = 0; i < 3; i++) {
    hy_error err = {0};
    if (save_version(&targets[i], 0, &err) != HY_OK) g_error("%s", err.msg);
  }
  double round = now() - t0;
  tu_rng r = tu_rng_new(g_test_rand_int());
  int kills = 0, with_temp = 0, changed = 0;
  int held[3] = {0, 0, 0};
  int wanted = tu_kills(KILLS);
  double start = now(), limit = KILL_SECONDS * wanted / KILLS;
  while (kills < wanted && now() - start < limit) {
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
      for (int k = 1;; k ^= 1)
        for (int i = 0; i < 3; i++) {
          hy_error err = {0};
          if (save_version(&targets[i], k, &err) != HY_OK) _exit(2);
        }
    }
    double d = tu_uniform(&r) * 5 * round;
    struct timespec delay = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (!WIFSIGNALED(status)) g_error("the saving child exited with status %d", status);
    kills++;
    with_temp += strays(dir) > 0;
    for (int i = 0; i < 3; i++) {
      /* loading every time would double the test's time for little */
      int which = check_target(&targets[i], kills % 10 == 0);
      changed += which != held[i];
      held[i] = which;
    }
  }
  /* the next save of each cleans up after the last kill */
  for (int i = 0; i < 3; i++) {
    hy_error err = {0};
    g_assert_cmpint(save_version(&targets[i], 1, &err), ==, HY_OK);
    g_assert_cmpint(check_target(&targets[i], 1), ==, 1);
  }
  g_assert_cmpint(strays(dir), ==, 0);
  g_test_message("saving a file, a model and a checkpoint: %d kills in %.1f s (one round of saves %.1f ms): %d left a temp file, "
                 "%d target changes seen, every target intact",
                 kills, now() - start, round * 1e3, with_temp, changed);
  /* under the sanitizers a round takes ~25 times longer: tens of kills */
  g_assert_cmpint(kills, >=, 20);
  g_assert_cmpint(changed, >, 0);
}

/* A small tmpfs at <tmpdir>/name, or NULL after g_test_skip. */
static char *small_tmpfs(const char *name, const char *options) {
  char *dir = g_build_filename(tu_tmpdir(), name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  if (mount("tmpfs", dir, "tmpfs", 0, options) != 0) {
    g_autofree char *why = g_strdup_printf("cannot mount a tmpfs (needs root): %s", strerror(errno));
    g_test_skip(why);
    g_free(dir);
    return NULL;
  }
  return dir;
}

static void assert_refused(hy_status st, const hy_error *err, const char *path, const char *reason) {
  g_assert_cmpint(st, ==, HY_E_IO);
  g_assert_null(strchr(err->msg, '\n'));
  g_assert_nonnull(strstr(err->msg, path));
  g_assert_nonnull(strstr(err->msg, reason));
}

static void assert_old_intact(const char *path, const char *old) {
  void *data;
  size_t len;
  hy_error err = {0};
  g_assert_cmpint(hy_read_file(path, 1 << 20, &data, &len, &err), ==, HY_OK);
  g_assert_cmpmem(data, len, old, strlen(old));
  free(data);
  g_autofree char *temp = g_strconcat(path, HY_TEMP_SUFFIX, NULL);
  g_assert_false(g_file_test(temp, G_FILE_TEST_EXISTS));
}

static void test_full_disk(void) {
  g_autofree char *dir = small_tmpfs("full", "size=64k");
  if (!dir) return;
  g_autofree char *path = g_build_filename(dir, "annotation.json", NULL);
  g_autofree char *model = g_build_filename(dir, "model.hyatt", NULL);
  const char *old = "{\"old\": true}\n";
  hy_error err = {0};
  g_assert_cmpint(hy_write_file_atomic(path, old, strlen(old), &err), ==, HY_OK);
  g_assert_cmpint(hy_write_file_atomic(model, old, strlen(old), &err), ==, HY_OK);

  size_t big = 256 * 1024;
  char *data = g_malloc0(big);
  hy_status st = hy_write_file_atomic(path, data, big, &err);
  g_free(data);
  g_test_message("full disk, file: %s", err.msg);
  assert_refused(st, &err, path, "No space left");
  assert_old_intact(path, old);

  /* the tiny model is larger than the whole file system */
  hy_net *net = tiny_net(1);
  hy_model_info info;
  tiny_info(&info);
  st = hy_model_save(net, &info, model, &err);
  hy_net_free(net);
  g_test_message("full disk, model: %s", err.msg);
  assert_refused(st, &err, model, "No space left");
  assert_old_intact(model, old);
  g_assert_cmpint(umount2(dir, MNT_DETACH), ==, 0);
}

static void test_read_only(void) {
  g_autofree char *dir = small_tmpfs("ro", "size=64k");
  if (!dir) return;
  g_autofree char *path = g_build_filename(dir, "annotation.json", NULL);
  const char *old = "{\"old\": true}\n";
  hy_error err = {0};
  g_assert_cmpint(hy_write_file_atomic(path, old, strlen(old), &err), ==, HY_OK);
  g_assert_cmpint(mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=64k"), ==, 0);
  hy_status st = hy_write_file_atomic(path, "new", 3, &err);
  g_test_message("read-only: %s", err.msg);
  assert_refused(st, &err, path, "Read-only file system");
  assert_old_intact(path, old);
  g_assert_cmpint(umount2(dir, MNT_DETACH), ==, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/crash/kill", test_kill);
  g_test_add_func("/crash/full-disk", test_full_disk);
  g_test_add_func("/crash/read-only", test_read_only);
  return g_test_run();
}
