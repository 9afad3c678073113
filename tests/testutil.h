/* Shared helpers of the g_test suites: seeded random data, tensor
 * comparison with a report of the first mismatch, finite-difference gradient
 * checks, the PyTorch fixtures, where the shared data sets live, and
 * temporary files. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "tensorfile.h"

/* xorshift64*: the same numbers on every machine for a given seed. */
typedef struct tu_rng { uint64_t s; } tu_rng;
tu_rng tu_rng_new(uint64_t seed);
double tu_uniform(tu_rng *r);          /* [0, 1) */
double tu_normal(tu_rng *r);           /* N(0, 1) */
int tu_int(tu_rng *r, int lo, int hi); /* [lo, hi] */
void tu_fill(tu_rng *r, float *x, size_t n, float lo, float hi);

/* New arrays (g_free them; at least one element, so n may be 0): n uniform
 * values in [lo, hi), and a copy of x[0..n). */
float *tu_random(tu_rng *r, size_t n, float lo, float hi);
float *tu_copy(const float *x, size_t n);

/* A pool of `threads` threads; fails the test if it cannot be made. */
hy_pool *tu_pool_new(int threads);

/* Fails the test unless |got - want| <= atol + rtol * |want| everywhere;
 * the message names `what`, the first bad index and the largest error. */
void tu_assert_close(const char *what, const float *got, const float *want,
                     size_t n, double atol, double rtol);

/* Finite-difference check of an analytic gradient.
 * loss(ctx) runs the forward pass from the current inputs and returns a
 * scalar in double, e.g. sum(out * r) for a fixed random r (llm.c's
 * "fakeloss"); grad holds d loss / d x from the backward pass with dout = r.
 * Up to max_probes elements of x (chosen with a fixed seed) are nudged by
 * +-eps; central differences must match grad within atol + rtol * |value|.
 * Points where the one-sided slopes disagree (a kink: ReLU at 0, max or top-k
 * ties) are skipped; the test fails if more than half are skipped. */
typedef double (*tu_loss_fn)(void *ctx);
typedef struct tu_gradcheck {
  double eps;     /* default 1e-2 */
  double atol;    /* default 1e-3 */
  double rtol;    /* default 1e-2 */
  int max_probes; /* default 64 */
} tu_gradcheck;
void tu_check_grad(const char *what, float *x, const float *grad, size_t n,
                   tu_loss_fn loss, void *ctx, const tu_gradcheck *opts);

/* sum(out * r) in double: the usual projection for tu_check_grad. */
double tu_dot(const float *out, const float *r, size_t n);

/* <source>/tests/reference/fixtures/<name> (a newly allocated string). */
char *tu_fixture_path(const char *name);

/* That fixture, read and validated (at most 1 MiB: fixtures are small);
 * fails the test if it cannot be. Free with hy_tensorfile_free. */
hy_tensorfile *tu_fixture(const char *name);

/* Its float32 tensor `name` of exactly n values; fails the test otherwise. */
const float *tu_f32(const hy_tensorfile *tf, const char *name, size_t n);

/* Its metadata `key` as an integer, or as a number (read in the C locale);
 * fails the test when the key is missing. */
int tu_meta_int(const hy_tensorfile *tf, const char *key);
double tu_meta_num(const hy_tensorfile *tf, const char *key);

/* The shared data sets folder (../shared/data next to the source tree, or
 * $HYATT_DATA), or NULL when absent: callers then g_test_skip(). */
const char *tu_shared_data(void);

/* Iterates the default main context until done(data), FALSE after
 * timeout_s seconds (the UI tests' waits). */
gboolean tu_wait_for(gboolean (*done)(gpointer data), gpointer data, int timeout_s);

/* Iterates the default main context for a fifth of a second: lets a
 * window lay out and draw. */
void tu_settle(void);

/* How many times a kill test kills: $HY_KILLS (tools/reliability-report's
 * long run) or the suite's own count. */
int tu_kills(int fallback);

/* A fresh temporary directory, removed at exit of the test program. */
const char *tu_tmpdir(void);

/* Points $XDG_DATA_HOME, $XDG_CONFIG_HOME, $XDG_CACHE_HOME and
 * $XDG_STATE_HOME into tu_tmpdir(), so that nothing a test writes there
 * (e.g. the GUI's model store) reaches the user's folders or outlives the
 * run. Call it first in main(): GLib reads them once; and gtk_test_init()
 * drops g_test_init()'s options, G_TEST_OPTION_ISOLATE_DIRS among them. */
void tu_isolate_user_dirs(void);

/* Writes len bytes of data (len < 0: up to its NUL) to path; fails the test
 * if it cannot. */
void tu_write_file(const char *path, const char *data, gssize len);

/* The same to <tu_tmpdir()>/name; returns that path (g_free it). */
char *tu_write_tmp(const char *name, const char *data, gssize len);
