/* `hyatt show IMAGE --landmarks FILE[:ROW] [--landmarks FILE2[:ROW]]
 *  --out PNG [--max-size PX] [--count N]`: draws one or two landmark sets
 * over an image (overlay.h) and writes the PNG. */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "image.h"
#include "image_file.h"
#include "landmark_source.h"
#include "landmarks.h"
#include "overlay.h"

#define CMD "show"

typedef struct source {
  char *file;       /* owned: the landmark file */
  char *row;        /* owned: the CSV row asked for, NULL = from the image */
  char *label;      /* owned, UTF-8: legend text */
  hy_point *points; /* owned, [n] */
  int n;
} source;

static void source_clear(source *s) {
  g_free(s->file);
  g_free(s->row);
  g_free(s->label);
  g_free(s->points);
  memset(s, 0, sizeof *s);
}

/* Loads the points of s; expect = 0 or the count they must have. */
static int load_source(source *s, const char *image_path, int expect) {
  g_autofree char *file_disp = g_filename_display_name(s->file);
  g_autofree char *base_disp = g_filename_display_basename(s->file);
  hy_error err = {0};
  if (hy_landmark_source_is_csv(s->file)) {
    hy_landmark_table t = {0};
    if (hy_landmark_csv_load(&t, s->file, &err) != HY_OK)
      return hy_cli_error(CMD, "%s", err.msg);
    int r = hy_landmark_source_find_row(&t, s->row, image_path);
    if (r < 0) {
      g_autofree char *want = s->row ? g_strdup(s->row) : hy_landmark_source_stem(image_path);
      int status = s->row ? hy_cli_error(CMD, _("no row '%s' in %s"), want, file_disp)
                          : hy_cli_error(CMD, _("no row '%s' (the image's name) in %s: "
                                                "choose one with %s:ROW"),
                                         want, file_disp, file_disp);
      hy_landmark_table_free(&t);
      return status;
    }
    s->n = t.n_landmarks;
    s->points = g_memdup2(hy_landmark_table_row(&t, r), sizeof(hy_point) * (gsize)s->n);
    s->label = g_strdup_printf("%s:%s", base_disp, t.images[r]);
    hy_landmark_table_free(&t);
  } else {
    if (s->row)
      return hy_cli_error(CMD, _("%s is not a landmark CSV (no 'image' header), so it has no rows to choose with ':%s'"),
                          file_disp, s->row);
    if (hy_landmark_source_text(&s->points, &s->n, s->file, expect, &err) != HY_OK)
      return hy_cli_error(CMD, "%s", err.msg);
    s->label = g_strdup(base_disp);
  }
  return HY_EXIT_OK;
}

/* Fails early, before decoding anything, if the PNG cannot be written. */
static int check_out_folder(const char *out) {
  g_autofree char *dir = g_path_get_dirname(out);
  g_autofree char *dir_disp = g_filename_display_name(dir);
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return hy_cli_error(CMD, _("cannot write %s: folder %s does not exist"), out, dir_disp);
  if (g_access(dir, W_OK | X_OK) != 0)
    return hy_cli_error(CMD, _("cannot write %s: folder %s is not writable (%s)"), out,
                        dir_disp, g_strerror(errno));
  if (g_file_test(out, G_FILE_TEST_IS_DIR))
    return hy_cli_error(CMD, _("cannot write %s: it is a folder"), out);
  return HY_EXIT_OK;
}

static void warn_outside(const source *s, const hy_image *img) {
  int outside = 0;
  for (int i = 0; i < s->n; i++)
    outside += !(s->points[i].x >= -0.5 && s->points[i].x < img->width - 0.5 &&
                 s->points[i].y >= -0.5 && s->points[i].y < img->height - 0.5);
  if (outside)
    g_printerr(_("hyatt show: warning: %d of the %d landmarks of %s lie outside the %d x %d image\n"),
               outside, s->n, s->label, img->width, img->height);
}

