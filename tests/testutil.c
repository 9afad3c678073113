#include "testutil.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

tu_rng tu_rng_new(uint64_t seed) {
  tu_rng r = {seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull};
  if (!r.s) r.s = 1;
  return r;
}

static uint64_t next(tu_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}

double tu_uniform(tu_rng *r) { return (double)(next(r) >> 11) * 0x1.0p-53; }

double tu_normal(tu_rng *r) {
  double u = tu_uniform(r), v = tu_uniform(r);
  return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * G_PI * v);
}

int tu_int(tu_rng *r, int lo, int hi) {
  return lo + (int)(tu_uniform(r) * (hi - lo + 1));
}

void tu_fill(tu_rng *r, float *x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)tu_uniform(r);
}

float *tu_random(tu_rng *r, size_t n, float lo, float hi) {
  float *x = g_new(float, n ? n : 1);
  tu_fill(r, x, n, lo, hi);
  return x;
}

float *tu_copy(const float *x, size_t n) {
  return g_memdup2(x, (n ? n : 1) * sizeof *x);
}

hy_pool *tu_pool_new(int threads) {
  hy_pool *pool = NULL;
  hy_error err = {0};
  g_assert_cmpint(hy_pool_create(&pool, threads, &err), ==, HY_OK);
  return pool;
}

void tu_assert_close(const char *what, const float *got, const float *want,
                     size_t n, double atol, double rtol) {
  size_t bad = 0, first = n, worst = 0;
  double worst_err = -1;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    double lim = atol + rtol * fabs(want[i]);
    if (!(d <= lim)) { /* also catches NaN */
      if (first == n) first = i;
      bad++;
    }
    if (d > worst_err || isnan(d)) {
      worst_err = d;
      worst = i;
    }
  }
  if (bad)
    g_error("%s: %zu of %zu values differ; first at [%zu]: got %.7g want %.7g; "
            "largest |diff| %.3g at [%zu] (atol %.1g, rtol %.1g)",
            what, bad, n, first, got[first], want[first], worst_err, worst,
            atol, rtol);
}

double tu_dot(const float *out, const float *r, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)out[i] * r[i];
  return s;
}

void tu_check_grad(const char *what, float *x, const float *grad, size_t n,
                   tu_loss_fn loss, void *ctx, const tu_gradcheck *opts) {
  double eps = opts && opts->eps > 0 ? opts->eps : 1e-2;
  double atol = opts && opts->atol > 0 ? opts->atol : 1e-3;
  double rtol = opts && opts->rtol > 0 ? opts->rtol : 1e-2;
  int max_probes = opts && opts->max_probes > 0 ? opts->max_probes : 64;

  for (size_t i = 0; i < n; i++)
    if (!isfinite(grad[i])) g_error("%s: gradient [%zu] is %g", what, i, grad[i]);

  tu_rng rng = tu_rng_new(n * 7919u + 17u);
  int probes = (size_t)max_probes < n ? max_probes : (int)n;
  int skipped = 0;
  for (int p = 0; p < probes; p++) {
    size_t i = (size_t)max_probes < n ? (size_t)(tu_uniform(&rng) * n) : (size_t)p;
    float keep = x[i];
    double l0 = loss(ctx);
    x[i] = (float)(keep + eps);
    double up = loss(ctx);
    x[i] = (float)(keep - eps);
    double down = loss(ctx);
    x[i] = keep;
    /* the step actually taken, after rounding to float */
    double h_up = (double)(float)(keep + eps) - keep;
    double h_down = keep - (double)(float)(keep - eps);
    double right = (up - l0) / h_up, left = (l0 - down) / h_down;
    double numeric = (up - down) / (h_up + h_down);
    double kink = fabs(right - left);
    if (kink > 10 * (atol + rtol * fabs(numeric)) && kink > 0.1 * fabs(numeric) + atol) {
      skipped++;
      continue;
    }
    double d = fabs(numeric - grad[i]);
    if (!(d <= atol + rtol * fmax(fabs(numeric), fabs(grad[i]))))
      g_error("%s: d/dx[%zu]: analytic %.6g, finite difference %.6g "
              "(eps %.1g, atol %.1g, rtol %.1g)",
              what, i, grad[i], numeric, eps, atol, rtol);
  }
  if (skipped * 2 > probes)
    g_error("%s: %d of %d probes skipped as kinks: the check proves nothing",
            what, skipped, probes);
}

