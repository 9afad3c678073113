/* `hyatt bench [ops|net|infer|train|predict|peak] [--config small|paper]
 * [--threads N] [--reps N] [--json] [--no-peak]`: measures this machine's sgemm peak and
 * memory bandwidth, then each op at the configuration's shapes and the whole
 * network, and prints a Markdown table: time, GFLOP/s or GB/s, and % of the
 * peak measured in this run. --json prints one JSON object per line instead
 * (bench/compare-pytorch reads them). */
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
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
  gboolean json;
} table;

/* One JSON object on one line: "kind": kind, then the members add put. */
static void json_line(const char *kind, void (*add)(JsonBuilder *b, const void *p), const void *p) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "kind");
  json_builder_add_string_value(b, kind);
  add(b, p);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  printf("%s\n", text);
  fflush(stdout);
}

static void add_double(JsonBuilder *b, const char *name, double v) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, v);
}

static void add_row(JsonBuilder *b, const void *p) {
  const hy_bench_row *row = p;
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, row->name);
  json_builder_set_member_name(b, "pass");
  json_builder_add_string_value(b, row->pass);
  add_double(b, "ms", row->ms);
  add_double(b, "gflop", row->gflop);
  add_double(b, "gbyte", row->gbyte);
  json_builder_set_member_name(b, "dense");
  json_builder_add_boolean_value(b, row->dense);
}

static void add_machine(JsonBuilder *b, const void *p) {
  const table *t = p;
  add_double(b, "sgemm_gflops", t->peak);
  add_double(b, "memcpy_gbs", t->bw);
}

static void add_rss(JsonBuilder *b, const void *p) {
  const struct rusage *ru = p;
  add_double(b, "peak_rss_mb", ru->ru_maxrss / 1024.0);
}

static void add_plan(JsonBuilder *b, const void *p) {
  const double *mb = p;
  add_double(b, "infer_mb", mb[0]);
  add_double(b, "train_mb", mb[1]);
}

/* part as a percentage of whole, 7 columns wide; "n/a" when whole was not
 * measured (--no-peak) */
static void print_pct(double part, double whole) {
  if (whole > 0)
    printf("%5.1f %%", 100 * part / whole);
  else
    printf("%7s", "n/a");
}

static void print_row(const hy_bench_row *row, void *p) {
  table *t = p;
  t->total += row->ms;
  if (t->json) {
    json_line("row", add_row, row);
    return;
  }
  if (row->gflop > 0) {
    double rate = row->gflop / (row->ms * 1e-3);
    printf("| %-52s | %-4s | %9.3f | %8.1f GFLOP/s | ", row->name, row->pass, row->ms, rate);
    print_pct(rate, t->peak);
    printf(" |");
    double gbs = row->gbyte / (row->ms * 1e-3);
    if (row->gbyte > 0) printf(" %.1f GB/s", gbs);
    if (row->gbyte > 0 && t->bw > 0) printf(" (%.0f %%)", 100 * gbs / t->bw);
    printf("\n");
  } else {
    double rate = row->gbyte / (row->ms * 1e-3);
    printf("| %-52s | %-4s | %9.3f | %11.1f GB/s | ", row->name, row->pass, row->ms, rate);
    print_pct(rate, t->bw);
    printf(" |\n");
  }
  fflush(stdout);
}

