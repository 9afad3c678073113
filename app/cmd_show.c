/* `hyatt show IMAGE --landmarks FILE[:ROW] [--landmarks FILE2[:ROW]]
 *  --out PNG [--max-size PX] [--count N]`: draws one or two landmark sets
 * over an image (overlay.h) and writes the PNG. FILE may be a Hyatt
 * annotation (<image>.hyatt.json, saved or corrected; --annotation FILE
 * says the same): its landmark states are drawn apart (predicted dashed,
 * moved plain, confirmed double; absent ones not at all, counted in the
 * legend). */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "annotation.h"
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
  HyOverlayMark *marks; /* owned, [n], or NULL: not an annotation */
  int n;
  int width, height; /* the image size an annotation is for, else 0 */
  gboolean annotation; /* given with --annotation */
} source;

static void source_clear(source *s) {
  g_free(s->file);
  g_free(s->row);
  g_free(s->label);
  g_free(s->points);
  g_free(s->marks);
  memset(s, 0, sizeof *s);
}

/* A Hyatt annotation by its name (`.json`) and first character. */
static gboolean is_annotation(const char *path) {
  if (!g_str_has_suffix(path, ".json") && !g_str_has_suffix(path, ".JSON")) return FALSE;
  FILE *f = g_fopen(path, "rb");
  if (!f) return TRUE; /* the loader says why it cannot be read */
  int c;
  while ((c = fgetc(f)) == ' ' || c == '\t' || c == '\n' || c == '\r') {}
  fclose(f);
  return c == '{';
}

static HyOverlayMark mark_of(HyLandmarkState state) {
  switch (state) {
  case HY_LANDMARK_PREDICTED: return HY_OVERLAY_MARK_DASHED;
  case HY_LANDMARK_CONFIRMED: return HY_OVERLAY_MARK_DOUBLE;
  case HY_LANDMARK_MOVED:
  case HY_LANDMARK_ABSENT: break;
  }
  return HY_OVERLAY_MARK_PLAIN;
}

static int load_annotation(source *s, const char *base_disp) {
  g_autoptr(GError) error = NULL;
  g_autoptr(HyAnnotation) a = hy_annotation_load(s->file, NULL, &error);
  if (!a) return hy_cli_error(CMD, "%s", error->message);
  s->n = a->n_points;
  s->width = a->width;
  s->height = a->height;
  s->points = g_new(hy_point, MAX(s->n, 1));
  s->marks = g_new(HyOverlayMark, MAX(s->n, 1));
  int absent = 0;
  for (int i = 0; i < s->n; i++) {
    const HyAnnotationPoint *p = &a->points[i];
    gboolean shown = p->state != HY_LANDMARK_ABSENT;
    absent += !shown;
    s->points[i] = shown ? (hy_point){p->x, p->y} : (hy_point){NAN, NAN};
    s->marks[i] = mark_of(p->state);
  }
  /* TRANSLATORS: the legend of an annotation drawn by hyatt show */
  g_autofree char *styles = g_strdup(_("dashed: predicted, plain: moved, double: confirmed"));
  s->label = absent
                 /* TRANSLATORS: file name, the marker styles, the number of absent landmarks */
                 ? g_strdup_printf(_("%s (%s; %d absent)"), base_disp, styles, absent)
                 : g_strdup_printf("%s (%s)", base_disp, styles);
  return HY_EXIT_OK;
}

/* Loads the points of s; expect = 0 or the count they must have. */
static int load_source(source *s, const char *image_path, int expect) {
  g_autofree char *file_disp = g_filename_display_name(s->file);
  g_autofree char *base_disp = g_filename_display_basename(s->file);
  hy_error err = {0};
  if (s->annotation || is_annotation(s->file)) {
    if (s->row)
      return hy_cli_error(CMD, _("%s is an annotation of one image, so it has no rows to choose with ':%s'"),
                          file_disp, s->row);
    return load_annotation(s, base_disp);
  }
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
  for (int i = 0; i < s->n; i++) {
    hy_point p = s->points[i];
    /* absent landmarks (not finite) are nowhere */
    outside += isfinite(p.x) && !(p.x >= -0.5 && p.x < img->width - 0.5 && p.y >= -0.5 &&
                                  p.y < img->height - 0.5);
  }
  if (outside)
    g_printerr(_("hyatt show: warning: %d of the %d landmarks of %s lie outside the %d x %d image\n"),
               outside, s->n, s->label, img->width, img->height);
}

