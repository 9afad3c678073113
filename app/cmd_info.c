/* `hyatt info [--json] MODEL`: what a model file holds (configuration,
 * landmarks, size, id, provenance), after the same checks as loading it,
 * without building the network. */
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "format_json.h"
#include "model.h"

#define CMD "info"
#define LABEL_WIDTH 14 /* characters */

/* "label   value": labels padded by characters, not bytes (translations). */
static void row(const char *label, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void row(const char *label, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *value = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  glong pad = LABEL_WIDTH - g_utf8_strlen(label, -1);
  printf("%s%*s %s\n", label, (int)MAX(pad, 0), "", value);
}

static char *join_ints(const int *v, int n) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < n; i++) g_string_append_printf(s, i ? ", %d" : "%d", v[i]);
  return g_string_free(s, FALSE);
}

static char *join_floats(const float *v, int n) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < n; i++) g_string_append_printf(s, i ? ", %g" : "%g", v[i]);
  return g_string_free(s, FALSE);
}

/* 1234567 → "1,234,567". */
static char *count_text(size_t n) {
  g_autofree char *digits = g_strdup_printf("%zu", n);
  GString *s = g_string_new(NULL);
  size_t len = strlen(digits);
  for (size_t i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0) g_string_append_c(s, ',');
    g_string_append_c(s, digits[i]);
  }
  return g_string_free(s, FALSE);
}

static void print_text(const char *path, const hy_net_config *c, const hy_model_info *info) {
  g_autofree char *disp = g_filename_display_name(path);
  g_autofree char *size = g_format_size_full(info->file_bytes, G_FORMAT_SIZE_LONG_FORMAT);
  g_autofree char *widths = join_ints(c->widths, HY_STAGES);
  g_autofree char *heads = join_ints(c->bra_heads, HY_STAGES - 1);
  g_autofree char *regions = join_ints(c->regions, HY_STAGES - 1);
  g_autofree char *topk = join_ints(c->topk, HY_STAGES - 1);
  g_autofree char *mlp = join_ints(c->mlp_ratio, HY_STAGES);
  g_autofree char *sigmas = join_floats(c->sigmas, 3);
  g_autofree char *params = count_text(info->param_count);
  g_autofree char *buffers = count_text(info->buffer_count);
  row(_("Model"), "%s", disp);
  row(_("Id"), "%s", info->id);
  row(_("Kind"), "%s", info->checkpoint ? _("training checkpoint") : _("model"));
  row(_("File size"), "%s", size);
  row(_("Config"), "%s", c->name);
  /* TRANSLATORS: network input size: width × height in pixels */
  row(_("Input"), _("%d × %d px (width × height)"), c->in_w, c->in_h);
  row(_("Widths"), "%s", widths);
  /* TRANSLATORS: BiFormer attention heads of stages 1-4, then of stage 5 */
  row(_("Heads"), _("%s (stage 5: %d)"), heads, c->s5_heads);
  row(_("Regions"), "%s", regions);
  row(_("Top-k"), "%s", topk);
  row(_("MLP ratio"), "%s", mlp);
  /* TRANSLATORS: neck width D, head 3's image branch width E and middle width M */
  row(_("Neck"), _("%d (image branch %d, head 3 middle %d)"), c->neck, c->img_width, c->mid_width);
  row(_("Target σ"), "%s", sigmas);
  /* TRANSLATORS: trainable parameters (+ BatchNorm running statistics) */
  row(_("Parameters"), _("%s (+ %s running statistics)"), params, buffers);
  row(_("Landmarks"), "%d (%s)", info->landmark_count, info->landmark_set);
  for (int i = 0; i < info->landmark_count; i++)
    printf("%*s %3d  %s\n", LABEL_WIDTH, "", i + 1, info->landmark_names[i]);
  row(_("Spacing"), _("%g mm per pixel"), info->spacing_mm);
  row(_("Data set"), "%s", info->dataset[0] ? info->dataset : "—");
  row(_("Steps"), "%" G_GINT64_FORMAT, (gint64)info->steps);
  row(_("Parent"), "%s", info->parent[0] ? info->parent : "—");
  row(_("Created"), "%s", info->created[0] ? info->created : "—");
  row(_("Metrics"), "%s", info->metrics[0] ? info->metrics : "—");
  row(_("Written by"), "Hyatt Studio %s", info->hyatt_version[0] ? info->hyatt_version : "?");
}