static void print_header(const table *t, const char *what) {
  if (t->json) return;
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

static void emit(table *t, const char *name, const char *pass, double ms, double gflop) {
  hy_bench_row row = {0};
  g_strlcpy(row.name, name, sizeof row.name);
  g_strlcpy(row.pass, pass, sizeof row.pass);
  row.ms = ms;
  row.gflop = gflop;
  if (gflop > 0 || t->json) {
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
  if (!t->json)
    printf("\nimage %s (%dx%d), model %s\n", image, c.img.width, c.img.height,
           model ? model : "random weights");
  print_header(t, _("predict, end to end"));
  emit(t, model ? "load the model file and plan the network" : "plan the network", "once", load_ms, 0);
  g_snprintf(name, sizeof name, "decode %s", base);
  emit(t, name, "warm", hy_bench_time(run_decode, &c, reps), 0);
  g_snprintf(name, sizeof name, "letterbox + forward + decode (%s)", cfg->name);
  emit(t, name, "warm", hy_bench_time(run_predict, &c, reps), 0);
  emit(t, "end to end: image file to landmarks", "warm", hy_bench_time(run_end_to_end, &c, reps), 0);
  hy_image_free(&c.img);
  hy_predictor_free(c.predictor);
  if (c.failed) return hy_cli_error(CMD, _("a prediction failed during the benchmark"));
  return HY_EXIT_OK;
}

int hy_cmd_bench(int argc, char **argv) {
  g_autofree char *config = NULL, *model = NULL, *image = NULL;
  int threads = 2, reps = 7;
  gboolean json = FALSE, no_peak = FALSE;
  const GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_STRING, &config,
     N_("Network configuration whose shapes are measured (default: small)"), N_("small|paper")},
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: 2)"), N_("N")},
    {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, N_("Timed runs per measurement; the median is shown (default: 7)"), N_("N")},
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
     N_("predict: the model to time (default: random weights of --config)"), N_("FILE")},
    {"image", 'i', 0, G_OPTION_ARG_FILENAME, &image,
     N_("predict: the image (default: ../shared/data/isbi2015/images/001.jpg)"), N_("FILE")},
    {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("One JSON object per line instead of tables"), NULL},
    {"no-peak", 0, 0, G_OPTION_ARG_NONE, &no_peak,
     N_("Skip the sgemm and memcpy measurement, keeping its buffers out of the peak memory"), NULL},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("[ops|net|infer|train|predict|peak]"));
  g_option_context_set_summary(ctx, _("Measures the speed of every op and of the whole network.\n"
                                      "Percentages are of the sgemm peak (compute-bound ops) or of the\n"
                                      "memcpy bandwidth (memory-bound ops) measured in the same run."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  const char *what = argc > 1 ? argv[1] : "all";
  gboolean ops = !strcmp(what, "ops") || !strcmp(what, "all");
  gboolean net = !strcmp(what, "net") || !strcmp(what, "all");
  int which = (net || !strcmp(what, "infer") ? HY_BENCH_INFER : 0) |
              (net || !strcmp(what, "train") ? HY_BENCH_TRAIN : 0);
  gboolean predict = !strcmp(what, "predict") || !strcmp(what, "all");
  gboolean peak = !strcmp(what, "peak");
  if (argc > 2 || (!ops && !which && !predict && !peak))
    return hy_cli_usage_error(CMD, _("unknown benchmark '%s' (ops, net, infer, train, predict or peak)"), what);
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
  table t = {no_peak ? 0 : hy_bench_sgemm_peak(reps), no_peak ? 0 : hy_bench_memcpy(reps), 0, json};
  if (json) {
    if (!no_peak) json_line("machine", add_machine, &t);
  } else {
    printf("# hyatt bench %s: config %s, %d thread(s), median of %d\n\n", what, cfg.name, threads, reps);
    printf("- machine: %s %s, %ld cores online\n", u.sysname, u.machine, (long)g_get_num_processors());
    printf("- OpenBLAS: %s\n", hy_blas_describe(blas, sizeof blas));
    printf("- compiler: gcc %d.%d, libhyatt built with -O3, no -ffast-math, no -march\n", __GNUC__, __GNUC_MINOR__);
    if (!no_peak)
      printf("- sgemm 2048³ peak: %.1f GFLOP/s; memcpy 64 MiB: %.1f GB/s (read + write, main memory:\n  ops whose data stay in cache can pass 100 %%)\n", t.peak, t.bw);
  }

  int status = HY_EXIT_OK;
  if (ops) {
    print_header(&t, _("op (shape)"));
    if (hy_bench_ops(&cfg, pool, reps, print_row, &t, &err) != HY_OK) status = hy_cli_error(CMD, "%s", err.msg);
    if (!json) printf("\nall ops, forward and backward once each: %.1f ms\n", t.total);
  }
  if (which && status == HY_EXIT_OK) {
    double mb[2] = {0, 0};
    print_header(&t, _("network"));
    if (hy_bench_net(&cfg, which, pool, reps, print_row, &t, &mb[0], &mb[1], &err) != HY_OK)
      status = hy_cli_error(CMD, "%s", err.msg);
    else if (json)
      json_line("plan", add_plan, mb);
    else
      printf("\nplanned memory: inference %.0f MiB, training %.0f MiB (incl. Adam moments)\n", mb[0], mb[1]);
  }
  hy_pool_destroy(pool);
  if (predict && status == HY_EXIT_OK) {
    const char *path = image ? image : "../shared/data/isbi2015/images/001.jpg";
    status = bench_predict(&t, &cfg, model, path, threads, reps);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  if (json)
    json_line("rss", add_rss, &ru);
  else
    printf("\npeak memory (RSS) of this process: %.0f MiB\n", ru.ru_maxrss / 1024.0);
  return status;
}
