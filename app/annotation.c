#include "annotation.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "fileio.h"
#include "format_json.h"

G_DEFINE_QUARK(hy-annotation-error-quark, hy_annotation_error)

static const char *const state_names[] = {"predicted", "moved", "confirmed", "absent"};

const char *hy_landmark_state_to_string(HyLandmarkState state) {
  g_return_val_if_fail(state <= HY_LANDMARK_ABSENT, NULL);
  return state_names[state];
}

gboolean hy_landmark_state_from_string(const char *s, HyLandmarkState *state) {
  for (guint i = 0; i < G_N_ELEMENTS(state_names); i++)
    if (!g_strcmp0(s, state_names[i])) {
      *state = (HyLandmarkState)i;
      return TRUE;
    }
  return FALSE;
}

HyAnnotation *hy_annotation_new(const char *image_file, int width, int height,
                                const char *landmark_set, int n_points) {
  g_return_val_if_fail(image_file && landmark_set && n_points >= 0, NULL);
  HyAnnotation *a = g_new0(HyAnnotation, 1);
  a->image_file = g_strdup(image_file);
  a->width = width;
  a->height = height;
  a->landmark_set = g_strdup(landmark_set);
  a->n_points = n_points;
  a->points = g_new0(HyAnnotationPoint, MAX(n_points, 1));
  for (int i = 0; i < n_points; i++) {
    HyAnnotationPoint *p = &a->points[i];
    p->name = g_strdup("");
    p->x = p->y = p->predicted_x = p->predicted_y = p->confidence = NAN;
  }
  return a;
}

HyAnnotation *hy_annotation_copy(const HyAnnotation *a) {
  g_return_val_if_fail(a, NULL);
  HyAnnotation *c = g_new0(HyAnnotation, 1);
  *c = *a;
  c->image_file = g_strdup(a->image_file);
  c->sha256 = g_strdup(a->sha256);
  c->landmark_set = g_strdup(a->landmark_set);
  c->model = g_strdup(a->model);
  c->created = g_strdup(a->created);
  c->modified = g_strdup(a->modified);
  c->points = g_new0(HyAnnotationPoint, MAX(a->n_points, 1));
  for (int i = 0; i < a->n_points; i++) {
    c->points[i] = a->points[i];
    c->points[i].name = g_strdup(a->points[i].name);
    c->points[i].model = g_strdup(a->points[i].model);
  }
  return c;
}

void hy_annotation_free(HyAnnotation *a) {
  if (!a) return;
  for (int i = 0; i < a->n_points; i++) {
    g_free(a->points[i].name);
    g_free(a->points[i].model);
  }
  g_free(a->points);
  g_free(a->image_file);
  g_free(a->sha256);
  g_free(a->landmark_set);
  g_free(a->model);
  g_free(a->created);
  g_free(a->modified);
  g_free(a);
}

gboolean hy_annotation_is_reviewed(const HyAnnotation *a) {
  g_return_val_if_fail(a, FALSE);
  for (int i = 0; i < a->n_points; i++)
    if (a->points[i].state != HY_LANDMARK_CONFIRMED && a->points[i].state != HY_LANDMARK_ABSENT)
      return FALSE;
  return TRUE;
}

double hy_annotation_mean_confidence(const HyAnnotation *a) {
  g_return_val_if_fail(a, NAN);
  double sum = 0;
  int n = 0;
  for (int i = 0; i < a->n_points; i++)
    if (!isnan(a->points[i].confidence)) {
      sum += a->points[i].confidence;
      n++;
    }
  return n ? sum / n : NAN;
}

char *hy_annotation_path_for_image(const char *image_path) {
  g_return_val_if_fail(image_path, NULL);
  return g_strconcat(image_path, HY_ANNOTATION_SUFFIX, NULL);
}

/* ---- loading ------------------------------------------------------------ */

typedef struct reader {
  const char *disp; /* borrowed: the file's display name */
  GError **error;   /* borrowed */
} reader;

static gboolean fail(reader *r, const char *field, const char *what) {
  g_autofree char *text = g_strdup_printf("%s: %s: %s", r->disp, field, what);
  /* one line, also when the file's strings (or json-glib quoting them)
   * bring line breaks */
  g_strdelimit(text, "\n\r\t\v\f", ' ');
  g_set_error_literal(r->error, HY_ANNOTATION_ERROR, HY_ANNOTATION_ERROR_INVALID, text);
  return FALSE;
}

