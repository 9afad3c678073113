/* HyLandmarkSet: reads and validates a landmark set definition. */
#include "landmark_set.h"

#include "datadirs.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "config.h"

struct _HyLandmarkSet {
  GObject parent_instance;

  /* Owned References */
  GStringChunk *strings;          /* every const char * below points into it */
  char *origin;
  const char **names;             /* [count] */
  const char **abbreviations;     /* [count] */
  const char **colours;           /* [count], "#rrggbb" lower case */
  HyMeasurementDef *measurements; /* [n_measurements] */

  const char *name, *title, *description, *spacing_source;
  int version, count, n_measurements;
  double spacing_mm;              /* > 0: a fixed spacing */
  int ref_from, ref_to;           /* >= 0: a reference distance instead */
  double ref_mm;
  int facing_posterior, facing_anterior; /* -1: none */
};

G_DEFINE_TYPE(HyLandmarkSet, hy_landmark_set, G_TYPE_OBJECT)
G_DEFINE_QUARK(hy-landmark-set-error-quark, hy_landmark_set_error)

static void hy_landmark_set_finalize(GObject *object) {
  HyLandmarkSet *self = HY_LANDMARK_SET(object);
  g_free(self->names);
  g_free(self->abbreviations);
  g_free(self->colours);
  g_free(self->measurements);
  g_free(self->origin);
  if (self->strings) g_string_chunk_free(self->strings);
  G_OBJECT_CLASS(hy_landmark_set_parent_class)->finalize(object);
}

static void hy_landmark_set_class_init(HyLandmarkSetClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = hy_landmark_set_finalize;
}

static void hy_landmark_set_init(HyLandmarkSet *self) {
  self->strings = g_string_chunk_new(1024);
  self->ref_from = self->ref_to = -1;
  self->facing_posterior = self->facing_anterior = -1;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct parser {
  const char *origin; /* borrowed: the file name in messages */
  HyLandmarkSet *set; /* borrowed: being filled */
  GError **error;
} parser;

/* "origin: field: message"; returns FALSE. */
G_GNUC_PRINTF(3, 4)
static gboolean fail(parser *p, const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(p->error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID, "%s: %s: %s",
              p->origin, field, msg);
  return FALSE;
}

static const char *keep(parser *p, const char *s) {
  return s ? g_string_chunk_insert_const(p->set->strings, s) : NULL;
}

static const char *node_kind(JsonNode *node) {
  if (JSON_NODE_HOLDS_OBJECT(node)) return "an object";
  if (JSON_NODE_HOLDS_ARRAY(node)) return "an array";
  if (JSON_NODE_HOLDS_NULL(node)) return "null";
  GType t = json_node_get_value_type(node);
  if (t == G_TYPE_STRING) return "a string";
  if (t == G_TYPE_BOOLEAN) return "true or false";
  return "a number";
}

/* Refuses members of obj not in allowed (NULL-terminated). */
static gboolean only_keys(parser *p, JsonObject *obj, const char *path,
                          const char *const *allowed) {
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l; l = l->next) {
    if (!g_strv_contains(allowed, l->data)) {
      g_autofree char *list = g_strjoinv(", ", (char **)allowed);
      return fail(p, path, _("unknown key '%s' (known: %s)"), (const char *)l->data, list);
    }
  }
  return TRUE;
}

static char *member_path(const char *path, const char *key) {
  return path && *path ? g_strdup_printf("%s.%s", path, key) : g_strdup(key);
}

/* The member `key` of obj or NULL; a JSON null counts as absent. */
static JsonNode *member(JsonObject *obj, const char *key) {
  JsonNode *n = json_object_get_member(obj, key);
  return n && !JSON_NODE_HOLDS_NULL(n) ? n : NULL;
}

static gboolean get_string(parser *p, JsonObject *obj, const char *path, const char *key,
                           gboolean required, const char **out) {
  g_autofree char *field = member_path(path, key);
  JsonNode *n = member(obj, key);
  *out = NULL;
  if (!n) return required ? fail(p, field, _("missing")) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return fail(p, field, _("%s, expected a string"), node_kind(n));
  const char *s = json_node_get_string(n);
  if (required && !*s) return fail(p, field, _("empty"));
  *out = keep(p, s);
  return TRUE;
}

static gboolean is_integer(JsonNode *n) {
  return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
}

