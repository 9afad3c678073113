#include "datasetinfo.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "hyatt-datasets.h"

#define RESOURCE_PREFIX "/io/github/hyattstudio/HyattStudio/datasets/"

static gboolean fail(GError **error, const char *where, const char *what) {
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", where, what);
  return FALSE;
}

/* Copies member `name` (a string, if present) into dst of size cap. */
static gboolean get_string(JsonObject *o, const char *name, char *dst, size_t cap,
                           const char *where, GError **error) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n) return TRUE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    g_autofree char *what = g_strdup_printf(_("'%s' is not a string"), name);
    return fail(error, where, what);
  }
  const char *s = json_node_get_string(n);
  if (strlen(s) == 0 || strlen(s) >= cap) {
    g_autofree char *what = g_strdup_printf(_("'%s' is empty or longer than %zu bytes"), name, cap - 1);
    return fail(error, where, what);
  }
  memcpy(dst, s, strlen(s) + 1);
  return TRUE;
}

static gboolean get_number(JsonNode *n, double *out) {
  if (!n || !JSON_NODE_HOLDS_VALUE(n)) return FALSE;
  GType t = json_node_get_value_type(n);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) return FALSE;
  *out = json_node_get_double(n);
  return isfinite(*out);
}

static gboolean parse_annotators(hy_dataset_spec *spec, JsonArray *a, const char *where,
                                 GError **error) {
  guint n = json_array_get_length(a);
  if (n < 1 || n > HY_DATASET_MAX_ANNOTATORS) {
    g_autofree char *what = g_strdup_printf(_("'annotators' lists %u, not 1 to %d"), n,
                                            HY_DATASET_MAX_ANNOTATORS);
    return fail(error, where, what);
  }
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e)) return fail(error, where, _("an annotator is not an object"));
    JsonObject *o = json_node_get_object(e);
    hy_dataset_annotator *an = &spec->annotators[i];
    if (!json_object_has_member(o, "name") || !json_object_has_member(o, "file"))
      return fail(error, where, _("an annotator needs a 'name' and a 'file'"));
    if (!get_string(o, "name", an->name, sizeof an->name, where, error) ||
        !get_string(o, "file", an->file, sizeof an->file, where, error))
      return FALSE;
    if (strcmp(an->name, "mean") == 0)
      return fail(error, where, _("an annotator cannot be called 'mean'"));
  }
  spec->n_annotators = (int)n;
  return TRUE;
}

static gboolean parse_landmarks(hy_dataset_spec *spec, JsonArray *a, const char *where,
                                GError **error) {
  guint n = json_array_get_length(a);
  if (n < 1 || n > HY_DATASET_MAX_LANDMARKS) {
    g_autofree char *what = g_strdup_printf(_("'landmarks' lists %u names, not 1 to %d"), n,
                                            HY_DATASET_MAX_LANDMARKS);
    return fail(error, where, what);
  }
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    const char *s = JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING
                        ? json_node_get_string(e) : NULL;
    if (!s || !*s || strlen(s) >= HY_DATASET_NAME_LEN || strchr(s, ',') ||
        g_ascii_isspace(s[0]) || g_ascii_isspace(s[strlen(s) - 1])) {
      g_autofree char *what = g_strdup_printf(
          _("landmark name %u is not a string of 1 to %d bytes without commas or outer blanks"),
          i + 1, HY_DATASET_NAME_LEN - 1);
      return fail(error, where, what);
    }
    memcpy(spec->landmark_names[i], s, strlen(s) + 1);
  }
  spec->n_landmark_names = (int)n;
  return TRUE;
}

