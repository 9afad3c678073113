/* `hyatt eval --model M --data DIR --split NAME [--json] [--threads N]
 *  [--limit N]`: predicts every image of a data set split and reports MRE ±
 * SD and SDR at 2, 2.5, 3 and 4 mm (DESIGN §3.6), overall and per landmark,
 * against the mean of the annotators and against each one alone. Pixel
 * spacing comes from the data set's descriptor (datasetinfo.h) or
 * --spacing. Markdown tables on stdout, or JSON with --json; progress on
 * stderr. */
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "datasetinfo.h"
#include "metrics.h"
#include "model.h"
#include "predict.h"

#define CMD "eval"

typedef struct reference {
  char label[96];   /* e.g. "mean of senior, junior" */
  char name[32];    /* e.g. "mean" */
  int index;        /* HY_DATASET_MEAN or an annotator */
  double *errors;   /* owned [n][K] mm */
  hy_error_stats overall;
  hy_error_stats *per_landmark; /* owned [K] */
} reference;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_stats_cells(const hy_error_stats *s) {
  printf(" %.3f | %.3f |", s->mre_mm, s->sd_mm);
  for (int r = 0; r < HY_SDR_RADII; r++) printf(" %.2f %% |", 100 * s->sdr[r]);
  printf("\n");
}

static void print_header(const char *first) {
  printf("| %s | MRE (mm) | SD (mm) |", first);
  for (int r = 0; r < HY_SDR_RADII; r++) printf(" SDR %g mm |", hy_sdr_radii_mm[r]);
  printf("\n|---|---:|---:|");
  for (int r = 0; r < HY_SDR_RADII; r++) printf("---:|");
  printf("\n");
}

static void print_markdown(const char *model, const hy_model_info *info, const hy_net_config *cfg,
                           const hy_dataset *ds, int n, const char *source,
                           const reference *refs, int n_refs, double sec_per_image) {
  g_autofree char *model_base = g_path_get_basename(model);
  printf("# hyatt eval: %s on %s, split %s\n\n", model_base, ds->spec.name, ds->split);
  printf("- model: %s (id %s, config %s, input %dx%d, %lld steps)\n", model, info->id, cfg->name,
         cfg->in_h, cfg->in_w, (long long)info->steps);
  printf("- data: %s, %d of %d images, %d landmarks\n", ds->dir, n, ds->n, ds->K);
  if (ds->spec.spacing_landmarks[0])
    printf("- spacing: per image, %g mm between landmarks %d and %d (%s)\n",
           ds->spec.spacing_distance_mm, ds->spec.spacing_landmarks[0],
           ds->spec.spacing_landmarks[1], source);
  else
    printf("- spacing: %g mm per pixel (%s)\n", ds->spec.spacing_mm, source);
  printf("- %.2f s per image (prediction incl. decoding the file)\n\n", sec_per_image);
  print_header("reference");
  for (int r = 0; r < n_refs; r++) {
    printf("| %s |", refs[r].label);
    print_stats_cells(&refs[r].overall);
  }
  for (int r = 0; r < n_refs; r++) {
    printf("\n## Per landmark, reference: %s\n\n", refs[r].label);
    print_header("landmark");
    for (int k = 0; k < ds->K; k++) {
      printf("| %d %s |", k + 1, info->landmark_names[k]);
      print_stats_cells(&refs[r].per_landmark[k]);
    }
  }
}

static void add_stats(JsonBuilder *b, const hy_error_stats *s) {
  json_builder_set_member_name(b, "mre_mm");
  json_builder_add_double_value(b, s->mre_mm);
  json_builder_set_member_name(b, "sd_mm");
  json_builder_add_double_value(b, s->sd_mm);
  json_builder_set_member_name(b, "sdr");
  json_builder_begin_array(b);
  for (int r = 0; r < HY_SDR_RADII; r++) json_builder_add_double_value(b, s->sdr[r]);
  json_builder_end_array(b);
}

