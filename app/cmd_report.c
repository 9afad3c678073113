/* `hyatt report ANNOTATION --out report.pdf [--image IMAGE] [--set SET]
 *  [--spacing MM]`: a one-page PDF of one image's landmarks and
 * measurements (report.h). The image is --image, else the annotation's
 * name without .hyatt.json, else the file the annotation names beside it. */
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "annotation.h"
#include "cli.h"
#include "config.h"
#include "image_file.h"
#include "report.h"

#define CMD "report"

static char *find_image(const char *annotation, const HyAnnotation *a) {
  if (g_str_has_suffix(annotation, HY_ANNOTATION_SUFFIX)) {
    char *path = g_strndup(annotation, strlen(annotation) - strlen(HY_ANNOTATION_SUFFIX));
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) return path;
    g_free(path);
  }
  g_autofree char *dir = g_path_get_dirname(annotation);
  return g_build_filename(dir, a->image_file, NULL);
}

int hy_cmd_report(int argc, char **argv) {
  g_autofree char *out = NULL, *image = NULL, *set_opt = NULL, *spacing_opt = NULL;
  const GOptionEntry entries[] = {
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("The PDF to write (required)"), N_("FILE")},
    {"image", 0, 0, G_OPTION_ARG_FILENAME, &image,
     N_("The annotated image (default: beside the annotation)"), N_("IMAGE")},
    {"set", 0, 0, G_OPTION_ARG_STRING, &set_opt,
     N_("Landmark set: a name or a definition file (default: the annotation's)"), N_("SET")},
    {"spacing", 0, 0, G_OPTION_ARG_STRING, &spacing_opt,
     N_("Pixel spacing in mm per pixel, over the annotation's"), N_("MM")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("ANNOTATION"));
  g_option_context_set_summary(
      ctx, _("Writes a one-page PDF report: the image with its landmarks, the measurements\n"
             "with their normal ranges and classes, the spacing, the model and the\n"
             "correction state."));
  g_option_context_set_description(
      ctx, _("Example:\n  hyatt report 151.jpg.hyatt.json --out 151-report.pdf"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  if (argc != 2)
    return hy_cli_usage_error(CMD, "%s", argc < 2 ? _("no ANNOTATION given")
                                                  : _("more than one ANNOTATION given"));
  if (!out) return hy_cli_usage_error(CMD, "%s", _("--out FILE is required"));
  double spacing = 0;
  if (!hy_cli_spacing_option(CMD, spacing_opt, &spacing)) return HY_EXIT_USAGE;
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = NULL;
  if (set_opt && !(set = hy_landmark_set_new_from_spec(set_opt, &error)))
    return hy_cli_error(CMD, "%s", error->message);
  g_autoptr(HyAnnotation) a = hy_annotation_load(argv[1], set, &error);
  if (!a) return hy_cli_error(CMD, "%s", error->message);
  if (!set && !(set = hy_landmark_set_new_named(a->landmark_set, &error)))
    return hy_cli_error(CMD, "%s", error->message);
  if (a->n_points != hy_landmark_set_get_count(set))
    return hy_cli_error(CMD, _("%s has %d landmarks, the landmark set %s has %d"), argv[1],
                        a->n_points, hy_landmark_set_get_name(set), hy_landmark_set_get_count(set));
  if (spacing > 0) {
    a->spacing_mm = spacing;
    a->spacing_source = HY_SPACING_USER;
  }
  g_autofree char *image_path = image ? g_strdup(image) : find_image(argv[1], a);
  hy_image img = {0};
  HyImageMeta meta;
  if (!hy_image_file_load(image_path, &img, &meta, &error))
    return hy_cli_error(CMD, "%s", error->message);
  if (img.width != a->width || img.height != a->height) {
    int w = img.width, h = img.height;
    hy_image_free(&img);
    return hy_cli_error(CMD, _("%s is %d x %d pixels, the annotation is for %d x %d"), image_path,
                        w, h, a->width, a->height);
  }
  if (meta.window_width > 0) hy_image_apply_window(&img, meta.window_center, meta.window_width);
  gboolean ok = hy_report_write_pdf(a, set, &img, out, &error);
  hy_image_free(&img);
  if (!ok) return hy_cli_error(CMD, "%s", error->message);
  g_autofree char *disp = g_filename_display_name(out);
  printf(_("%s: report of %s\n"), disp, a->image_file);
  return HY_EXIT_OK;
}