static JsonNode *member(JsonObject *o, const char *name) {
  return o && json_object_has_member(o, name) ? json_object_get_member(o, name) : NULL;
}

static gboolean get_string(reader *r, JsonObject *o, const char *field, const char *name,
                           gboolean nullable, char **out) {
  JsonNode *n = member(o, name);
  g_autofree char *path = g_strconcat(field, name, NULL);
  if ((!n || JSON_NODE_HOLDS_NULL(n)) && nullable) return TRUE;
  if (!n) return fail(r, path, _("missing"));
  if (json_node_get_value_type(n) != G_TYPE_STRING) return fail(r, path, _("not a string"));
  g_free(*out);
  *out = g_strdup(json_node_get_string(n));
  return TRUE;
}

/* A finite number; null (NAN) only when nullable. */
static gboolean get_number(reader *r, JsonObject *o, const char *field, const char *name,
                           gboolean nullable, double *out) {
  JsonNode *n = member(o, name);
  g_autofree char *path = g_strconcat(field, name, NULL);
  if ((!n || JSON_NODE_HOLDS_NULL(n)) && nullable) {
    *out = NAN;
    return TRUE;
  }
  if (!n) return fail(r, path, _("missing"));
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE) return fail(r, path, _("not a number"));
  *out = json_node_get_double(n);
  if (!isfinite(*out)) return fail(r, path, _("not a finite number"));
  return TRUE;
}

static gboolean get_int(reader *r, JsonObject *o, const char *field, const char *name, int lo,
                        int hi, int *out) {
  JsonNode *n = member(o, name);
  g_autofree char *path = g_strconcat(field, name, NULL);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return fail(r, path, _("not an integer"));
  gint64 v = json_node_get_int(n);
  if (v < lo || v > hi) {
    /* the number apart: xgettext cannot see through G_GINT64_FORMAT */
    g_autofree char *number = g_strdup_printf("%" G_GINT64_FORMAT, v);
    /* TRANSLATORS: a number, then the range it should be in, e.g. "0 is not in 1..19" */
    g_autofree char *what = g_strdup_printf(_("%s is not in %d..%d"), number, lo, hi);
    return fail(r, path, what);
  }
  *out = (int)v;
  return TRUE;
}

/* Within one image size of the image: further out is no mouse slip. */
static gboolean check_coordinate(reader *r, const char *path, double v, int size) {
  if (isnan(v) || (v >= -0.5 - size && v <= size - 0.5 + size)) return TRUE;
  g_autofree char *what = g_strdup_printf(_("%g is far outside the image (0..%d)"), v, size);
  return fail(r, path, what);
}

static gboolean read_point(reader *r, JsonNode *node, int i, const HyAnnotation *a,
                           HyAnnotationPoint *p) {
  g_autofree char *field = g_strdup_printf("landmarks[%d].", i);
  if (!JSON_NODE_HOLDS_OBJECT(node)) return fail(r, field, _("not an object"));
  JsonObject *o = json_node_get_object(node);
  int index = 0;
  if (!get_int(r, o, field, "index", 1, a->n_points, &index)) return FALSE;
  if (index != i + 1) {
    g_autofree char *what = g_strdup_printf(_("%d where %d was expected"), index, i + 1);
    g_autofree char *path = g_strconcat(field, "index", NULL);
    return fail(r, path, what);
  }
  g_autofree char *state = NULL;
  if (!get_string(r, o, field, "name", FALSE, &p->name) ||
      !get_string(r, o, field, "state", FALSE, &state))
    return FALSE;
  if (!hy_landmark_state_from_string(state, &p->state)) {
    g_autofree char *path = g_strconcat(field, "state", NULL);
    g_autofree char *what = g_strdup_printf(_("unknown state '%s'"), state);
    return fail(r, path, what);
  }
  if (!get_number(r, o, field, "x", TRUE, &p->x) || !get_number(r, o, field, "y", TRUE, &p->y) ||
      !get_number(r, o, field, "predicted_x", TRUE, &p->predicted_x) ||
      !get_number(r, o, field, "predicted_y", TRUE, &p->predicted_y) ||
      !get_number(r, o, field, "confidence", TRUE, &p->confidence) ||
      !get_string(r, o, field, "model", TRUE, &p->model))
    return FALSE;
  g_autofree char *px = g_strconcat(field, "x", NULL), *py = g_strconcat(field, "y", NULL);
  if (isnan(p->x) != isnan(p->y)) return fail(r, px, _("x and y must both be null or numbers"));
  if ((p->state == HY_LANDMARK_MOVED || p->state == HY_LANDMARK_CONFIRMED) && isnan(p->x))
    return fail(r, px, _("a moved or confirmed landmark needs a position"));
  if (!isnan(p->confidence) && (p->confidence < 0 || p->confidence > 1)) {
    g_autofree char *path = g_strconcat(field, "confidence", NULL);
    return fail(r, path, _("not in [0, 1]"));
  }
  g_autofree char *ppx = g_strconcat(field, "predicted_x", NULL);
  g_autofree char *ppy = g_strconcat(field, "predicted_y", NULL);
  return check_coordinate(r, px, p->x, a->width) && check_coordinate(r, py, p->y, a->height) &&
         check_coordinate(r, ppx, p->predicted_x, a->width) &&
         check_coordinate(r, ppy, p->predicted_y, a->height);
}