static void print_json(const char *model, const hy_model_info *info, const hy_net_config *cfg,
                       const hy_dataset *ds, int n, const char *source, const reference *refs,
                       int n_refs, double sec_per_image) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "model");
  json_builder_add_string_value(b, model);
  json_builder_set_member_name(b, "model_id");
  json_builder_add_string_value(b, info->id);
  json_builder_set_member_name(b, "config");
  json_builder_add_string_value(b, cfg->name);
  json_builder_set_member_name(b, "data");
  json_builder_add_string_value(b, ds->dir);
  json_builder_set_member_name(b, "dataset");
  json_builder_add_string_value(b, ds->spec.name);
  json_builder_set_member_name(b, "descriptor");
  json_builder_add_string_value(b, source);
  json_builder_set_member_name(b, "split");
  json_builder_add_string_value(b, ds->split);
  json_builder_set_member_name(b, "images");
  json_builder_add_int_value(b, n);
  json_builder_set_member_name(b, "landmarks");
  json_builder_add_int_value(b, ds->K);
  json_builder_set_member_name(b, "spacing_mm");
  if (ds->spec.spacing_landmarks[0]) json_builder_add_null_value(b);
  else json_builder_add_double_value(b, ds->spec.spacing_mm);
  json_builder_set_member_name(b, "seconds_per_image");
  json_builder_add_double_value(b, sec_per_image);
  json_builder_set_member_name(b, "sdr_radii_mm");
  json_builder_begin_array(b);
  for (int r = 0; r < HY_SDR_RADII; r++) json_builder_add_double_value(b, hy_sdr_radii_mm[r]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "references");
  json_builder_begin_array(b);
  for (int r = 0; r < n_refs; r++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "reference");
    json_builder_add_string_value(b, refs[r].name);
    json_builder_set_member_name(b, "overall");
    json_builder_begin_object(b);
    add_stats(b, &refs[r].overall);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "per_landmark");
    json_builder_begin_array(b);
    for (int k = 0; k < ds->K; k++) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "index");
      json_builder_add_int_value(b, k + 1);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, info->landmark_names[k]);
      add_stats(b, &refs[r].per_landmark[k]);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  hy_cli_print_json(b);
}

/* Rewrites model with the first reference's figures added to its metrics,
 * so a shipped file carries the result it was measured to have. Loaded
 * again for training, since an inference network has its BatchNorms folded. */
static gboolean record_metrics(const char *model, const char *split, int n,
                               const reference *ref, hy_error *err) {
  hy_net *net = NULL;
  hy_model_info info;
  if (hy_model_load(&net, &info, model, HY_TRAIN, 1, err) != HY_OK) return FALSE;
  const hy_error_stats *s = &ref->overall;
  g_autofree char *figures = g_strdup_printf(
      "%s MRE %.3f ± %.3f mm, SDR 2/2.5/3/4 mm %.2f/%.2f/%.2f/%.2f %% (%d images, %s)", split,
      s->mre_mm, s->sd_mm, 100 * s->sdr[0], 100 * s->sdr[1], 100 * s->sdr[2], 100 * s->sdr[3], n,
      ref->label);
  g_autofree char *metrics = info.metrics[0] && !strstr(info.metrics, figures)
                                 ? g_strdup_printf("%s; %s", info.metrics, figures)
                                 : g_strdup(figures);
  g_strlcpy(info.metrics, metrics, sizeof info.metrics);
  hy_status st = hy_model_save(net, &info, model, err);
  hy_net_free(net);
  return st == HY_OK;
}

