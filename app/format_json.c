#include "format_json.h"

#include <glib/gi18n.h>
#include <math.h>

#include "exchange-private.h"

static void fail(HyJsonReader *r, const char *path, const char *name, const char *what,
                 gboolean *ok) {
  if (*ok) {
    g_autofree char *field = name ? g_strconcat(path, name, NULL) : g_strdup(path);
    hy_format_fail(r->error, r->origin, field, what);
  }
  *ok = FALSE;
}

JsonObject *hy_json_parse_object(HyJsonReader *r, JsonParser *parser, const char *data,
                                 gsize len) {
  g_autoptr(GError) local = NULL;
  gboolean ok = TRUE;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    /* json-glib quotes the bad token, line breaks and all: keep one line */
    g_strdelimit(local->message, "\r\n", ' ');
    fail(r, "/", NULL, local->message, &ok);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    fail(r, "/", NULL, _("not a JSON object"), &ok);
    return NULL;
  }
  return json_node_get_object(root);
}

static JsonNode *get(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                     gboolean optional, gboolean *ok) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (n && JSON_NODE_HOLDS_NULL(n)) n = NULL;
  if (!n && !optional) fail(r, path, name, _("missing"), ok);
  return n;
}

JsonObject *hy_json_object(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                           gboolean optional, gboolean *ok) {
  JsonNode *n = get(r, o, path, name, optional, ok);
  if (!n) return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(n)) {
    fail(r, path, name, _("not an object"), ok);
    return NULL;
  }
  return json_node_get_object(n);
}

JsonArray *hy_json_array(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                         gboolean optional, gboolean *ok) {
  JsonNode *n = get(r, o, path, name, optional, ok);
  if (!n) return NULL;
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    fail(r, path, name, _("not an array"), ok);
    return NULL;
  }
  return json_node_get_array(n);
}

const char *hy_json_string(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                           gboolean optional, gboolean *ok) {
  JsonNode *n = get(r, o, path, name, optional, ok);
  if (!n) return NULL;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    fail(r, path, name, _("not a string"), ok);
    return NULL;
  }
  return json_node_get_string(n);
}

static double node_number(HyJsonReader *r, JsonNode *n, const char *path, const char *name,
                          gboolean *ok) {
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  double v = t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double(n) : NAN;
  if (!isfinite(v)) fail(r, path, name, _("not a finite number"), ok);
  return v;
}

double hy_json_number(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                      gboolean optional, double fallback, gboolean *ok) {
  JsonNode *n = get(r, o, path, name, optional, ok);
  return n ? node_number(r, n, path, name, ok) : fallback;
}

double hy_json_element_number(HyJsonReader *r, JsonArray *a, const char *path, guint i,
                              gboolean *ok) {
  g_autofree char *field = g_strdup_printf("%s[%u]", path, i);
  if (i >= json_array_get_length(a)) {
    fail(r, field, NULL, _("missing"), ok);
    return NAN;
  }
  return node_number(r, json_array_get_element(a, i), field, NULL, ok);
}

void hy_json_add_string(JsonBuilder *b, const char *name, const char *v) {
  json_builder_set_member_name(b, name);
  if (v)
    json_builder_add_string_value(b, v);
  else
    json_builder_add_null_value(b);
}

void hy_json_add_number(JsonBuilder *b, const char *name, double v) {
  json_builder_set_member_name(b, name);
  if (isfinite(v))
    json_builder_add_double_value(b, v);
  else
    json_builder_add_null_value(b);
}

void hy_json_add_int(JsonBuilder *b, const char *name, gint64 v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v);
}

void hy_json_add_bool(JsonBuilder *b, const char *name, gboolean v) {
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, v);
}