static gboolean is_number(JsonNode *n) {
  return JSON_NODE_HOLDS_VALUE(n) && (json_node_get_value_type(n) == G_TYPE_INT64 ||
                                      json_node_get_value_type(n) == G_TYPE_DOUBLE);
}

static gboolean get_int(parser *p, JsonObject *obj, const char *path, const char *key,
                        gint64 lo, gint64 hi, int *out) {
  g_autofree char *field = member_path(path, key);
  JsonNode *n = member(obj, key);
  if (!n) return fail(p, field, _("missing"));
  if (!is_integer(n)) return fail(p, field, _("%s, expected a whole number"), node_kind(n));
  gint64 v = json_node_get_int(n);
  if (v < lo || v > hi)
    return fail(p, field, _("%lld, expected %lld to %lld"), (long long)v, (long long)lo,
                (long long)hi);
  *out = (int)v;
  return TRUE;
}

/* An optional number: *present tells whether it was there. */
static gboolean get_number(parser *p, JsonObject *obj, const char *path, const char *key,
                           gboolean *present, double *out) {
  g_autofree char *field = member_path(path, key);
  JsonNode *n = member(obj, key);
  *present = n != NULL;
  if (!n) return TRUE;
  if (!is_number(n)) return fail(p, field, _("%s, expected a number"), node_kind(n));
  *out = json_node_get_double(n);
  return TRUE;
}

static gboolean get_object(parser *p, JsonNode *n, const char *field, JsonObject **out) {
  if (!JSON_NODE_HOLDS_OBJECT(n)) return fail(p, field, _("%s, expected an object"), node_kind(n));
  *out = json_node_get_object(n);
  return TRUE;
}

static gboolean get_array(parser *p, JsonObject *obj, const char *path, const char *key,
                          gboolean required, JsonArray **out) {
  g_autofree char *field = member_path(path, key);
  JsonNode *n = member(obj, key);
  *out = NULL;
  if (!n) return required ? fail(p, field, _("missing")) : TRUE;
  if (!JSON_NODE_HOLDS_ARRAY(n)) return fail(p, field, _("%s, expected an array"), node_kind(n));
  *out = json_node_get_array(n);
  return TRUE;
}

static gboolean valid_set_name(const char *s) {
  if (!*s || strlen(s) > 64) return FALSE;
  for (; *s; s++)
    if (!(g_ascii_islower(*s) || g_ascii_isdigit(*s) || *s == '_' || *s == '-')) return FALSE;
  return TRUE;
}

static gboolean parse_colour(const char *s, char out[8]) {
  if (strlen(s) != 7 || s[0] != '#') return FALSE;
  for (int i = 1; i < 7; i++)
    if (!g_ascii_isxdigit(s[i])) return FALSE;
  for (int i = 0; i < 8; i++) out[i] = g_ascii_tolower(s[i]);
  return TRUE;
}

static gboolean parse_landmarks(parser *p, JsonObject *root) {
  HyLandmarkSet *set = p->set;
  JsonArray *arr;
  if (!get_array(p, root, "", "landmarks", TRUE, &arr)) return FALSE;
  guint n = json_array_get_length(arr);
  if (n != (guint)set->count)
    return fail(p, "landmarks", _("%u landmarks, but count says %d"), n, set->count);
  set->names = g_new0(const char *, (gsize)set->count);
  set->abbreviations = g_new0(const char *, (gsize)set->count);
  set->colours = g_new0(const char *, (gsize)set->count);
  g_autofree int *item_of = g_new(int, (gsize)set->count); /* array item of each index */
  for (int i = 0; i < set->count; i++) item_of[i] = -1;
  static const char *const keys[] = {"index", "name", "abbreviation", "colour", NULL};
  for (guint k = 0; k < n; k++) {
    g_autofree char *path = g_strdup_printf("landmarks[%u]", k);
    JsonObject *lm;
    int index;
    const char *name, *abbreviation, *colour;
    if (!get_object(p, json_array_get_element(arr, k), path, &lm) ||
        !only_keys(p, lm, path, keys) || !get_int(p, lm, path, "index", 1, set->count, &index) ||
        !get_string(p, lm, path, "name", TRUE, &name) ||
        !get_string(p, lm, path, "abbreviation", TRUE, &abbreviation) ||
        !get_string(p, lm, path, "colour", TRUE, &colour))
      return FALSE;
    int i = index - 1;
    if (item_of[i] >= 0) {
      g_autofree char *field = member_path(path, "index");
      return fail(p, field, _("%d is also the index of landmarks[%d]"), index, item_of[i]);
    }
    for (int j = 0; j < set->count; j++) {
      if (set->abbreviations[j] && strcmp(set->abbreviations[j], abbreviation) == 0) {
        g_autofree char *field = member_path(path, "abbreviation");
        return fail(p, field, _("'%s' is also the abbreviation of landmarks[%d]"), abbreviation,
                    item_of[j]);
      }
    }
    char rgb[8];
    if (!parse_colour(colour, rgb)) {
      g_autofree char *field = member_path(path, "colour");
      return fail(p, field, _("'%s' is not a colour #rrggbb"), colour);
    }
    item_of[i] = (int)k;
    set->names[i] = name;
    set->abbreviations[i] = abbreviation;
    set->colours[i] = keep(p, rgb);
  }
  return TRUE; /* n == count, indices in range and unique: all are there */
}

