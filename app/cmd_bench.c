/* `hyatt bench [ops|net] [--config small|paper] [--threads N] [--reps N]`:
 * measures this machine's sgemm peak and memory bandwidth, then each op at
 * the configuration's shapes and the whole network, and prints a Markdown
 * table: time, GFLOP/s or GB/s, and % of the peak measured in this run. */
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include "bench.h"
#include "blas.h"
#include "cli.h"
#include "config.h"
#include "image.h"
#include "model.h"
#include "net.h"
#include "netconfig.h"
#include "predict.h"

#define CMD "bench"

typedef struct {
  double peak;  /* GFLOP/s */
  double bw;    /* GB/s */
  double total; /* ms of all rows */
} table;

static void print_row(const hy_bench_row *row, void *p) {
  table *t = p;
  t->total += row->ms;
  if (row->gflop > 0) {
    double rate = row->gflop / (row->ms * 1e-3);
    printf("| %-52s | %-4s | %9.3f | %8.1f GFLOP/s | %5.1f %% |", row->name, row->pass, row->ms,
           rate, 100 * rate / t->peak);
    if (row->gbyte > 0) printf(" %.1f GB/s (%.0f %%)", row->gbyte / (row->ms * 1e-3), 100 * row->gbyte / (row->ms * 1e-3) / t->bw);
    printf("\n");
  } else {
    double rate = row->gbyte / (row->ms * 1e-3);
    printf("| %-52s | %-4s | %9.3f | %11.1f GB/s | %5.1f %% |\n", row->name, row->pass, row->ms,
           rate, 100 * rate / t->bw);
  }
  fflush(stdout);
}

static void print_header(const char *what) {
  printf("\n| %-52s | pass | %9s | %16s | %% peak |\n", what, "ms", "rate");
  printf("|%s|------|-----------|------------------|--------|\n",
         "------------------------------------------------------");
}

typedef struct {
  const char *path;
  hy_image img;
  hy_predictor *predictor;
  hy_prediction pred;
  int failed;
} predict_ctx;

static void run_decode(void *p) {
  predict_ctx *c = p;
  hy_image_free(&c->img);
  c->failed |= hy_image_load(&c->img, c->path, NULL) != HY_OK;
}

static void run_predict(void *p) {
  predict_ctx *c = p;
  c->failed |= hy_predictor_run(c->predictor, &c->img, &c->pred, NULL) != HY_OK;
}