static void add_ints(JsonBuilder *b, const char *name, const int *v, int n) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) json_builder_add_int_value(b, v[i]);
  json_builder_end_array(b);
}

static void add_floats(JsonBuilder *b, const char *name, const float *v, int n) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) json_builder_add_double_value(b, v[i]);
  json_builder_end_array(b);
}

static void print_json(const char *path, const hy_net_config *c, const hy_model_info *info) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *disp = g_filename_display_name(path);
  json_builder_begin_object(b);
  hy_json_add_string(b, "file", disp);
  hy_json_add_string(b, "id", info->id);
  hy_json_add_string(b, "format", info->checkpoint ? "hyatt-checkpoint" : "hyatt-model");
  hy_json_add_int(b, "file_bytes", (gint64)info->file_bytes);
  json_builder_set_member_name(b, "config");
  json_builder_begin_object(b);
  hy_json_add_string(b, "name", c->name);
  hy_json_add_int(b, "input_h", c->in_h);
  hy_json_add_int(b, "input_w", c->in_w);
  add_ints(b, "widths", c->widths, HY_STAGES);
  add_ints(b, "bra_heads", c->bra_heads, HY_STAGES - 1);
  add_ints(b, "regions", c->regions, HY_STAGES - 1);
  add_ints(b, "topk", c->topk, HY_STAGES - 1);
  add_ints(b, "mlp_ratio", c->mlp_ratio, HY_STAGES);
  hy_json_add_int(b, "s5_heads", c->s5_heads);
  hy_json_add_int(b, "neck", c->neck);
  hy_json_add_int(b, "img_width", c->img_width);
  hy_json_add_int(b, "mid_width", c->mid_width);
  hy_json_add_int(b, "landmarks", c->landmarks);
  hy_json_add_int(b, "pool", c->pool);
  add_floats(b, "sigmas", c->sigmas, 3);
  add_floats(b, "loss_weights", c->loss_weights, 3);
  json_builder_end_object(b);
  hy_json_add_int(b, "param_count", (gint64)info->param_count);
  hy_json_add_int(b, "buffer_count", (gint64)info->buffer_count);
  hy_json_add_string(b, "landmark_set", info->landmark_set);
  json_builder_set_member_name(b, "landmark_names");
  json_builder_begin_array(b);
  for (int i = 0; i < info->landmark_count; i++) json_builder_add_string_value(b, info->landmark_names[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "spacing_mm");
  json_builder_add_double_value(b, info->spacing_mm);
  hy_json_add_string(b, "dataset", info->dataset);
  hy_json_add_int(b, "steps", info->steps);
  hy_json_add_string(b, "parent", info->parent);
  hy_json_add_string(b, "created", info->created);
  hy_json_add_string(b, "metrics", info->metrics);
  hy_json_add_string(b, "hyatt_version", info->hyatt_version);
  json_builder_end_object(b);
  hy_cli_print_json(b);
}

int hy_cmd_info(int argc, char **argv) {
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON for programs"), NULL},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("MODEL"));
  g_option_context_set_summary(
      ctx, _("Checks a model file (.hyatt) as loading it would and describes it: network\n"
             "configuration, landmarks, parameter count, file size, model id, provenance."));
  g_option_context_set_description(ctx, _("Example:\n  hyatt info small.hyatt"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  if (argc != 2)
    return hy_cli_usage_error(CMD, "%s", argc < 2 ? _("no MODEL given") : _("more than one MODEL given"));

  hy_net_config cfg;
  g_autofree hy_model_info *info = g_new0(hy_model_info, 1);
  hy_error err = {0};
  if (hy_model_inspect(&cfg, info, argv[1], &err) != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
  if (json) print_json(argv[1], &cfg, info);
  else print_text(argv[1], &cfg, info);
  return HY_EXIT_OK;
}
