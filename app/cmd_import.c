/* `hyatt import --from slicer|coco|csv|isbi FILE… [--set SET]
 *  [--images DIR] [--spacing MM] [--out DIR] [--replace]`: reads landmarks
 * written by another tool (exchange.h) into annotations, one
 * `<DIR>/<image>.hyatt.json` per image (DESIGN §4.2). Each image is looked
 * up in --images (default: FILE's folder) by the name the file gives, with
 * the usual extensions tried when that has none; its size and SHA-256 go
 * into the annotation. An existing annotation is kept unless --replace. */
#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "annotation.h"
#include "cli.h"
#include "config.h"
#include "exchange.h"
#include "image_file.h"

#define CMD "import"

static const char *const extensions[] = {"", ".png", ".jpg", ".jpeg", ".bmp", ".dcm", ".PNG",
                                         ".JPG", ".JPEG", ".BMP", ".DCM"};

/* The image `name` in dir, or NULL. */
static char *find_image(const char *dir, const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(extensions); i++) {
    g_autofree char *file = g_strconcat(name, extensions[i], NULL);
    char *path = g_build_filename(dir, file, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) return path;
    g_free(path);
  }
  return NULL;
}

/* Fills a's image fields from the image file it names; spacing: --spacing,
 * else the imported file's, else the image's own (DICOM), else the
 * landmark set's default. */
static gboolean attach_image(HyAnnotation *a, HyLandmarkSet *set, const char *images,
                             double spacing, char **image_path, GError **error) {
  g_autofree char *path = find_image(images, a->image_file);
  if (!path) {
    g_autofree char *disp = g_filename_display_name(images);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                _("no image '%s' in %s (name its folder with --images)"), a->image_file, disp);
    return FALSE;
  }
  hy_image img = {0};
  HyImageMeta meta;
  if (!hy_image_file_load(path, &img, &meta, error)) return FALSE;
  int w = img.width, h = img.height;
  hy_image_free(&img);
  if ((a->width && a->width != w) || (a->height && a->height != h)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                _("%s is %d x %d pixels, the imported landmarks are for %d x %d"), path, w, h,
                a->width, a->height);
    return FALSE;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error)) return FALSE;
  g_free(a->sha256);
  a->sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
  g_free(a->image_file);
  a->image_file = g_path_get_basename(path);
  a->width = w, a->height = h;
  if (spacing > 0) {
    a->spacing_mm = spacing;
    a->spacing_source = HY_SPACING_USER;
  } else if (!(a->spacing_mm > 0) && meta.spacing_mm > 0) {
    a->spacing_mm = meta.spacing_mm;
    a->spacing_source = meta.spacing_source;
  } else if (!(a->spacing_mm > 0)) {
    g_autofree hy_point *pts = g_new(hy_point, (gsize)a->n_points);
    for (int k = 0; k < a->n_points; k++) pts[k] = (hy_point){a->points[k].x, a->points[k].y};
    const char *why = NULL;
    if (hy_landmark_set_default_spacing(set, pts, a->n_points, &a->spacing_mm, &why))
      a->spacing_source = HY_SPACING_DATASET;
    else
      a->spacing_mm = 0;
  }
  *image_path = g_steal_pointer(&path);
  return TRUE;
}

