/* COCO keypoints JSON (exchange.h; cocodataset.org "Data format", keypoint
 * detection): keypoints are pixel indices, as ours. */
#include <glib/gi18n.h>
#include <math.h>

#include "exchange-private.h"
#include "format_json.h"

static gboolean placed(const HyAnnotationPoint *p) {
  return p->state != HY_LANDMARK_ABSENT && isfinite(p->x) && isfinite(p->y);
}

static void write_annotation(JsonBuilder *b, const HyAnnotation *a, int id) {
  double x0 = HUGE_VAL, y0 = HUGE_VAL, x1 = -HUGE_VAL, y1 = -HUGE_VAL;
  int placed_n = 0;
  json_builder_begin_object(b);
  hy_json_add_int(b, "id", id);
  hy_json_add_int(b, "image_id", id);
  hy_json_add_int(b, "category_id", 1);
  json_builder_set_member_name(b, "keypoints");
  json_builder_begin_array(b);
  for (int k = 0; k < a->n_points; k++) {
    const HyAnnotationPoint *p = &a->points[k];
    gboolean on = placed(p);
    json_builder_add_double_value(b, on ? p->x : 0);
    json_builder_add_double_value(b, on ? p->y : 0);
    json_builder_add_int_value(b, on ? 2 : 0);
    if (!on) continue;
    placed_n++;
    x0 = MIN(x0, p->x), y0 = MIN(y0, p->y), x1 = MAX(x1, p->x), y1 = MAX(y1, p->y);
  }
  json_builder_end_array(b);
  hy_json_add_int(b, "num_keypoints", placed_n);
  /* the box around the points: COCO's evaluation scales by its area */
  json_builder_set_member_name(b, "bbox");
  json_builder_begin_array(b);
  double bbox[4] = {placed_n ? x0 : 0, placed_n ? y0 : 0, placed_n ? x1 - x0 : 0,
                    placed_n ? y1 - y0 : 0};
  for (int i = 0; i < 4; i++) json_builder_add_double_value(b, bbox[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "area");
  json_builder_add_double_value(b, bbox[2] * bbox[3]);
  hy_json_add_int(b, "iscrowd", 0);
  json_builder_set_member_name(b, "hyatt_states");
  json_builder_begin_array(b);
  for (int k = 0; k < a->n_points; k++)
    json_builder_add_string_value(b, hy_landmark_state_to_string(a->points[k].state));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "hyatt_confidence");
  json_builder_begin_array(b);
  for (int k = 0; k < a->n_points; k++)
    if (isfinite(a->points[k].confidence))
      json_builder_add_double_value(b, a->points[k].confidence);
    else
      json_builder_add_null_value(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
}

char *hy_format_coco_write(HyAnnotation *const *a, int n, HyLandmarkSet *set, double spacing,
                           GError **error) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "info");
  json_builder_begin_object(b);
  hy_json_add_string(b, "description", hy_landmark_set_get_title(set));
  hy_json_add_string(b, "version", "1.0");
  json_builder_end_object(b);
  json_builder_set_member_name(b, "images");
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) {
    double s = spacing > 0 ? spacing : a[i]->spacing_mm;
    json_builder_begin_object(b);
    hy_json_add_int(b, "id", i + 1);
    hy_json_add_string(b, "file_name", a[i]->image_file);
    hy_json_add_int(b, "width", a[i]->width);
    hy_json_add_int(b, "height", a[i]->height);
    json_builder_set_member_name(b, "hyatt_spacing_mm");
    if (s > 0)
      json_builder_add_double_value(b, s);
    else
      json_builder_add_null_value(b);
    hy_json_add_string(b, "hyatt_spacing_source",
            hy_spacing_source_to_string(s <= 0 ? HY_SPACING_UNKNOWN
                                        : spacing > 0 ? HY_SPACING_USER : a[i]->spacing_source));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "annotations");
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) write_annotation(b, a[i], i + 1);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "categories");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  hy_json_add_int(b, "id", 1);
  hy_json_add_string(b, "name", hy_landmark_set_get_name(set));
  hy_json_add_string(b, "supercategory", "landmarks");
  json_builder_set_member_name(b, "keypoints");
  json_builder_begin_array(b);
  for (int k = 0; k < hy_landmark_set_get_count(set); k++)
    json_builder_add_string_value(b, hy_landmark_set_get_abbreviation(set, k));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "skeleton");
  json_builder_begin_array(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return hy_format_json_text(root);
}

