#include "folder_spacing.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "fileio.h"
#include "format_json.h"

#define MAX_BYTES (64 * 1024)

static gboolean invalid(GError **error, const char *disp, const char *what) {
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", disp, what);
  return FALSE;
}

gboolean hy_folder_spacing_load(const char *folder, double *mm, GError **error) {
  g_return_val_if_fail(folder && mm, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  *mm = 0;
  g_autofree char *path = g_build_filename(folder, HY_FOLDER_SETTINGS_FILE, NULL);
  g_autofree char *disp = g_filename_display_name(path);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) return TRUE;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error)) return FALSE;
  if (len > MAX_BYTES) return invalid(error, disp, _("larger than 64 KiB"));
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) local = NULL;
  HyJsonReader r = {disp, &local};
  gboolean ok = TRUE;
  JsonObject *o = hy_json_parse_object(&r, parser, data, len);
  const char *format = o ? hy_json_string(&r, o, "/", "format", FALSE, &ok) : NULL;
  double version = o && ok ? hy_json_number(&r, o, "/", "version", FALSE, 0, &ok) : 0;
  double spacing = o && ok ? hy_json_number(&r, o, "/", "spacing_mm", TRUE, NAN, &ok) : NAN;
  if (!o || !ok) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (g_strcmp0(format, HY_FOLDER_SETTINGS_FORMAT) || version != HY_FOLDER_SETTINGS_VERSION)
    return invalid(error, disp, _("not a Hyatt Studio folder settings file of version 1"));
  if (spacing <= 0) return invalid(error, disp, _("spacing_mm: not positive"));
  *mm = isnan(spacing) ? 0 : spacing;
  return TRUE;
}

gboolean hy_folder_spacing_save(const char *folder, double mm, GError **error) {
  g_return_val_if_fail(folder, FALSE);
  g_return_val_if_fail(mm > 0 && isfinite(mm), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  g_autofree char *path = g_build_filename(folder, HY_FOLDER_SETTINGS_FILE, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  hy_json_add_string(b, "format", HY_FOLDER_SETTINGS_FORMAT);
  hy_json_add_int(b, "version", HY_FOLDER_SETTINGS_VERSION);
  hy_json_add_number(b, "spacing_mm", mm);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  g_autofree char *json = json_generator_to_data(gen, NULL);
  g_autofree char *text = g_strconcat(json, "\n", NULL);
  hy_error err = {0};
  if (hy_write_file_atomic(path, text, strlen(text), &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  return TRUE;
}