char *tu_fixture_path(const char *name) {
  return g_build_filename(HY_SOURCE_DIR, "tests", "reference", "fixtures", name, NULL);
}

hy_tensorfile *tu_fixture(const char *name) {
  g_autofree char *path = tu_fixture_path(name);
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  if (hy_tensorfile_load(&tf, path, 1 << 20, &err) != HY_OK)
    g_error("%s: %s", path, err.msg);
  return tf;
}

const float *tu_f32(const hy_tensorfile *tf, const char *name, size_t n) {
  hy_error err = {0};
  const float *p = hy_tensorfile_f32(tf, name, n, &err);
  if (!p) g_error("fixture: %s", err.msg);
  return p;
}

static const char *fixture_meta(const hy_tensorfile *tf, const char *key) {
  const char *v = hy_tensorfile_meta(tf, key);
  if (!v) g_error("fixture has no %s", key);
  return v;
}

int tu_meta_int(const hy_tensorfile *tf, const char *key) {
  return atoi(fixture_meta(tf, key));
}

double tu_meta_num(const hy_tensorfile *tf, const char *key) {
  return g_ascii_strtod(fixture_meta(tf, key), NULL);
}

const char *tu_shared_data(void) {
  static char *dir;
  if (!dir) {
    const char *env = g_getenv("HYATT_DATA");
    dir = env ? g_strdup(env)
              : g_canonicalize_filename("../shared/data", HY_SOURCE_DIR);
  }
  return g_file_test(dir, G_FILE_TEST_IS_DIR) ? dir : NULL;
}

static char *tmpdir;

static void rm_tmpdir(void) {
  if (!tmpdir) return;
  char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
  if (system(cmd)) g_warning("could not remove %s", tmpdir);
  g_free(cmd);
}

gboolean tu_wait_for(gboolean (*done)(gpointer data), gpointer data, int timeout_s) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
  while (!done(data)) {
    if (g_get_monotonic_time() > end) return FALSE;
    g_main_context_iteration(NULL, FALSE);
    g_usleep(1000);
  }
  return TRUE;
}

void tu_settle(void) {
  gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC / 5;
  while (g_get_monotonic_time() < end) {
    g_main_context_iteration(NULL, FALSE);
    g_usleep(1000);
  }
}

int tu_kills(int fallback) {
  const char *s = g_getenv("HY_KILLS");
  int n = s ? atoi(s) : 0;
  return n > 0 ? n : fallback;
}

const char *tu_tmpdir(void) {
  if (!tmpdir) {
    GError *error = NULL;
    tmpdir = g_dir_make_tmp("hyatt-test-XXXXXX", &error);
    g_assert_no_error(error);
    atexit(rm_tmpdir);
  }
  return tmpdir;
}

void tu_isolate_user_dirs(void) {
  static const char *const vars[][2] = {{"XDG_DATA_HOME", "data"},
                                        {"XDG_CONFIG_HOME", "config"},
                                        {"XDG_CACHE_HOME", "cache"},
                                        {"XDG_STATE_HOME", "state"}};
  for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
    char *dir = g_build_filename(tu_tmpdir(), "home", vars[i][1], NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_setenv(vars[i][0], dir, TRUE);
    g_free(dir);
  }
}

void tu_write_file(const char *path, const char *data, gssize len) {
  GError *error = NULL;
  g_file_set_contents(path, data, len, &error);
  g_assert_no_error(error);
}

char *tu_write_tmp(const char *name, const char *data, gssize len) {
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  tu_write_file(path, data, len);
  return path;
}