/* The image of annotation `image_id`: index into images, or -1. */
static int find_image(HyJsonReader *r, JsonArray *images, gint64 id, gboolean *ok) {
  for (guint i = 0; i < json_array_get_length(images) && *ok; i++) {
    JsonNode *n = json_array_get_element(images, i);
    g_autofree char *path = g_strdup_printf("images[%u].", i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    if (o && hy_json_number(r, o, path, "id", FALSE, 0, ok) == (double)id) return (int)i;
  }
  return -1;
}

/* Annotation i into a new HyAnnotation; NULL when it is of another category. */
static HyAnnotation *read_annotation(HyJsonReader *r, JsonObject *an, guint i, JsonArray *images,
                                     double category, HyLandmarkSet *set, gboolean *ok) {
  g_autofree char *path = g_strdup_printf("annotations[%u].", i);
  if (hy_json_number(r, an, path, "category_id", FALSE, 0, ok) != category || !*ok) return NULL;
  double image_id = hy_json_number(r, an, path, "image_id", FALSE, 0, ok);
  JsonArray *kp = hy_json_array(r, an, path, "keypoints", FALSE, ok);
  if (!*ok) return NULL;
  int count = hy_landmark_set_get_count(set);
  g_autofree char *kpath = g_strconcat(path, "keypoints", NULL);
  if ((int)json_array_get_length(kp) != 3 * count) {
    g_autofree char *what = g_strdup_printf(_("%u values, expected 3 per landmark (%d)"),
                                            json_array_get_length(kp), 3 * count);
    hy_format_fail(r->error, r->origin, kpath, what);
    return *ok = FALSE, NULL;
  }
  int img = find_image(r, images, (gint64)image_id, ok);
  if (img < 0) {
    if (*ok) hy_format_fail(r->error, r->origin, path, _("image_id names no image"));
    return *ok = FALSE, NULL;
  }
  JsonObject *io = json_array_get_object_element(images, (guint)img);
  g_autofree char *ipath = g_strdup_printf("images[%d].", img);
  const char *file = hy_json_string(r, io, ipath, "file_name", FALSE, ok);
  double w = hy_json_number(r, io, ipath, "width", TRUE, 0, ok);
  double h = hy_json_number(r, io, ipath, "height", TRUE, 0, ok);
  double s = hy_json_number(r, io, ipath, "hyatt_spacing_mm", TRUE, 0, ok);
  const char *src = hy_json_string(r, io, ipath, "hyatt_spacing_source", TRUE, ok);
  JsonArray *states = hy_json_array(r, an, path, "hyatt_states", TRUE, ok);
  JsonArray *conf = hy_json_array(r, an, path, "hyatt_confidence", TRUE, ok);
  if (!*ok) return NULL;
  if (w < 0 || h < 0 || w > 1 << 20 || h > 1 << 20 || s < 0) {
    hy_format_fail(r->error, r->origin, ipath, _("width, height or spacing out of range"));
    return *ok = FALSE, NULL;
  }
  g_autoptr(HyAnnotation) a = hy_format_new_annotation(file, set);
  a->width = (int)w, a->height = (int)h;
  a->spacing_mm = s;
  a->spacing_source = s > 0 ? HY_SPACING_FILE : HY_SPACING_UNKNOWN;
  if (s > 0 && src && !hy_spacing_source_from_string(src, &a->spacing_source)) {
    hy_format_fail(r->error, r->origin, ipath, _("unknown hyatt_spacing_source"));
    return *ok = FALSE, NULL;
  }
  if ((states && (int)json_array_get_length(states) != count) ||
      (conf && (int)json_array_get_length(conf) != count)) {
    hy_format_fail(r->error, r->origin, path, _("hyatt_states or hyatt_confidence: not one per landmark"));
    return *ok = FALSE, NULL;
  }
  for (int k = 0; k < count && *ok; k++) {
    HyAnnotationPoint *p = &a->points[k];
    double x = hy_json_element_number(r, kp, kpath, (guint)(3 * k), ok);
    double y = hy_json_element_number(r, kp, kpath, (guint)(3 * k + 1), ok);
    double v = hy_json_element_number(r, kp, kpath, (guint)(3 * k + 2), ok);
    if (!*ok) break;
    if (v != 0 && v != 1 && v != 2) {
      hy_format_fail(r->error, r->origin, kpath, _("a visibility other than 0, 1 or 2"));
      return *ok = FALSE, NULL;
    }
    p->state = v == 0 ? HY_LANDMARK_ABSENT : HY_LANDMARK_CONFIRMED;
    if (states) {
      JsonNode *sn = json_array_get_element(states, (guint)k);
      const char *st = JSON_NODE_HOLDS_VALUE(sn) && json_node_get_value_type(sn) == G_TYPE_STRING
                           ? json_node_get_string(sn) : NULL;
      if (!hy_landmark_state_from_string(st, &p->state) ||
          (v != 0 && p->state == HY_LANDMARK_ABSENT) ||
          (v == 0 && (p->state == HY_LANDMARK_MOVED || p->state == HY_LANDMARK_CONFIRMED))) {
        hy_format_fail(r->error, r->origin, path, _("hyatt_states: unknown or not matching the visibility"));
        return *ok = FALSE, NULL;
      }
    }
    if (conf) {
      JsonNode *cn = json_array_get_element(conf, (guint)k);
      if (!JSON_NODE_HOLDS_NULL(cn)) {
        g_autofree char *cpath = g_strconcat(path, "hyatt_confidence", NULL);
        p->confidence = hy_json_element_number(r, conf, cpath, (guint)k, ok);
        if (*ok && (p->confidence < 0 || p->confidence > 1)) {
          hy_format_fail(r->error, r->origin, cpath, _("not in [0, 1]"));
          return *ok = FALSE, NULL;
        }
      }
    }
    p->x = v == 0 ? NAN : x;
    p->y = v == 0 ? NAN : y;
  }
  return *ok ? g_steal_pointer(&a) : NULL;
}

GPtrArray *hy_format_coco_read(const char *data, gsize len, const char *origin,
                               HyLandmarkSet *set, GError **error) {
  HyJsonReader r = {origin, error};
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *root = hy_json_parse_object(&r, parser, data, len);
  if (!root) return NULL;
  gboolean ok = TRUE;
  JsonArray *images = hy_json_array(&r, root, "", "images", FALSE, &ok);
  JsonArray *anns = hy_json_array(&r, root, "", "annotations", FALSE, &ok);
  JsonArray *cats = hy_json_array(&r, root, "", "categories", FALSE, &ok);
  if (!ok) return NULL;
  /* the category whose keypoints are the set's landmarks, by count */
  double category = NAN;
  for (guint i = 0; i < json_array_get_length(cats) && ok; i++) {
    JsonNode *n = json_array_get_element(cats, i);
    g_autofree char *path = g_strdup_printf("categories[%u].", i);
    JsonObject *c = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    JsonArray *names = hy_json_array(&r, c, path, "keypoints", TRUE, &ok);
    double id = hy_json_number(&r, c, path, "id", FALSE, 0, &ok);
    if (ok && names && (int)json_array_get_length(names) == hy_landmark_set_get_count(set)) {
      category = id;
      break;
    }
  }
  if (!ok) return NULL;
  if (isnan(category)) {
    g_autofree char *what = g_strdup_printf(_("no category with %d keypoints (set '%s')"),
                                            hy_landmark_set_get_count(set),
                                            hy_landmark_set_get_name(set));
    hy_format_fail(error, origin, "categories", what);
    return NULL;
  }
  GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)hy_annotation_free);
  for (guint i = 0; i < json_array_get_length(anns) && ok; i++) {
    JsonNode *n = json_array_get_element(anns, i);
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
      g_autofree char *path = g_strdup_printf("annotations[%u]", i);
      hy_format_fail(error, origin, path, _("not an object"));
      ok = FALSE;
      break;
    }
    HyAnnotation *a = read_annotation(&r, json_node_get_object(n), i, images, category, set, &ok);
    if (a) g_ptr_array_add(all, a);
  }
  if (ok && all->len == 0) {
    hy_format_fail(error, origin, "annotations", _("none of the landmark set's category"));
    ok = FALSE;
  }
  if (!ok) g_clear_pointer(&all, g_ptr_array_unref);
  return all;
}
