/* 3D Slicer markups `.mrk.json` (exchange.h; Slicer's
 * Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json). */
#include <glib/gi18n.h>
#include <math.h>

#include "exchange-private.h"
#include "format_json.h"

#define SCHEMA "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/" \
               "Markups/Resources/Schema/markups-schema-v1.0.3.json#"

static void add_doubles(JsonBuilder *b, const char *name, const double *v, int n) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) json_builder_add_double_value(b, v[i]);
  json_builder_end_array(b);
}

static void write_point(JsonBuilder *b, const HyAnnotationPoint *p, int k, HyLandmarkSet *set,
                        double s) {
  static const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  gboolean placed = p->state != HY_LANDMARK_ABSENT && isfinite(p->x) && isfinite(p->y);
  double pos[3] = {placed ? p->x * s : 0, placed ? p->y * s : 0, 0};
  g_autofree char *id = g_strdup_printf("%d", k + 1);
  json_builder_begin_object(b);
  hy_json_add_string(b, "id", id);
  hy_json_add_string(b, "label", hy_landmark_set_get_abbreviation(set, k));
  hy_json_add_string(b, "description", hy_landmark_set_get_landmark_name(set, k));
  hy_json_add_string(b, "associatedNodeID", "");
  add_doubles(b, "position", pos, 3);
  add_doubles(b, "orientation", identity, 9);
  hy_json_add_bool(b, "selected", TRUE);
  hy_json_add_bool(b, "locked", p->state == HY_LANDMARK_CONFIRMED);
  hy_json_add_bool(b, "visibility", placed);
  hy_json_add_string(b, "positionStatus", placed ? "defined" : "undefined");
  hy_json_add_string(b, "hyattState", hy_landmark_state_to_string(p->state));
  if (isfinite(p->confidence)) {
    json_builder_set_member_name(b, "hyattConfidence");
    json_builder_add_double_value(b, p->confidence);
  }
  json_builder_end_object(b);
}

char *hy_format_slicer_write(const HyAnnotation *a, HyLandmarkSet *set, double spacing,
                             GError **error) {
  double s = spacing > 0 ? spacing : a->spacing_mm;
  HySpacingSource source = spacing > 0 ? HY_SPACING_USER : a->spacing_source;
  if (!(s > 0)) {
    g_set_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED,
                _("%s has no pixel spacing, and Slicer markups are in mm: give one with --spacing"),
                a->image_file);
    return NULL;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  hy_json_add_string(b, "@schema", SCHEMA);
  json_builder_set_member_name(b, "markups");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  hy_json_add_string(b, "type", "Fiducial");
  hy_json_add_string(b, "coordinateSystem", "LPS");
  hy_json_add_string(b, "coordinateUnits", "mm");
  hy_json_add_bool(b, "locked", FALSE);
  hy_json_add_bool(b, "fixedNumberOfControlPoints", TRUE);
  hy_json_add_string(b, "labelFormat", "%N-%d");
  json_builder_set_member_name(b, "hyatt");
  json_builder_begin_object(b);
  hy_json_add_string(b, "image", a->image_file);
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, a->width);
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, a->height);
  json_builder_set_member_name(b, "spacing_mm");
  json_builder_add_double_value(b, s);
  hy_json_add_string(b, "spacing_source", hy_spacing_source_to_string(source));
  hy_json_add_string(b, "landmark_set", a->landmark_set);
  if (a->model) hy_json_add_string(b, "model", a->model);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "controlPoints");
  json_builder_begin_array(b);
  for (int k = 0; k < a->n_points; k++) write_point(b, &a->points[k], k, set, s);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "display");
  json_builder_begin_object(b);
  hy_json_add_string(b, "glyphType", "Cross2D");
  hy_json_add_bool(b, "pointLabelsVisibility", TRUE);
  json_builder_end_object(b);
  json_builder_end_object(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return hy_format_json_text(root);
}

/* The landmark of control point i: its label as an abbreviation of the set
 * when every label is one, else its order. */