static gboolean read_root(reader *r, JsonNode *root, HyLandmarkSet *set, HyAnnotation *a) {
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  if (!o) return fail(r, "/", _("not a JSON object"));
  g_autofree char *format = NULL;
  int version = 0;
  if (!get_string(r, o, "", "format", FALSE, &format)) return FALSE;
  if (g_strcmp0(format, HY_ANNOTATION_FORMAT)) return fail(r, "format", _("not a hyatt annotation"));
  if (!get_int(r, o, "", "version", 1, HY_ANNOTATION_FORMAT_VERSION, &version)) return FALSE;
  JsonNode *img = member(o, "image");
  if (!img || !JSON_NODE_HOLDS_OBJECT(img)) return fail(r, "image", _("not an object"));
  JsonObject *io = json_node_get_object(img);
  double spacing = NAN;
  if (!get_string(r, io, "image.", "file", FALSE, &a->image_file) ||
      !get_int(r, io, "image.", "width", 1, 1 << 20, &a->width) ||
      !get_int(r, io, "image.", "height", 1, 1 << 20, &a->height) ||
      !get_string(r, io, "image.", "sha256", TRUE, &a->sha256) ||
      !get_number(r, io, "image.", "spacing_mm", TRUE, &spacing))
    return FALSE;
  if (!isnan(spacing) && spacing <= 0) return fail(r, "image.spacing_mm", _("not positive"));
  if (spacing > HY_SPACING_MAX_MM) return fail(r, "image.spacing_mm", _("absurdly large"));
  a->spacing_mm = isnan(spacing) ? 0 : spacing;
  g_autofree char *source = NULL;
  if (!get_string(r, io, "image.", "spacing_source", TRUE, &source)) return FALSE;
  if (source && !hy_spacing_source_from_string(source, &a->spacing_source)) {
    g_autofree char *what = g_strdup_printf(_("unknown source '%s'"), source);
    return fail(r, "image.spacing_source", what);
  }
  if (!get_string(r, o, "", "landmark_set", FALSE, &a->landmark_set) ||
      !get_string(r, o, "", "model", TRUE, &a->model) ||
      !get_string(r, o, "", "created", TRUE, &a->created) ||
      !get_string(r, o, "", "modified", TRUE, &a->modified))
    return FALSE;
  if (set && g_strcmp0(a->landmark_set, hy_landmark_set_get_name(set))) {
    g_autofree char *what = g_strdup_printf(_("'%s', expected '%s'"), a->landmark_set,
                                            hy_landmark_set_get_name(set));
    return fail(r, "landmark_set", what);
  }
  JsonNode *marks = member(o, "landmarks");
  if (!marks || !JSON_NODE_HOLDS_ARRAY(marks)) return fail(r, "landmarks", _("not an array"));
  JsonArray *arr = json_node_get_array(marks);
  int n = (int)json_array_get_length(arr);
  if (n < 1) return fail(r, "landmarks", _("empty"));
  if (set && n != hy_landmark_set_get_count(set)) {
    g_autofree char *what = g_strdup_printf(_("%d landmarks, the set '%s' has %d"), n,
                                            a->landmark_set, hy_landmark_set_get_count(set));
    return fail(r, "landmarks", what);
  }
  a->n_points = n;
  a->points = g_new0(HyAnnotationPoint, n);
  for (int i = 0; i < n; i++)
    if (!read_point(r, json_array_get_element(arr, (guint)i), i, a, &a->points[i])) return FALSE;
  return TRUE;
}