gboolean hy_dataset_spec_parse(hy_dataset_spec *spec, const char *json, gssize length,
                               const char *where, GError **error) {
  memset(spec, 0, sizeof *spec);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) parse_error = NULL;
  if (!json_parser_load_from_data(parser, json, length, &parse_error))
    return fail(error, where, parse_error->message);
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return fail(error, where, _("not a JSON object"));
  JsonObject *o = json_node_get_object(root);
  if (!get_string(o, "name", spec->name, sizeof spec->name, where, error) ||
      !get_string(o, "landmark_set", spec->landmark_set, sizeof spec->landmark_set, where, error) ||
      !get_string(o, "images", spec->images, sizeof spec->images, where, error))
    return FALSE;
  JsonNode *n = json_object_get_member(o, "spacing_mm");
  if (n && !(get_number(n, &spec->spacing_mm) && spec->spacing_mm > 0 && spec->spacing_mm <= 10))
    return fail(error, where, _("'spacing_mm' is not a number in (0, 10]"));
  n = json_object_get_member(o, "spacing_from_landmarks");
  if (n) {
    JsonObject *r = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    JsonNode *lm = r ? json_object_get_member(r, "landmarks") : NULL;
    JsonArray *pair = lm && JSON_NODE_HOLDS_ARRAY(lm) ? json_node_get_array(lm) : NULL;
    double a = 0, b = 0;
    if (!pair || json_array_get_length(pair) != 2 ||
        !get_number(json_array_get_element(pair, 0), &a) ||
        !get_number(json_array_get_element(pair, 1), &b) || a != floor(a) || b != floor(b) ||
        a < 1 || b < 1 || a > HY_DATASET_MAX_LANDMARKS || b > HY_DATASET_MAX_LANDMARKS ||
        !get_number(json_object_get_member(r, "distance_mm"), &spec->spacing_distance_mm) ||
        !(spec->spacing_distance_mm > 0))
      return fail(error, where,
                  _("'spacing_from_landmarks' needs \"landmarks\": [a, b] (1-based) and a "
                    "positive \"distance_mm\""));
    spec->spacing_landmarks[0] = (int)a;
    spec->spacing_landmarks[1] = (int)b;
  }
  n = json_object_get_member(o, "annotators");
  if (n && !(JSON_NODE_HOLDS_ARRAY(n) && parse_annotators(spec, json_node_get_array(n), where, error)))
    return error && *error ? FALSE : fail(error, where, _("'annotators' is not a list"));
  n = json_object_get_member(o, "landmarks");
  if (n && !(JSON_NODE_HOLDS_ARRAY(n) && parse_landmarks(spec, json_node_get_array(n), where, error)))
    return error && *error ? FALSE : fail(error, where, _("'landmarks' is not a list"));
  return TRUE;
}

gboolean hy_dataset_spec_for(hy_dataset_spec *spec, const char *dir, const char *descriptor,
                             char **source, GError **error) {
  memset(spec, 0, sizeof *spec);
  if (source) *source = NULL;
  g_autofree char *local = g_build_filename(dir, "dataset.json", NULL);
  const char *file = descriptor ? descriptor
                     : g_file_test(local, G_FILE_TEST_IS_REGULAR) ? local : NULL;
  if (file) {
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(file, &text, &len, error)) return FALSE;
    if (!hy_dataset_spec_parse(spec, text, (gssize)len, file, error)) return FALSE;
    if (source) *source = g_strdup(file);
    return TRUE;
  }
  g_autofree char *name = g_path_get_basename(dir);
  g_autofree char *path = g_strconcat(RESOURCE_PREFIX, name, ".json", NULL);
  g_autoptr(GBytes) bytes = g_resource_lookup_data(hy_datasets_get_resource(), path,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!bytes) return TRUE; /* unknown: detect everything */
  gsize len = 0;
  const char *text = g_bytes_get_data(bytes, &len);
  g_autofree char *where = g_strdup_printf("built-in %s.json", name);
  if (!hy_dataset_spec_parse(spec, text, (gssize)len, where, error)) return FALSE;
  if (source) *source = g_steal_pointer(&where);
  return TRUE;
}

gboolean hy_dataset_spec_from_options(hy_dataset_spec *spec, const char *dir,
                                      const char *descriptor, double spacing_mm, char **source,
                                      GError **error) {
  if (!hy_dataset_spec_for(spec, dir, descriptor, source, error)) return FALSE;
  if (spacing_mm > 0) {
    spec->spacing_mm = spacing_mm;
    spec->spacing_landmarks[0] = spec->spacing_landmarks[1] = 0;
  }
  return TRUE;
}