/* A landmark reference: an abbreviation or a 1-based index. */
static gboolean parse_ref(parser *p, JsonNode *n, const char *field, int *out) {
  HyLandmarkSet *set = p->set;
  if (is_integer(n)) {
    gint64 v = json_node_get_int(n);
    if (v < 1 || v > set->count)
      return fail(p, field, _("no landmark %lld in this set of %d"), (long long)v, set->count);
    *out = (int)v - 1;
    return TRUE;
  }
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
    const char *s = json_node_get_string(n);
    *out = hy_landmark_set_find(set, s);
    return *out >= 0 ? TRUE : fail(p, field, _("no landmark '%s' in this set"), s);
  }
  return fail(p, field, _("%s, expected an abbreviation or a 1-based index"), node_kind(n));
}

static gboolean parse_ref_member(parser *p, JsonObject *obj, const char *path, const char *key,
                                 int *out) {
  g_autofree char *field = member_path(path, key);
  JsonNode *n = member(obj, key);
  return n ? parse_ref(p, n, field, out) : fail(p, field, _("missing"));
}

static gboolean parse_spacing(parser *p, JsonObject *root) {
  HyLandmarkSet *set = p->set;
  JsonNode *n = member(root, "spacing");
  if (!n) return TRUE;
  JsonObject *sp;
  static const char *const keys[] = {"mm_per_pixel", "reference", "source", NULL};
  gboolean has_fixed;
  double mm = 0;
  if (!get_object(p, n, "spacing", &sp) || !only_keys(p, sp, "spacing", keys) ||
      !get_string(p, sp, "spacing", "source", TRUE, &set->spacing_source) ||
      !get_number(p, sp, "spacing", "mm_per_pixel", &has_fixed, &mm))
    return FALSE;
  JsonNode *ref = member(sp, "reference");
  if (has_fixed == (ref != NULL))
    return fail(p, "spacing", _("expected either mm_per_pixel or reference"));
  if (has_fixed) {
    if (!(mm > 0) || !isfinite(mm))
      return fail(p, "spacing.mm_per_pixel", _("%g, expected a positive number"), mm);
    set->spacing_mm = mm;
    return TRUE;
  }
  JsonObject *r;
  static const char *const ref_keys[] = {"from", "to", "mm", NULL};
  gboolean has_mm;
  if (!get_object(p, ref, "spacing.reference", &r) ||
      !only_keys(p, r, "spacing.reference", ref_keys) ||
      !parse_ref_member(p, r, "spacing.reference", "from", &set->ref_from) ||
      !parse_ref_member(p, r, "spacing.reference", "to", &set->ref_to) ||
      !get_number(p, r, "spacing.reference", "mm", &has_mm, &set->ref_mm))
    return FALSE;
  if (!has_mm) return fail(p, "spacing.reference.mm", _("missing"));
  if (!(set->ref_mm > 0) || !isfinite(set->ref_mm))
    return fail(p, "spacing.reference.mm", _("%g, expected a positive number"), set->ref_mm);
  if (set->ref_from == set->ref_to)
    return fail(p, "spacing.reference", _("from and to are the same landmark"));
  return TRUE;
}