int hy_cmd_show(int argc, char **argv) {
  g_auto(GStrv) specs = NULL;
  g_autofree char *out = NULL;
  int max_size = 0, count = 0;
  const GOptionEntry entries[] = {
    {"landmarks", 'l', 0, G_OPTION_ARG_FILENAME_ARRAY, &specs,
     N_("A landmark CSV and row, or an ISBI text file (twice to compare)"),
     N_("FILE[:ROW]")},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("The PNG to write (required)"), N_("PNG")},
    {"max-size", 0, 0, G_OPTION_ARG_INT, &max_size,
     N_("Longer side of the PNG at most (default: the image's size)"),
     N_("PX")},
    {"count", 'n', 0, G_OPTION_ARG_INT, &count,
     N_("Number of landmarks (lets ISBI text files end with label lines)"),
     N_("N")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("IMAGE"));
  g_option_context_set_summary(ctx, _("Draws landmarks over an X-ray (PNG or JPEG) and writes a PNG.\n"
                                      "The first landmark set is drawn as rings, the second as diamonds,\n"
                                      "each pair joined by a line; numbers are 1-based."));
  g_option_context_set_description(
      ctx, _("FILE is a CSV with the header image,[split,]l1_x,l1_y,…,lN_x,lN_y and one\n"
             "row per image, ROW naming one by its image column (e.g. 001), or an ISBI\n"
             "text file with one x,y line per landmark; coordinates are pixels of IMAGE.\n"
             "\n"
             "Example:\n  hyatt show 001.jpg --landmarks senior_px.csv:001 "
             "--landmarks junior_px.csv:001 --out overlay.png"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;

  if (argc != 2)
    return hy_cli_usage_error(CMD, "%s", argc < 2 ? _("no IMAGE given") : _("more than one IMAGE given"));
  if (!out) return hy_cli_usage_error(CMD, _("--out PNG is required"));
  if (max_size < 0 || (max_size > 0 && max_size < 16))
    return hy_cli_usage_error(CMD, _("--max-size must be at least 16 pixels"));
  if (count < 0 || count > HY_LANDMARKS_MAX)
    return hy_cli_usage_error(CMD, _("--count must be between 1 and %d"), HY_LANDMARKS_MAX);
  int n_sources = specs ? (int)g_strv_length(specs) : 0;
  if (n_sources > HY_OVERLAY_MAX_LAYERS)
    return hy_cli_usage_error(CMD, _("--landmarks given %d times, at most %d"), n_sources,
                              HY_OVERLAY_MAX_LAYERS);
  const char *image_path = argv[1];
  int status = check_out_folder(out);
  if (status) return status;

  source src[HY_OVERLAY_MAX_LAYERS] = {0};
  HyOverlayLayer layers[HY_OVERLAY_MAX_LAYERS] = {0};
  hy_image img = {0};
  cairo_surface_t *surface = NULL;
  for (int i = 0; i < n_sources && !status; i++) {
    hy_landmark_source_split(specs[i], &src[i].file, &src[i].row);
    int expect = count ? count : i > 0 ? src[0].n : 0;
    status = load_source(&src[i], image_path, expect);
    if (!status && count && src[i].n != count)
      status = hy_cli_error(CMD, _("%s has %d landmarks, not %d as --count says"),
                            src[i].label, src[i].n, count);
    if (!status && i > 0 && src[i].n != src[0].n)
      status = hy_cli_error(CMD, _("landmark counts differ: %s has %d, %s has %d"),
                            src[0].label, src[0].n, src[i].label, src[i].n);
    layers[i] = (HyOverlayLayer){src[i].label, src[i].points, src[i].n};
  }
  if (!status) {
    g_autoptr(GError) error = NULL;
    HyImageMeta meta;
    if (!hy_image_file_load(image_path, &img, &meta, &error))
      status = hy_cli_error(CMD, "%s", error->message);
    else if (meta.window_width > 0)
      hy_image_apply_window(&img, meta.window_center, meta.window_width);
  }
  if (!status) {
    for (int i = 0; i < n_sources; i++) warn_outside(&src[i], &img);
    g_autoptr(GError) error = NULL;
    surface = hy_overlay_render(&img, max_size, layers, n_sources, &error);
    if (!surface || !hy_overlay_save_png(surface, out, &error))
      status = hy_cli_error(CMD, "%s", error->message);
  }
  if (surface) cairo_surface_destroy(surface);
  hy_image_free(&img);
  for (int i = 0; i < n_sources; i++) source_clear(&src[i]);
  return status;
}