static void run_end_to_end(void *p) {
  run_decode(p);
  run_predict(p);
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

static void emit(table *t, const char *name, const char *pass, double ms, double gflop) {
  hy_bench_row row = {0};
  g_strlcpy(row.name, name, sizeof row.name);
  g_strlcpy(row.pass, pass, sizeof row.pass);
  row.ms = ms;
  row.gflop = gflop;
  if (gflop > 0) {
    print_row(&row, t);
  } else {
    printf("| %-52s | %-4s | %9.3f | %16s |        |\n", row.name, row.pass, row.ms, "");
    t->total += ms;
  }
}

/* Image to landmarks, as `hyatt predict` does it: decode, letterbox,
 * forward (inference plan), coarse-to-fine decoding. */
static int bench_predict(table *t, const hy_net_config *cfg, const char *model, const char *image,
                         int threads, int reps) {
  hy_error err = {0};
  hy_net *net = NULL;
  double t0 = g_get_monotonic_time() / 1e3;
  if (model) {
    if (hy_model_load(&net, NULL, model, HY_INFER, threads, &err) != HY_OK)
      return hy_cli_error(CMD, "%s", err.msg);
  } else {
    if (hy_net_create(&net, cfg, 1, HY_INFER, threads, &err) != HY_OK)
      return hy_cli_error(CMD, "%s", err.msg);
    hy_net_init_seeded(net, 1);
    hy_net_fold_bn(net);
  }
  predict_ctx c = {.path = image};
  if (hy_predictor_new(&c.predictor, net, threads, &err) != HY_OK) {
    hy_net_free(net);
    return hy_cli_error(CMD, "%s", err.msg);
  }
  double load_ms = g_get_monotonic_time() / 1e3 - t0;
  if (hy_image_load(&c.img, image, &err) != HY_OK) {
    hy_predictor_free(c.predictor);
    return hy_cli_error(CMD, "%s", err.msg);
  }
  g_autofree char *base = g_path_get_basename(image);
  char name[128];
  printf("\nimage %s (%dx%d), model %s\n", image, c.img.width, c.img.height,
         model ? model : "random weights");
  print_header(_("predict, end to end"));
  emit(t, model ? "load the model file and plan the network" : "plan the network", "once", load_ms, 0);
  g_snprintf(name, sizeof name, "decode %s", base);
  emit(t, name, "warm", hy_bench_time(run_decode, &c, reps), 0);
  g_snprintf(name, sizeof name, "letterbox + forward + decode (%s)", cfg->name);
  emit(t, name, "warm", hy_bench_time(run_predict, &c, reps), 0);
  emit(t, "end to end: image file to landmarks", "warm", hy_bench_time(run_end_to_end, &c, reps), 0);
  hy_image_free(&c.img);
  hy_predictor_free(c.predictor);
  if (c.failed) return hy_cli_error(CMD, _("a prediction failed during the benchmark"));
  printf("\npeak memory (RSS) of this process so far: %.0f MiB\n", peak_rss_mb());
  return HY_EXIT_OK;
}

int hy_cmd_bench(int argc, char **argv) {
  g_autofree char *config = NULL, *model = NULL, *image = NULL;
  int threads = 2, reps = 7;
  const GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_STRING, &config,
     N_("Network configuration whose shapes are measured (default: small)"), N_("small|paper")},
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: 2)"), N_("N")},
    {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, N_("Timed runs per measurement; the median is shown (default: 7)"), N_("N")},
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
     N_("predict: the model to time (default: random weights of --config)"), N_("FILE")},
    {"image", 'i', 0, G_OPTION_ARG_FILENAME, &image,
     N_("predict: the image (default: ../shared/data/isbi2015/images/001.jpg)"), N_("FILE")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("[ops|net|predict]"));
  g_option_context_set_summary(ctx, _("Measures the speed of every op and of the whole network.\n"
                                      "Percentages are of the sgemm peak (compute-bound ops) or of the\n"
                                      "memcpy bandwidth (memory-bound ops) measured in the same run."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  const char *what = argc > 1 ? argv[1] : "all";
  gboolean ops = !strcmp(what, "ops") || !strcmp(what, "all");
  gboolean net = !strcmp(what, "net") || !strcmp(what, "all");
  gboolean predict = !strcmp(what, "predict") || !strcmp(what, "all");
  if (argc > 2 || (!ops && !net && !predict))
    return hy_cli_usage_error(CMD, _("unknown benchmark '%s' (ops, net or predict)"), what);
  if (threads < 1 || threads > 64) return hy_cli_usage_error(CMD, _("--threads must be in 1..64"));
  if (reps < 1 || reps > 101) return hy_cli_usage_error(CMD, _("--reps must be in 1..101"));

  hy_net_config cfg;
  hy_error err = {0};
  if (hy_net_config_named(&cfg, config ? config : "small", &err) != HY_OK)
    return hy_cli_usage_error(CMD, "%s", err.msg);
  hy_pool *pool = NULL;
  if (hy_pool_create(&pool, threads, &err) != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
  hy_blas_set_threads(threads);

  char blas[256];
  struct utsname u;
  uname(&u);
  table t = {hy_bench_sgemm_peak(reps), hy_bench_memcpy(reps), 0};
  printf("# hyatt bench %s: config %s, %d thread(s), median of %d\n\n", what, cfg.name, threads, reps);
  printf("- machine: %s %s, %ld cores online\n", u.sysname, u.machine, (long)g_get_num_processors());
  printf("- OpenBLAS: %s\n", hy_blas_describe(blas, sizeof blas));
  printf("- compiler: gcc %d.%d, libhyatt built with -O3, no -ffast-math, no -march\n", __GNUC__, __GNUC_MINOR__);
  printf("- sgemm 2048³ peak: %.1f GFLOP/s; memcpy 64 MiB: %.1f GB/s (read + write, main memory:\n  ops whose data stay in cache can pass 100 %%)\n", t.peak, t.bw);

  int status = HY_EXIT_OK;
  if (ops) {
    print_header(_("op (shape)"));
    if (hy_bench_ops(&cfg, pool, reps, print_row, &t, &err) != HY_OK) status = hy_cli_error(CMD, "%s", err.msg);
    printf("\nall ops, forward and backward once each: %.1f ms\n", t.total);
  }
  if (net && status == HY_EXIT_OK) {
    double infer_mb = 0, train_mb = 0;
    print_header(_("network"));
    if (hy_bench_net(&cfg, pool, reps, print_row, &t, &infer_mb, &train_mb, &err) != HY_OK)
      status = hy_cli_error(CMD, "%s", err.msg);
    else
      printf("\nplanned memory: inference %.0f MiB, training %.0f MiB (incl. Adam moments)\n", infer_mb, train_mb);
  }
  hy_pool_destroy(pool);
  if (predict && status == HY_EXIT_OK) {
    const char *path = image ? image : "../shared/data/isbi2015/images/001.jpg";
    status = bench_predict(&t, &cfg, model, path, threads, reps);
  }
  return status;
}