static gboolean parse_facing(parser *p, JsonObject *root) {
  JsonNode *n = member(root, "facing");
  if (!n) return TRUE;
  JsonObject *f;
  static const char *const keys[] = {"posterior", "anterior", NULL};
  if (!get_object(p, n, "facing", &f) || !only_keys(p, f, "facing", keys) ||
      !parse_ref_member(p, f, "facing", "posterior", &p->set->facing_posterior) ||
      !parse_ref_member(p, f, "facing", "anterior", &p->set->facing_anterior))
    return FALSE;
  if (p->set->facing_posterior == p->set->facing_anterior)
    return fail(p, "facing", _("posterior and anterior are the same landmark"));
  return TRUE;
}

/* kind, points and weight of one term, from obj (a term, or a measurement
 * written with a single term). */
static gboolean parse_term(parser *p, JsonObject *obj, const char *path, hy_measure_term *t) {
  const char *kind_name;
  if (!get_string(p, obj, path, "kind", TRUE, &kind_name)) return FALSE;
  int kind = hy_measure_kind_from_name(kind_name);
  if (kind < 0) {
    g_autofree char *field = member_path(path, "kind");
    GString *known = g_string_new(NULL);
    for (int k = 0; k < HY_MEASURE_N_KINDS; k++)
      g_string_append_printf(known, "%s%s", k ? ", " : "", hy_measure_kind_name(k));
    g_autofree char *list = g_string_free(known, FALSE);
    return fail(p, field, _("unknown kind '%s' (known: %s)"), kind_name, list);
  }
  t->kind = (hy_measure_kind)kind;
  gboolean has_weight;
  t->weight = 1;
  if (!get_number(p, obj, path, "weight", &has_weight, &t->weight)) return FALSE;
  if (!isfinite(t->weight) || t->weight == 0) {
    g_autofree char *field = member_path(path, "weight");
    return fail(p, field, _("%g, expected a non-zero number"), t->weight);
  }
  JsonArray *pts;
  if (!get_array(p, obj, path, "points", TRUE, &pts)) return FALSE;
  int need = hy_measure_kind_points(t->kind);
  if (json_array_get_length(pts) != (guint)need) {
    g_autofree char *field = member_path(path, "points");
    return fail(p, field, _("%u landmarks, %s needs %d"), json_array_get_length(pts),
                kind_name, need);
  }
  for (int i = 0; i < need; i++) {
    g_autofree char *field = g_strdup_printf("%s.points[%d]", path, i);
    if (!parse_ref(p, json_array_get_element(pts, (guint)i), field, &t->points[i]))
      return FALSE;
  }
  return TRUE;
}

static gboolean parse_class(parser *p, JsonObject *obj, const char *path, hy_measure_class *c) {
  static const char *const keys[] = {"class", "label", "min", "max", "above", "below", NULL};
  gboolean has_min, has_max, has_above, has_below;
  double min = 0, max = 0, above = 0, below = 0;
  if (!only_keys(p, obj, path, keys) || !get_int(p, obj, path, "class", 1, 99, &c->number) ||
      !get_string(p, obj, path, "label", TRUE, &c->label) ||
      !get_number(p, obj, path, "min", &has_min, &min) ||
      !get_number(p, obj, path, "max", &has_max, &max) ||
      !get_number(p, obj, path, "above", &has_above, &above) ||
      !get_number(p, obj, path, "below", &has_below, &below))
    return FALSE;
  if (has_min && has_above) return fail(p, path, _("both min and above: give one lower bound"));
  if (has_max && has_below) return fail(p, path, _("both max and below: give one upper bound"));
  if (!has_min && !has_above && !has_max && !has_below)
    return fail(p, path, _("no bound: give min or above, max or below"));
  c->lo = has_min ? min : has_above ? above : -HUGE_VAL;
  c->hi = has_max ? max : has_below ? below : HUGE_VAL;
  c->lo_open = has_above;
  c->hi_open = has_below;
  if (c->lo > c->hi || (c->lo == c->hi && (c->lo_open || c->hi_open)))
    return fail(p, path, _("the bounds %g to %g hold no value"), c->lo, c->hi);
  return TRUE;
}