HyAnnotation *hy_annotation_load_from_data(const char *data, gsize len, const char *origin,
                                           HyLandmarkSet *set, GError **error) {
  g_return_val_if_fail(data && origin, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  reader r = {origin, error};
  if (len > HY_ANNOTATION_MAX_BYTES) {
    fail(&r, "/", _("larger than 16 MiB"));
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) parse_error = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &parse_error)) {
    fail(&r, "/", parse_error->message);
    return NULL;
  }
  g_autoptr(HyAnnotation) a = g_new0(HyAnnotation, 1);
  if (!read_root(&r, json_parser_get_root(parser), set, a)) return NULL;
  return g_steal_pointer(&a);
}

HyAnnotation *hy_annotation_load(const char *path, HyLandmarkSet *set, GError **error) {
  g_return_val_if_fail(path, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  g_autofree char *disp = g_filename_display_name(path);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error)) return NULL;
  return hy_annotation_load_from_data(data, len, disp, set, error);
}

/* ---- saving ------------------------------------------------------------- */

char *hy_annotation_to_data(const HyAnnotation *a) {
  g_return_val_if_fail(a, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  hy_json_add_string(b, "format", HY_ANNOTATION_FORMAT);
  json_builder_set_member_name(b, "version");
  json_builder_add_int_value(b, HY_ANNOTATION_FORMAT_VERSION);
  json_builder_set_member_name(b, "image");
  json_builder_begin_object(b);
  hy_json_add_string(b, "file", a->image_file);
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, a->width);
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, a->height);
  hy_json_add_string(b, "sha256", a->sha256);
  hy_json_add_number(b, "spacing_mm", a->spacing_mm > 0 ? a->spacing_mm : NAN);
  hy_json_add_string(b, "spacing_source", hy_spacing_source_to_string(a->spacing_source));
  json_builder_end_object(b);
  hy_json_add_string(b, "landmark_set", a->landmark_set);
  hy_json_add_string(b, "model", a->model);
  hy_json_add_string(b, "created", a->created);
  hy_json_add_string(b, "modified", a->modified);
  json_builder_set_member_name(b, "landmarks");
  json_builder_begin_array(b);
  for (int i = 0; i < a->n_points; i++) {
    const HyAnnotationPoint *p = &a->points[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "index");
    json_builder_add_int_value(b, i + 1);
    hy_json_add_string(b, "name", p->name);
    hy_json_add_number(b, "x", p->x);
    hy_json_add_number(b, "y", p->y);
    hy_json_add_string(b, "state", hy_landmark_state_to_string(p->state));
    hy_json_add_number(b, "predicted_x", p->predicted_x);
    hy_json_add_number(b, "predicted_y", p->predicted_y);
    hy_json_add_number(b, "confidence", p->confidence);
    if (p->model) hy_json_add_string(b, "model", p->model);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  return g_strconcat(text, "\n", NULL);
}

static char *now_iso8601(void) {
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean hy_annotation_save(HyAnnotation *a, const char *path, GError **error) {
  g_return_val_if_fail(a && path, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  g_free(a->modified);
  a->modified = now_iso8601();
  if (!a->created) a->created = g_strdup(a->modified);
  g_autofree char *text = hy_annotation_to_data(a);
  /* the core's writer: temp beside path, fsync, rename; a kill leaves at
   * most its one temp, which the next save reuses (autosaves come often) */
  hy_error err = {0};
  if (hy_write_file_atomic(path, text, strlen(text), &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  return TRUE;
}

gboolean hy_annotation_keep_aside(const char *path, char **new_path, GError **error) {
  g_return_val_if_fail(path, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
  g_autofree char *target = g_strdup_printf("%s.damaged-%s", path, stamp);
  /* a second damaged file within the same second must not replace the first */
  for (int i = 2; g_file_test(target, G_FILE_TEST_EXISTS); i++) {
    g_free(target);
    target = g_strdup_printf("%s.damaged-%s-%d", path, stamp, i);
  }
  if (g_rename(path, target) != 0) {
    int e = errno;
    g_autofree char *disp = g_filename_display_name(path);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), _("cannot set %s aside: %s"),
                disp, g_strerror(e));
    return FALSE;
  }
  if (new_path) *new_path = g_steal_pointer(&target);
  return TRUE;
}