static int landmark_of(JsonArray *points, guint i, HyLandmarkSet *set, gboolean by_label) {
  if (!by_label) return (int)i;
  JsonObject *cp = json_array_get_object_element(points, i);
  return hy_landmark_set_find(set, json_object_get_string_member(cp, "label"));
}

static gboolean labels_name_landmarks(JsonArray *points, HyLandmarkSet *set) {
  guint n = json_array_get_length(points);
  g_autofree gboolean *seen = g_new0(gboolean, hy_landmark_set_get_count(set) + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(points, i);
    if (!JSON_NODE_HOLDS_OBJECT(node)) return FALSE;
    JsonNode *label = json_object_get_member(json_node_get_object(node), "label");
    if (!label || !JSON_NODE_HOLDS_VALUE(label) || json_node_get_value_type(label) != G_TYPE_STRING)
      return FALSE;
    int k = hy_landmark_set_find(set, json_node_get_string(label));
    if (k < 0 || seen[k]) return FALSE;
    seen[k] = TRUE;
  }
  return TRUE;
}

static HyAnnotation *read_markup(HyJsonReader *r, JsonObject *m, guint mi, const char *origin,
                                 HyLandmarkSet *set, double spacing, gboolean *ok) {
  g_autofree char *path = g_strdup_printf("markups[%u].", mi);
  const char *system = hy_json_string(r, m, path, "coordinateSystem", TRUE, ok);
  const char *units = hy_json_string(r, m, path, "coordinateUnits", TRUE, ok);
  JsonObject *extra = hy_json_object(r, m, path, "hyatt", TRUE, ok);
  JsonArray *points = hy_json_array(r, m, path, "controlPoints", FALSE, ok);
  g_autofree char *xpath = g_strconcat(path, "hyatt.", NULL);
  const char *image = hy_json_string(r, extra, xpath, "image", TRUE, ok);
  double w = hy_json_number(r, extra, xpath, "width", TRUE, 0, ok);
  double h = hy_json_number(r, extra, xpath, "height", TRUE, 0, ok);
  double file_spacing = hy_json_number(r, extra, xpath, "spacing_mm", TRUE, 0, ok);
  const char *source = hy_json_string(r, extra, xpath, "spacing_source", TRUE, ok);
  if (!*ok) return NULL;
  gboolean ras = system && !g_strcmp0(system, "RAS");
  if (system && !ras && g_strcmp0(system, "LPS")) {
    hy_format_fail(r->error, origin, "coordinateSystem", _("neither LPS nor RAS"));
    return *ok = FALSE, NULL;
  }
  double unit = units && !g_strcmp0(units, "um") ? 1e-3 : 1;
  if (units && unit == 1 && g_strcmp0(units, "mm")) {
    hy_format_fail(r->error, origin, "coordinateUnits", _("neither mm nor um"));
    return *ok = FALSE, NULL;
  }
  double s = spacing > 0 ? spacing : file_spacing;
  if (!(s > 0)) {
    g_set_error(r->error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_INVALID,
                _("%s: positions are in mm and the file gives no pixel spacing: give one with --spacing"),
                origin);
    return *ok = FALSE, NULL;
  }
  if (w < 0 || h < 0 || w > 1 << 20 || h > 1 << 20) {
    hy_format_fail(r->error, origin, xpath, _("width or height out of range"));
    return *ok = FALSE, NULL;
  }
  int count = hy_landmark_set_get_count(set);
  guint n = json_array_get_length(points);
  gboolean by_label = labels_name_landmarks(points, set);
  if (!by_label && (int)n != count) {
    g_autofree char *what = g_strdup_printf(
        _("%u control points whose labels are not the set's abbreviations, and not %d of them"),
        n, count);
    hy_format_fail(r->error, origin, "controlPoints", what);
    return *ok = FALSE, NULL;
  }
  g_autofree char *stem = NULL;
  if (!image) {
    const char *name = hy_json_string(r, m, path, "name", TRUE, ok);
    image = name ? name : (stem = g_path_get_basename(origin));
  }
  g_autoptr(HyAnnotation) a = hy_format_new_annotation(image, set);
  a->width = (int)w, a->height = (int)h;
  a->spacing_mm = s;
  a->spacing_source = spacing > 0 ? HY_SPACING_USER : HY_SPACING_FILE;
  if (spacing <= 0 && source && !hy_spacing_source_from_string(source, &a->spacing_source)) {
    hy_format_fail(r->error, origin, "hyatt.spacing_source", _("unknown source"));
    return *ok = FALSE, NULL;
  }
  for (guint i = 0; i < n && *ok; i++) {
    g_autofree char *cpath = g_strdup_printf("%scontrolPoints[%u].", path, i);
    JsonNode *node = json_array_get_element(points, i);
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
      hy_format_fail(r->error, origin, cpath, _("not an object"));
      return *ok = FALSE, NULL;
    }
    JsonObject *cp = json_node_get_object(node);
    HyAnnotationPoint *p = &a->points[landmark_of(points, i, set, by_label)];
    JsonArray *pos = hy_json_array(r, cp, cpath, "position", FALSE, ok);
    const char *status = hy_json_string(r, cp, cpath, "positionStatus", TRUE, ok);
    const char *state = hy_json_string(r, cp, cpath, "hyattState", TRUE, ok);
    double conf = hy_json_number(r, cp, cpath, "hyattConfidence", TRUE, NAN, ok);
    if (!*ok) break;
    g_autofree char *ppath = g_strconcat(cpath, "position", NULL);
    double x = hy_json_element_number(r, pos, ppath, 0, ok);
    double y = hy_json_element_number(r, pos, ppath, 1, ok);
    if (!*ok) break;
    /* hand-written files without positionStatus are placed points */
    gboolean defined = !status || !g_strcmp0(status, "defined");
    p->state = defined ? HY_LANDMARK_CONFIRMED : HY_LANDMARK_ABSENT;
    if (state && (!hy_landmark_state_from_string(state, &p->state) ||
                  (p->state == HY_LANDMARK_ABSENT && defined) ||
                  (!defined && (p->state == HY_LANDMARK_MOVED ||
                                p->state == HY_LANDMARK_CONFIRMED)))) {
      hy_format_fail(r->error, origin, cpath, _("hyattState unknown or not matching positionStatus"));
      return *ok = FALSE, NULL;
    }
    if (!isnan(conf) && (conf < 0 || conf > 1)) {
      hy_format_fail(r->error, origin, cpath, _("hyattConfidence not in [0, 1]"));
      return *ok = FALSE, NULL;
    }
    p->confidence = conf;
    if (defined) {
      p->x = (ras ? -x : x) * unit / s;
      p->y = (ras ? -y : y) * unit / s;
    }
  }
  return *ok ? g_steal_pointer(&a) : NULL;
}