static gboolean parse_measurement(parser *p, JsonObject *obj, const char *path,
                                  HyMeasurementDef *def) {
  static const char *const keys[] = {"id", "name", "group", "definition", "source", "kind",
                                     "points", "weight", "terms", "classes", NULL};
  hy_measurement *m = &def->m;
  if (!only_keys(p, obj, path, keys) || !get_string(p, obj, path, "id", TRUE, &m->id) ||
      !get_string(p, obj, path, "name", FALSE, &def->name) ||
      !get_string(p, obj, path, "group", FALSE, &def->group) ||
      !get_string(p, obj, path, "definition", FALSE, &def->definition) ||
      !get_string(p, obj, path, "source", FALSE, &def->source))
    return FALSE;
  if (!def->name || !*def->name) def->name = m->id;
  JsonArray *terms;
  if (!get_array(p, obj, path, "terms", FALSE, &terms)) return FALSE;
  if (terms) {
    if (member(obj, "kind") || member(obj, "points") || member(obj, "weight"))
      return fail(p, path, _("terms and kind/points/weight together: give one of them"));
    guint n = json_array_get_length(terms);
    if (n < 1 || n > HY_MEASURE_MAX_TERMS) {
      g_autofree char *field = member_path(path, "terms");
      return fail(p, field, _("%u terms, expected 1 to %d"), n, HY_MEASURE_MAX_TERMS);
    }
    static const char *const term_keys[] = {"kind", "points", "weight", NULL};
    for (guint t = 0; t < n; t++) {
      g_autofree char *tpath = g_strdup_printf("%s.terms[%u]", path, t);
      JsonObject *tobj;
      if (!get_object(p, json_array_get_element(terms, t), tpath, &tobj) ||
          !only_keys(p, tobj, tpath, term_keys) || !parse_term(p, tobj, tpath, &m->terms[t]))
        return FALSE;
    }
    m->n_terms = (int)n;
  } else {
    if (!parse_term(p, obj, path, &m->terms[0])) return FALSE;
    m->n_terms = 1;
  }
  JsonArray *classes;
  if (!get_array(p, obj, path, "classes", FALSE, &classes)) return FALSE;
  guint nc = classes ? json_array_get_length(classes) : 0;
  if (nc > HY_MEASURE_MAX_CLASSES) {
    g_autofree char *field = member_path(path, "classes");
    return fail(p, field, _("%u classes, at most %d"), nc, HY_MEASURE_MAX_CLASSES);
  }
  for (guint c = 0; c < nc; c++) {
    g_autofree char *cpath = g_strdup_printf("%s.classes[%u]", path, c);
    JsonObject *cobj;
    if (!get_object(p, json_array_get_element(classes, c), cpath, &cobj) ||
        !parse_class(p, cobj, cpath, &m->classes[c]))
      return FALSE;
  }
  m->n_classes = (int)nc;
  hy_error err = {0};
  if (hy_measurement_check(m, p->set->count, &err) != HY_OK) return fail(p, path, _("%s"), err.msg);
  return TRUE;
}

static gboolean parse_measurements(parser *p, JsonObject *root) {
  HyLandmarkSet *set = p->set;
  JsonArray *arr;
  if (!get_array(p, root, "", "measurements", FALSE, &arr)) return FALSE;
  guint n = arr ? json_array_get_length(arr) : 0;
  set->measurements = g_new0(HyMeasurementDef, n ? n : 1);
  for (guint k = 0; k < n; k++) {
    g_autofree char *path = g_strdup_printf("measurements[%u]", k);
    JsonObject *obj;
    if (!get_object(p, json_array_get_element(arr, k), path, &obj) ||
        !parse_measurement(p, obj, path, &set->measurements[k]))
      return FALSE;
    for (guint j = 0; j < k; j++) {
      if (strcmp(set->measurements[j].m.id, set->measurements[k].m.id) == 0) {
        g_autofree char *field = member_path(path, "id");
        return fail(p, field, _("'%s' is also the id of measurements[%u]"),
                    set->measurements[k].m.id, j);
      }
    }
    set->n_measurements = (int)k + 1;
  }
  return TRUE;
}