/* An annotation is for one image size; points of another are not this image's. */
static int check_size(const source *s, const hy_image *img) {
  if (!s->width || (s->width == img->width && s->height == img->height)) return HY_EXIT_OK;
  return hy_cli_error(CMD, _("%s is for a %d × %d image, this one is %d × %d"), s->label,
                      s->width, s->height, img->width, img->height);
}

int hy_cmd_show(int argc, char **argv) {
  g_auto(GStrv) specs = NULL, annotations = NULL;
  g_autofree char *out = NULL;
  int max_size = 0, count = 0;
  const GOptionEntry entries[] = {
    {"landmarks", 'l', 0, G_OPTION_ARG_FILENAME_ARRAY, &specs,
     N_("A landmark CSV and row, an ISBI text file or a Hyatt annotation (twice to compare)"),
     N_("FILE[:ROW]")},
    {"annotation", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &annotations,
     N_("A Hyatt annotation (<image>.hyatt.json), as --landmarks takes it"), N_("FILE")},
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
             "text file with one x,y line per landmark, or a Hyatt annotation\n"
             "(<image>.hyatt.json) with its landmark states: predicted ones dashed,\n"
             "moved ones plain, confirmed ones doubled, absent ones left out;\n"
             "coordinates are pixels of IMAGE.\n"
             "\n"
             "Example:\n  hyatt show 001.jpg --landmarks senior_px.csv:001 "
             "--landmarks junior_px.csv:001 --out overlay.png\n"
             "  hyatt show 001.jpg --annotation 001.jpg.hyatt.json "
             "--landmarks senior_px.csv:001 --out check.png"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;

  if (argc != 2)
    return hy_cli_usage_error(CMD, "%s", argc < 2 ? _("no IMAGE given") : _("more than one IMAGE given"));
  if (!out) return hy_cli_usage_error(CMD, _("--out PNG is required"));
  if (max_size < 0 || (max_size > 0 && max_size < 16))
    return hy_cli_usage_error(CMD, _("--max-size must be at least 16 pixels"));
  if (count < 0 || count > HY_LANDMARKS_MAX)
    return hy_cli_usage_error(CMD, _("--count must be between 1 and %d"), HY_LANDMARKS_MAX);
  /* annotations first: the rings, with the reference as diamonds beside them */
  g_autoptr(GStrvBuilder) all = g_strv_builder_new();
  if (annotations) g_strv_builder_addv(all, (const char **)annotations);
  if (specs) g_strv_builder_addv(all, (const char **)specs);
  g_strfreev(specs);
  specs = g_strv_builder_end(all);
  int n_sources = (int)g_strv_length(specs);
  if (n_sources > HY_OVERLAY_MAX_LAYERS)
    return hy_cli_usage_error(CMD, _("--landmarks and --annotation given %d times, at most %d"), n_sources,
                              HY_OVERLAY_MAX_LAYERS);
  const char *image_path = argv[1];
  int status = check_out_folder(out);
  if (status) return status;

  source src[HY_OVERLAY_MAX_LAYERS] = {0};
  HyOverlayLayer layers[HY_OVERLAY_MAX_LAYERS] = {0};
  hy_image img = {0};
  cairo_surface_t *surface = NULL;
  for (int i = 0; i < n_sources && !status; i++) {
    src[i].annotation = annotations && i < (int)g_strv_length(annotations);
    if (src[i].annotation)
      src[i].file = g_strdup(specs[i]); /* never FILE:ROW */
    else
      hy_landmark_source_split(specs[i], &src[i].file, &src[i].row);
    int expect = count ? count : i > 0 ? src[0].n : 0;
    status = load_source(&src[i], image_path, expect);
    if (!status && count && src[i].n != count)
      status = hy_cli_error(CMD, _("%s has %d landmarks, not %d as --count says"),
                            src[i].label, src[i].n, count);
    if (!status && i > 0 && src[i].n != src[0].n)
      status = hy_cli_error(CMD, _("landmark counts differ: %s has %d, %s has %d"),
                            src[0].label, src[0].n, src[i].label, src[i].n);
    layers[i] = (HyOverlayLayer){src[i].label, src[i].points, src[i].n, src[i].marks};
  }
  if (!status) {
    g_autoptr(GError) error = NULL;
    HyImageMeta meta;
    if (!hy_image_file_load(image_path, &img, &meta, &error))
      status = hy_cli_error(CMD, "%s", error->message);
    else if (meta.window_width > 0)
      hy_image_apply_window(&img, meta.window_center, meta.window_width);
  }
  for (int i = 0; i < n_sources && !status; i++) status = check_size(&src[i], &img);
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