int hy_cmd_eval(int argc, char **argv) {
  g_autofree char *model = NULL, *data = NULL, *split = NULL, *info_file = NULL;
  gboolean json = FALSE, record = FALSE;
  int threads = (int)g_get_num_processors(), limit = 0;
  double spacing = 0;
  const GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model, N_("Model file (.hyatt)"), N_("M")},
    {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, N_("Data set folder"), N_("DIR")},
    {"split", 's', 0, G_OPTION_ARG_STRING, &split, N_("Split to evaluate, e.g. test1 (all: every image)"), N_("NAME")},
    {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON instead of Markdown tables"), NULL},
    {"record", 0, 0, G_OPTION_ARG_NONE, &record, N_("Store the overall figures in the model file's metrics"), NULL},
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: the processors)"), N_("N")},
    {"limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Only the first N images of the split"), N_("N")},
    {"dataset-info", 0, 0, G_OPTION_ARG_FILENAME, &info_file, N_("Data set descriptor (JSON; default: DIR/dataset.json or the built-in one)"), N_("FILE")},
    {"spacing", 0, 0, G_OPTION_ARG_DOUBLE, &spacing, N_("Pixel spacing in mm, instead of the descriptor's"), N_("MM")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
  g_option_context_set_summary(ctx, _("Predicts every image of a data set split and reports the mean radial error\n"
                                      "(MRE ± SD, mm) and the successful detection rates at 2, 2.5, 3 and 4 mm,\n"
                                      "overall and per landmark, against the mean of the annotators and each one."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  if (argc > 1) return hy_cli_usage_error(CMD, _("unexpected argument '%s'"), argv[1]);
  if (!model) return hy_cli_usage_error(CMD, _("--model M is required"));
  if (!data) return hy_cli_usage_error(CMD, _("--data DIR is required"));
  if (!split) return hy_cli_usage_error(CMD, _("--split NAME is required"));
  if (threads < 1 || threads > 64) return hy_cli_usage_error(CMD, _("--threads must be in 1..64"));
  if (limit < 0) return hy_cli_usage_error(CMD, _("--limit must not be negative"));
  if (spacing < 0 || spacing > 10) return hy_cli_usage_error(CMD, _("--spacing must be in (0, 10] mm"));

  hy_dataset_spec spec;
  g_autoptr(GError) error = NULL;
  g_autofree char *source = NULL;
  if (!hy_dataset_spec_from_options(&spec, data, info_file, spacing, &source, &error))
    return hy_cli_error(CMD, "%s", error->message);
  if (spacing > 0) {
    g_free(source);
    source = g_strdup("--spacing");
  }
  if (!source) source = g_strdup(_("no descriptor"));
  hy_dataset ds;
  hy_error err = {0};
  if (hy_dataset_open(&ds, data, &spec, split, &err) != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
  hy_net *net = NULL;
  hy_model_info info;
  if (hy_model_load(&net, &info, model, HY_INFER, threads, &err) != HY_OK) {
    hy_dataset_free(&ds);
    return hy_cli_error(CMD, "%s", err.msg);
  }
  hy_net_config cfg = net->cfg;
  if (info.landmark_count != ds.K) {
    hy_net_free(net);
    int status = hy_cli_error(CMD, _("%s predicts %d landmarks (%s) but %s has %d"), model,
                              info.landmark_count, info.landmark_set, data, ds.K);
    hy_dataset_free(&ds);
    return status;
  }
  hy_predictor *pred = NULL;
  if (hy_predictor_new(&pred, net, threads, &err) != HY_OK) {
    hy_dataset_free(&ds);
    return hy_cli_error(CMD, "%s", err.msg);
  }

  int n = limit > 0 && limit < ds.n ? limit : ds.n, K = ds.K;
  /* references: the mean when there are several annotators, then each */
  int n_refs = 0;
  reference refs[HY_DATASET_MAX_ANNOTATORS + 1];
  memset(refs, 0, sizeof refs);
  if (ds.n_annotators > 1) {
    refs[0].index = HY_DATASET_MEAN;
    snprintf(refs[0].name, sizeof refs[0].name, "mean");
    size_t len = (size_t)snprintf(refs[0].label, sizeof refs[0].label, "mean of");
    for (int a = 0; a < ds.n_annotators && len < sizeof refs[0].label; a++)
      len += (size_t)snprintf(refs[0].label + len, sizeof refs[0].label - len, "%s %s",
                              a ? "," : "", ds.spec.annotators[a].name);
    n_refs = 1;
  }
  for (int a = 0; a < ds.n_annotators; a++, n_refs++) {
    refs[n_refs].index = a;
    snprintf(refs[n_refs].name, sizeof refs[n_refs].name, "%s", ds.spec.annotators[a].name);
    snprintf(refs[n_refs].label, sizeof refs[n_refs].label, "%s", ds.spec.annotators[a].name);
  }
  for (int r = 0; r < n_refs; r++) {
    refs[r].errors = g_new(double, (size_t)n * K);
    refs[r].per_landmark = g_new(hy_error_stats, K);
  }

  gboolean tty = isatty(STDERR_FILENO);
  hy_prediction *p = g_new0(hy_prediction, 1);
  hy_status st = HY_OK;
  double t0 = now_seconds();
  for (int i = 0; i < n && st == HY_OK; i++) {
    if (tty) g_printerr(_("\rpredicting %d/%d: %s"), i + 1, n, ds.ids[i]);
    hy_image img = {0};
    st = hy_image_load(&img, ds.paths[i], &err);
    if (st == HY_OK) st = hy_predictor_run(pred, &img, p, &err);
    hy_image_free(&img);
    for (int r = 0; st == HY_OK && r < n_refs; r++)
      hy_radial_errors_mm(refs[r].errors + (size_t)i * K, p->points,
                          hy_dataset_points(&ds, refs[r].index, i), K, ds.spacing[i]);
  }
  double sec_per_image = n ? (now_seconds() - t0) / n : 0;
  if (tty) g_printerr("\r\033[K");
  int status = HY_EXIT_OK;
  if (st != HY_OK) {
    status = hy_cli_error(CMD, "%s", err.msg);
  } else {
    g_printerr(_("hyatt eval: %d images in %.1f s (%.2f s per image)\n"), n, sec_per_image * n,
               sec_per_image);
    for (int r = 0; r < n_refs; r++) {
      hy_error_stats_compute(&refs[r].overall, refs[r].errors, (size_t)n * K, 1);
      for (int k = 0; k < K; k++)
        hy_error_stats_compute(&refs[r].per_landmark[k], refs[r].errors + k, (size_t)n, (size_t)K);
    }
    if (json) print_json(model, &info, &cfg, &ds, n, source, refs, n_refs, sec_per_image);
    else print_markdown(model, &info, &cfg, &ds, n, source, refs, n_refs, sec_per_image);
    if (record && n_refs > 0 && !record_metrics(model, ds.split, n, &refs[0], &err))
      status = hy_cli_error(CMD, "%s", err.msg);
  }
  for (int r = 0; r < n_refs; r++) {
    g_free(refs[r].errors);
    g_free(refs[r].per_landmark);
  }
  g_free(p);
  hy_predictor_free(pred);
  hy_dataset_free(&ds);
  return status;
}