static gboolean parse_root(parser *p, JsonNode *root_node) {
  HyLandmarkSet *set = p->set;
  JsonObject *root;
  static const char *const keys[] = {"format_version", "name", "version", "title",
                                     "description", "count", "spacing", "facing",
                                     "landmarks", "measurements", NULL};
  int format_version;
  if (!get_object(p, root_node, "(top level)", &root) || !only_keys(p, root, "(top level)", keys) ||
      !get_int(p, root, "", "format_version", 0, G_MAXINT, &format_version))
    return FALSE;
  if (format_version != HY_LANDMARK_SET_FORMAT_VERSION)
    return fail(p, "format_version", _("%d, this program reads version %d"), format_version,
                HY_LANDMARK_SET_FORMAT_VERSION);
  if (!get_string(p, root, "", "name", TRUE, &set->name)) return FALSE;
  if (!valid_set_name(set->name))
    return fail(p, "name", _("'%s', expected 1 to 64 of a-z, 0-9, _ and -"), set->name);
  if (!get_int(p, root, "", "version", 1, G_MAXINT, &set->version) ||
      !get_string(p, root, "", "title", FALSE, &set->title) ||
      !get_string(p, root, "", "description", FALSE, &set->description) ||
      !get_int(p, root, "", "count", 1, HY_LANDMARKS_MAX, &set->count))
    return FALSE;
  if (!set->title || !*set->title) set->title = set->name;
  return parse_landmarks(p, root) && parse_spacing(p, root) && parse_facing(p, root) &&
         parse_measurements(p, root);
}

HyLandmarkSet *hy_landmark_set_new_from_data(const char *data, gssize length, const char *origin,
                                             GError **error) {
  g_return_val_if_fail(data != NULL, NULL);
  g_return_val_if_fail(origin != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  g_autoptr(JsonParser) jp = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(jp, data, length, &local)) {
    g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID,
                _("%s: not valid JSON: %s"), origin, local->message);
    return NULL;
  }
  g_autoptr(HyLandmarkSet) set = g_object_new(HY_TYPE_LANDMARK_SET, NULL);
  set->origin = g_strdup(origin);
  parser p = {set->origin, set, error};
  JsonNode *root = json_parser_get_root(jp);
  if (!root) {
    fail(&p, "(top level)", "empty document");
    return NULL;
  }
  if (!parse_root(&p, root)) return NULL;
  return g_steal_pointer(&set);
}

HyLandmarkSet *hy_landmark_set_new_from_file(const char *path, GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  g_autofree char *disp = g_filename_display_name(path);
  GStatBuf st;
  if (g_stat(path, &st) != 0) {
    int e = errno;
    g_set_error(error, HY_LANDMARK_SET_ERROR,
                e == ENOENT ? HY_LANDMARK_SET_ERROR_NOT_FOUND : HY_LANDMARK_SET_ERROR_INVALID,
                _("%s: cannot read: %s"), disp, g_strerror(e));
    return NULL;
  }
  if (st.st_size > HY_LANDMARK_SET_MAX_BYTES) {
    g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID,
                _("%s: %lld bytes, a landmark set is at most %d"), disp, (long long)st.st_size,
                HY_LANDMARK_SET_MAX_BYTES);
    return NULL;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(path, &data, &len, &local)) {
    g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID,
                _("%s: cannot read: %s"), disp, local->message);
    return NULL;
  }
  return hy_landmark_set_new_from_data(data, (gssize)len, disp, error);
}

char **hy_landmark_set_search_dirs(void) {
  GPtrArray *dirs = g_ptr_array_new();
  const char *env = g_getenv("HYATT_LANDMARKS_DIR");
  if (env && *env) g_ptr_array_add(dirs, g_strdup(env));
  g_auto(GStrv) shipped = hy_data_dirs("landmarks");
  for (char **d = shipped; *d; d++) g_ptr_array_add(dirs, g_strdup(*d));
  g_ptr_array_add(dirs, NULL);
  return (char **)g_ptr_array_free(dirs, FALSE);
}

HyLandmarkSet *hy_landmark_set_new_named(const char *name, GError **error) {
  g_return_val_if_fail(name != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  if (!valid_set_name(name)) {
    g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND,
                _("'%s' is not a landmark set name (a-z, 0-9, _ and -)"), name);
    return NULL;
  }
  g_auto(GStrv) dirs = hy_landmark_set_search_dirs();
  g_autofree char *file = g_strconcat(name, ".json", NULL);
  for (char **d = dirs; *d; d++) {
    g_autofree char *path = g_build_filename(*d, file, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) continue;
    g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_from_file(path, error);
    if (!set) return NULL;
    if (strcmp(set->name, name) != 0) {
      g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_INVALID,
                  _("%s: name: '%s', expected '%s' as the file is named"), set->origin,
                  set->name, name);
      return NULL;
    }
    return g_steal_pointer(&set);
  }
  g_autofree char *searched = g_strjoinv(", ", dirs);
  g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND,
              _("no landmark set '%s' (looked for %s in %s)"), name, file, searched);
  return NULL;
}

