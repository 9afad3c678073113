/* `hyatt export --to slicer|coco|csv|isbi ANNOTATION… --out PATH
 *  [--spacing MM]`: writes annotations (DESIGN §4.2) in another tool's
 * format (exchange.h). COCO and CSV take all annotations into the one file
 * PATH; Slicer and ISBI text write one file per image: PATH itself for a
 * single annotation that is not a folder, else PATH/<image><extension>.
 * Every file is written atomically. */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "annotation.h"
#include "cli.h"
#include "config.h"
#include "exchange.h"
#include "fileio.h"
#include "landmark_source.h"

#define CMD "export"

static gboolean write_text(const char *path, const char *text, GError **error) {
  hy_error err = {0};
  if (hy_write_file_atomic(path, text, strlen(text), &err) == HY_OK) return TRUE;
  g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, err.msg);
  return FALSE;
}

int hy_cmd_export(int argc, char **argv) {
  g_autofree char *to = NULL, *out = NULL, *spacing_opt = NULL;
  const GOptionEntry entries[] = {
    {"to", 0, 0, G_OPTION_ARG_STRING, &to, N_("Format: slicer, coco, csv or isbi (required)"),
     N_("FORMAT")},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("The file, or folder, to write (required)"),
     N_("PATH")},
    {"spacing", 0, 0, G_OPTION_ARG_STRING, &spacing_opt,
     N_("Pixel spacing in mm per pixel, over the annotations' own"), N_("MM")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("ANNOTATION…"));
  g_option_context_set_summary(
      ctx, _("Writes annotations (IMAGE.hyatt.json) as 3D Slicer markups (.mrk.json, mm in\n"
             "LPS), COCO keypoints JSON, CSV (one row per image) or ISBI 2015 text."));
  g_option_context_set_description(
      ctx, _("COCO and CSV put every annotation in the file PATH; Slicer and ISBI text write\n"
             "one file per image, PATH/IMAGE.mrk.json or PATH/IMAGE.txt (PATH itself for a\n"
             "single annotation). Landmark states, confidences and the spacing with its\n"
             "source are kept where the format has room for them.\n"
             "\n"
             "Example:\n  hyatt export --to slicer 001.bmp.hyatt.json --out 001.mrk.json"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  HyExchangeFormat format;
  if (!to || !hy_exchange_format_from_string(to, &format))
    return hy_cli_usage_error(CMD, "%s", _("--to must be slicer, coco, csv or isbi"));
  if (!out) return hy_cli_usage_error(CMD, "%s", _("--out PATH is required"));
  if (argc < 2) return hy_cli_usage_error(CMD, "%s", _("no ANNOTATION given"));
  double spacing = 0;
  if (!hy_cli_spacing_option(CMD, spacing_opt, &spacing)) return HY_EXIT_USAGE;

  int n = argc - 1;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)hy_annotation_free);
  g_autoptr(HyLandmarkSet) set = NULL;
  g_autoptr(GError) error = NULL;
  for (int i = 0; i < n; i++) {
    HyAnnotation *a = hy_annotation_load(argv[i + 1], set, &error);
    if (!a) return hy_cli_error(CMD, "%s", error->message);
    g_ptr_array_add(all, a);
    if (!set && !(set = hy_landmark_set_new_named(a->landmark_set, &error)))
      return hy_cli_error(CMD, "%s", error->message);
    if (a->n_points != hy_landmark_set_get_count(set))
      return hy_cli_error(CMD, _("%s has %d landmarks, the landmark set %s has %d"),
                          argv[i + 1], a->n_points, a->landmark_set,
                          hy_landmark_set_get_count(set));
  }
  HyAnnotation **as = (HyAnnotation **)all->pdata;
  gboolean one_file = hy_exchange_format_holds_many(format) ||
                      (n == 1 && !g_file_test(out, G_FILE_TEST_IS_DIR));
  if (one_file) {
    g_autofree char *text = hy_exchange_write(format, as, n, set, spacing, &error);
    if (!text || !write_text(out, text, &error)) return hy_cli_error(CMD, "%s", error->message);
    g_autofree char *disp = g_filename_display_name(out);
    printf(ngettext("%s: %d image, format %s\n", "%s: %d images, format %s\n", (gulong)n), disp, n,
           to);
    return HY_EXIT_OK;
  }
  if (g_mkdir_with_parents(out, 0777) != 0) {
    g_autofree char *disp = g_filename_display_name(out);
    return hy_cli_error(CMD, _("cannot create folder %s: %s"), disp, g_strerror(errno));
  }
  for (int i = 0; i < n; i++) {
    g_autofree char *text = hy_exchange_write(format, &as[i], 1, set, spacing, &error);
    g_autofree char *stem = hy_landmark_source_stem(as[i]->image_file);
    g_autofree char *name = g_strconcat(stem, hy_exchange_format_extension(format), NULL);
    g_autofree char *path = g_build_filename(out, name, NULL);
    if (!text || !write_text(path, text, &error)) return hy_cli_error(CMD, "%s", error->message);
    g_autofree char *disp = g_filename_display_name(path);
    printf(_("%s: format %s\n"), disp, to);
  }
  return HY_EXIT_OK;
}