static int import_file(HyExchangeFormat format, const char *file, HyLandmarkSet *set,
                       const char *images_opt, const char *out, double spacing, gboolean replace) {
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(file, &data, &len, &error)) return hy_cli_error(CMD, "%s", error->message);
  g_autofree char *disp = g_filename_display_name(file);
  g_autoptr(GPtrArray) all = hy_exchange_read(format, data, len, disp, set, spacing, &error);
  if (!all) return hy_cli_error(CMD, "%s", error->message);
  g_autofree char *folder = g_path_get_dirname(file);
  const char *images = images_opt ? images_opt : folder;
  for (guint i = 0; i < all->len; i++) {
    HyAnnotation *a = all->pdata[i];
    g_autofree char *image_path = NULL;
    if (!attach_image(a, set, images, spacing, &image_path, &error))
      return hy_cli_error(CMD, "%s: %s", disp, error->message);
    g_autofree char *dir = out ? g_strdup(out) : g_path_get_dirname(image_path);
    g_autofree char *name = g_strconcat(a->image_file, HY_ANNOTATION_SUFFIX, NULL);
    g_autofree char *target = g_build_filename(dir, name, NULL);
    g_autofree char *tdisp = g_filename_display_name(target);
    if (!replace && g_file_test(target, G_FILE_TEST_EXISTS))
      return hy_cli_error(CMD, _("%s exists; it was kept (--replace overwrites it)"), tdisp);
    if (g_mkdir_with_parents(dir, 0777) != 0 || !hy_annotation_save(a, target, &error))
      return hy_cli_error(CMD, "%s: %s", tdisp, error ? error->message : g_strerror(errno));
    int placed = 0;
    for (int k = 0; k < a->n_points; k++) placed += a->points[k].state != HY_LANDMARK_ABSENT;
    if (a->spacing_mm > 0)
      printf(_("%s: %d of %d landmarks, spacing %g mm %s\n"), tdisp, placed, a->n_points,
             a->spacing_mm, hy_spacing_source_describe(a->spacing_source));
    else
      printf(_("%s: %d of %d landmarks, no pixel spacing (give one with --spacing)\n"), tdisp,
             placed, a->n_points);
  }
  return HY_EXIT_OK;
}

int hy_cmd_import(int argc, char **argv) {
  g_autofree char *from = NULL, *set_opt = NULL, *images = NULL, *out = NULL, *spacing_opt = NULL;
  gboolean replace = FALSE;
  const GOptionEntry entries[] = {
    {"from", 0, 0, G_OPTION_ARG_STRING, &from, N_("Format: slicer, coco, csv or isbi (required)"),
     N_("FORMAT")},
    {"set", 0, 0, G_OPTION_ARG_STRING, &set_opt,
     N_("Landmark set: a name or a definition file (default isbi2015)"), N_("SET")},
    {"images", 0, 0, G_OPTION_ARG_FILENAME, &images,
     N_("Folder of the images (default: the file's folder)"), N_("DIR")},
    {"spacing", 0, 0, G_OPTION_ARG_STRING, &spacing_opt,
     N_("Pixel spacing in mm per pixel, over the file's own"), N_("MM")},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
     N_("Folder for the annotations (default: each image's folder)"), N_("DIR")},
    {"replace", 0, 0, G_OPTION_ARG_NONE, &replace, N_("Overwrite existing annotations"), NULL},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("FILE…"));
  g_option_context_set_summary(
      ctx, _("Reads landmarks from 3D Slicer markups, COCO keypoints JSON, CSV or ISBI 2015\n"
             "text and writes an annotation IMAGE.hyatt.json for each image."));
  g_option_context_set_description(
      ctx, _("Example:\n  hyatt import --from coco --images RawImage/Test1Data keypoints.json"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  HyExchangeFormat format;
  if (!from || !hy_exchange_format_from_string(from, &format))
    return hy_cli_usage_error(CMD, "%s", _("--from must be slicer, coco, csv or isbi"));
  if (argc < 2) return hy_cli_usage_error(CMD, "%s", _("no FILE given"));
  double spacing = 0;
  if (!hy_cli_spacing_option(CMD, spacing_opt, &spacing)) return HY_EXIT_USAGE;
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_from_spec(set_opt ? set_opt : "isbi2015",
                                                               &error);
  if (!set) return hy_cli_error(CMD, "%s", error->message);
  for (int i = 1; i < argc; i++) {
    int status = import_file(format, argv[i], set, images, out, spacing, replace);
    if (status) return status;
  }
  return HY_EXIT_OK;
}