GPtrArray *hy_format_slicer_read(const char *data, gsize len, const char *origin,
                                 HyLandmarkSet *set, double spacing, GError **error) {
  HyJsonReader r = {origin, error};
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *root = hy_json_parse_object(&r, parser, data, len);
  if (!root) return NULL;
  gboolean ok = TRUE;
  JsonArray *markups = hy_json_array(&r, root, "", "markups", FALSE, &ok);
  if (!ok) return NULL;
  GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)hy_annotation_free);
  for (guint i = 0; i < json_array_get_length(markups) && ok; i++) {
    g_autofree char *path = g_strdup_printf("markups[%u]", i);
    JsonNode *node = json_array_get_element(markups, i);
    JsonObject *m = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    if (!m) {
      hy_format_fail(error, origin, path, _("not an object"));
      ok = FALSE;
      break;
    }
    g_autofree char *prefix = g_strconcat(path, ".", NULL);
    const char *type = hy_json_string(&r, m, prefix, "type", FALSE, &ok);
    if (!ok || g_strcmp0(type, "Fiducial")) continue;
    HyAnnotation *a = read_markup(&r, m, i, origin, set, spacing, &ok);
    if (a) g_ptr_array_add(all, a);
  }
  if (ok && all->len == 0) {
    hy_format_fail(error, origin, "markups", _("no Fiducial list"));
    ok = FALSE;
  }
  if (!ok) g_clear_pointer(&all, g_ptr_array_unref);
  return all;
}