HyLandmarkSet *hy_landmark_set_new_from_spec(const char *spec, GError **error) {
  g_return_val_if_fail(spec != NULL, NULL);
  g_autofree char *lower = g_ascii_strdown(spec, -1);
  if (strchr(spec, G_DIR_SEPARATOR) || g_str_has_suffix(lower, ".json"))
    return hy_landmark_set_new_from_file(spec, error);
  return hy_landmark_set_new_named(spec, error);
}

/* ---- accessors -------------------------------------------------------- */

const char *hy_landmark_set_get_name(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  return self->name;
}

const char *hy_landmark_set_get_title(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  return self->title;
}

const char *hy_landmark_set_get_description(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  return self->description;
}

const char *hy_landmark_set_get_origin(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  return self->origin;
}

int hy_landmark_set_get_version(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), 0);
  return self->version;
}

int hy_landmark_set_get_count(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), 0);
  return self->count;
}

const char *hy_landmark_set_get_landmark_name(HyLandmarkSet *self, int index) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  g_return_val_if_fail(index >= 0 && index < self->count, NULL);
  return self->names[index];
}

const char *hy_landmark_set_get_abbreviation(HyLandmarkSet *self, int index) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  g_return_val_if_fail(index >= 0 && index < self->count, NULL);
  return self->abbreviations[index];
}

const char *hy_landmark_set_get_colour(HyLandmarkSet *self, int index) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  g_return_val_if_fail(index >= 0 && index < self->count, NULL);
  return self->colours[index];
}

void hy_landmark_set_get_rgb(HyLandmarkSet *self, int index, double rgb[3]) {
  g_return_if_fail(HY_IS_LANDMARK_SET(self));
  g_return_if_fail(index >= 0 && index < self->count);
  const char *c = self->colours[index];
  for (int i = 0; i < 3; i++)
    rgb[i] = (g_ascii_xdigit_value(c[1 + 2 * i]) * 16 + g_ascii_xdigit_value(c[2 + 2 * i])) / 255.0;
}

int hy_landmark_set_find(HyLandmarkSet *self, const char *abbreviation) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), -1);
  g_return_val_if_fail(abbreviation != NULL, -1);
  for (int i = 0; i < self->count; i++)
    if (self->abbreviations[i] && strcmp(self->abbreviations[i], abbreviation) == 0) return i;
  return -1;
}

static gboolean finite_point(const hy_point *points, int n_points, int i) {
  return i >= 0 && i < n_points && isfinite(points[i].x) && isfinite(points[i].y);
}

gboolean hy_landmark_set_default_spacing(HyLandmarkSet *self, const hy_point *points,
                                         int n_points, double *spacing, const char **source) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), FALSE);
  g_return_val_if_fail(spacing != NULL, FALSE);
  if (source) *source = self->spacing_source;
  if (self->spacing_mm > 0) {
    *spacing = self->spacing_mm;
    return TRUE;
  }
  if (self->ref_from < 0 || !points || !finite_point(points, n_points, self->ref_from) ||
      !finite_point(points, n_points, self->ref_to))
    return FALSE;
  double px = hy_distance_mm(points[self->ref_from], points[self->ref_to], 1.0);
  if (!(px > 0)) return FALSE;
  *spacing = self->ref_mm / px;
  return TRUE;
}

gboolean hy_landmark_set_has_facing(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), FALSE);
  return self->facing_posterior >= 0;
}

int hy_landmark_set_facing(HyLandmarkSet *self, const hy_point *points, int n_points) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), 1);
  if (self->facing_posterior < 0 || !points ||
      !finite_point(points, n_points, self->facing_posterior) ||
      !finite_point(points, n_points, self->facing_anterior))
    return 1;
  return hy_measure_facing(points[self->facing_posterior], points[self->facing_anterior]);
}

int hy_landmark_set_get_n_measurements(HyLandmarkSet *self) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), 0);
  return self->n_measurements;
}

const HyMeasurementDef *hy_landmark_set_get_measurement(HyLandmarkSet *self, int i) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(self), NULL);
  g_return_val_if_fail(i >= 0 && i < self->n_measurements, NULL);
  return &self->measurements[i];
}
