/* `hyatt measure IMAGE_OR_ANNOTATION [--landmarks FILE[:ROW]] [--set SET]
 *  [--spacing MM]`: the measurements of a landmark set (angles, distances,
 * the ISBI 2015 classes; data/landmarks/NAME.json, core/measure.h) on one
 * image's landmarks, one line each with its value, unit and class.
 *
 * The landmarks come from, in this order:
 *   --landmarks FILE[:ROW]  a CSV (the row named ROW, else the IMAGE's name
 *                           without extension) or an ISBI text file;
 *   an annotation           IMAGE_OR_ANNOTATION ending in .json, written by
 *                           `hyatt predict` (format "hyatt-annotation"), or
 *                           IMAGE.hyatt.json beside the image;
 *   IMAGE_OR_ANNOTATION itself as FILE[:ROW].
 * The set is --set (a name, or a .json file), else the annotation's set,
 * else isbi2015 for ISBI text, else the shipped set with as many landmarks.
 *
 * The pixel spacing, and the line saying where it came from: --spacing;
 * else the annotation's; else the data set descriptor of the landmark
 * file's folder (datasetinfo.h) when it is for this landmark set; else the
 * landmark set's default; else an assumed 0.1 mm per pixel, with a warning. */
#include <errno.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "datasetinfo.h"
#include "image_file.h"
#include "landmark_set.h"
#include "landmark_source.h"
#include "landmarks.h"
#include "measure.h"

#define CMD "measure"
#define ASSUMED_SPACING 0.1 /* mm per pixel: the usual cephalogram spacing */

/* The sets tried, in order, when neither --set nor the input names one. */
static const char *const shipped_sets[] = {"isbi2015", "isbi2023", "hand"};

typedef struct input {
  char *label;        /* owned, UTF-8: e.g. "senior_px.csv:001" */
  char *folder;       /* owned: the landmark file's folder */
  char *set_name;     /* owned: the set the annotation names, or NULL */
  gboolean is_text;   /* ISBI text: the count is not in the file */
  double spacing;     /* the annotation's, 0 = none */
  HySpacingSource spacing_source; /* where the annotation's came from */
  hy_point *points;   /* owned, [n]; absent landmarks are NaN */
  int n;
} input;

static void input_clear(input *in) {
  g_free(in->label);
  g_free(in->folder);
  g_free(in->set_name);
  g_free(in->points);
  memset(in, 0, sizeof *in);
}

/* Points from a CSV row (ROW, else the row named after image, else the only
 * row) or an ISBI text file of `expect` points. */
static int load_points(input *in, const char *file, const char *row, const char *image,
                       int expect) {
  g_autofree char *disp = g_filename_display_basename(file);
  hy_error err = {0};
  in->folder = g_path_get_dirname(file);
  if (hy_landmark_source_is_csv(file)) {
    hy_landmark_table t = {0};
    if (hy_landmark_csv_load(&t, file, &err) != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
    int r = hy_landmark_source_find_row(&t, row, image);
    if (r < 0) {
      g_autofree char *want = row ? g_strdup(row) : image ? g_path_get_basename(image) : NULL;
      int status = want ? hy_cli_error(CMD, _("no row '%s' in %s"), want, disp)
                        : hy_cli_error(CMD, _("%s has %d rows: choose one with %s:ROW"), disp,
                                       t.n_rows, disp);
      hy_landmark_table_free(&t);
      return status;
    }
    in->n = t.n_landmarks;
    in->points = g_memdup2(hy_landmark_table_row(&t, r), sizeof(hy_point) * (gsize)in->n);
    in->label = g_strdup_printf("%s:%s", disp, t.images[r]);
    hy_landmark_table_free(&t);
    return HY_EXIT_OK;
  }
  if (row)
    return hy_cli_error(CMD, _("%s is not a landmark CSV (no 'image' header), so it has no rows to choose with ':%s'"),
                        disp, row);
  if (hy_landmark_source_text(&in->points, &in->n, file, expect, &err) != HY_OK)
    return hy_cli_error(CMD, "%s", err.msg);
  in->label = g_strdup(disp);
  in->is_text = TRUE;
  return HY_EXIT_OK;
}

/* FILE[:ROW] for image (may be NULL). ISBI text does not say how many
 * points it has (the original files end with class labels): without a set,
 * it is read as isbi2015, the set of that format. */
static int load_spec(input *in, const char *spec, const char *image, HyLandmarkSet **set) {
  g_autofree char *file = NULL, *row = NULL;
  hy_landmark_source_split(spec, &file, &row);
  gboolean csv = hy_landmark_source_is_csv(file);
  if (!csv && !*set) {
    g_autoptr(GError) error = NULL;
    if (!(*set = hy_landmark_set_new_named("isbi2015", &error)))
      return hy_cli_error(CMD, "%s", error->message);
  }
  return load_points(in, file, row, image, csv ? 0 : hy_landmark_set_get_count(*set));
}

static gboolean json_number_or_null(JsonObject *o, const char *key, double *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n || JSON_NODE_HOLDS_NULL(n)) {
    *out = NAN;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || (json_node_get_value_type(n) != G_TYPE_DOUBLE &&
                                    json_node_get_value_type(n) != G_TYPE_INT64))
    return FALSE;
  *out = json_node_get_double(n);
  return isfinite(*out);
}

/* The landmarks of an annotation written by `hyatt predict` (DESIGN §4.2):
 * format, landmark_set, image.spacing_mm and landmarks[{index, x, y,
 * state}]; absent landmarks become NaN. */
static int load_annotation(input *in, const char *file) {
  g_autofree char *disp = g_filename_display_name(file);
  g_autoptr(JsonParser) jp = json_parser_new_immutable();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_file(jp, file, &error))
    return hy_cli_error(CMD, _("%s: not a readable annotation: %s"), disp, error->message);
  JsonNode *root = json_parser_get_root(jp);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *format = o ? json_object_get_string_member_with_default(o, "format", "") : "";
  if (strcmp(format, "hyatt-annotation") != 0)
    return hy_cli_error(CMD, _("%s: not an annotation (format is not \"hyatt-annotation\")"),
                        disp);
  JsonNode *set = json_object_get_member(o, "landmark_set");
  if (set && JSON_NODE_HOLDS_VALUE(set) && json_node_get_value_type(set) == G_TYPE_STRING)
    in->set_name = g_strdup(json_node_get_string(set));
  JsonNode *image = json_object_get_member(o, "image");
  if (image && JSON_NODE_HOLDS_OBJECT(image)) {
    double s;
    JsonObject *io = json_node_get_object(image);
    if (json_number_or_null(io, "spacing_mm", &s) && s > 0) in->spacing = s;
    const char *src = json_object_get_string_member_with_default(io, "spacing_source", NULL);
    if (!src || !hy_spacing_source_from_string(src, &in->spacing_source))
      in->spacing_source = HY_SPACING_UNKNOWN;
  }
  JsonNode *lms = json_object_get_member(o, "landmarks");
  if (!lms || !JSON_NODE_HOLDS_ARRAY(lms))
    return hy_cli_error(CMD, _("%s: landmarks: missing or not an array"), disp);
  JsonArray *arr = json_node_get_array(lms);
  int n = (int)json_array_get_length(arr);
  if (n < 1 || n > HY_LANDMARKS_MAX)
    return hy_cli_error(CMD, _("%s: landmarks: %d entries, expected 1 to %d"), disp, n,
                        HY_LANDMARKS_MAX);
  g_autofree hy_point *pts = g_new(hy_point, (gsize)n);
  g_autofree gboolean *seen = g_new0(gboolean, (gsize)n);
  for (int k = 0; k < n; k++) {
    JsonNode *e = json_array_get_element(arr, (guint)k);
    JsonObject *lm = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    JsonNode *idx = lm ? json_object_get_member(lm, "index") : NULL;
    gint64 index = idx && JSON_NODE_HOLDS_VALUE(idx) &&
                           json_node_get_value_type(idx) == G_TYPE_INT64
                       ? json_node_get_int(idx) : 0;
    if (index < 1 || index > n || seen[index - 1])
      return hy_cli_error(CMD, _("%s: landmarks[%d].index: missing, out of 1 to %d or repeated"),
                          disp, k, n);
    seen[index - 1] = TRUE;
    double x, y;
    const char *state = json_object_get_string_member_with_default(lm, "state", "");
    if (!json_number_or_null(lm, "x", &x) || !json_number_or_null(lm, "y", &y))
      return hy_cli_error(CMD, _("%s: landmarks[%d]: x and y must be numbers"), disp, k);
    if (strcmp(state, "absent") == 0) x = y = NAN;
    pts[index - 1] = (hy_point){x, y};
  }
  in->n = n;
  in->points = g_steal_pointer(&pts);
  in->label = g_filename_display_basename(file);
  in->folder = g_path_get_dirname(file);
  return HY_EXIT_OK;
}

/* The shipped set with n landmarks, or NULL with the reason in *error. */
static HyLandmarkSet *set_for_count(int n, GError **error) {
  GString *tried = g_string_new(NULL);
  for (size_t i = 0; i < G_N_ELEMENTS(shipped_sets); i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_named(shipped_sets[i], &local);
    if (set && hy_landmark_set_get_count(set) == n) {
      g_string_free(tried, TRUE);
      return g_steal_pointer(&set);
    }
    g_string_append_printf(tried, "%s%s", tried->len ? ", " : "", shipped_sets[i]);
  }
  g_autofree char *list = g_string_free(tried, FALSE);
  g_set_error(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND,
              _("no landmark set with %d landmarks among %s: name one with --set"), n, list);
  return NULL;
}

/* The spacing and the sentence saying where it came from. */
static double choose_spacing(const input *in, HyLandmarkSet *set, double option, char **from) {
  if (option > 0) {
    *from = g_strdup(_("given with --spacing"));
    return option;
  }
  if (in->spacing > 0) {
    /* TRANSLATORS: e.g. "from the annotation 001.bmp.hyatt.json (from the DICOM header)" */
    *from = g_strdup_printf(_("from the annotation %s (%s)"), in->label,
                            hy_spacing_source_describe(in->spacing_source));
    return in->spacing;
  }
  hy_dataset_spec spec;
  g_autofree char *source = NULL;
  g_autoptr(GError) error = NULL;
  const char *set_name = hy_landmark_set_get_name(set);
  if (in->folder && hy_dataset_spec_for(&spec, in->folder, NULL, &source, &error) && source &&
      (strcmp(spec.landmark_set, set_name) == 0 ||
       (!spec.landmark_set[0] && strcmp(spec.name, set_name) == 0))) {
    if (spec.spacing_landmarks[0] > 0) {
      int a = spec.spacing_landmarks[0] - 1, b = spec.spacing_landmarks[1] - 1;
      double px = a < in->n && b >= 0 && b < in->n
                      ? hy_distance_mm(in->points[a], in->points[b], 1.0) : NAN;
      if (px > 0 && spec.spacing_distance_mm > 0) {
        *from = g_strdup_printf(_("from the data set descriptor %s: landmarks %d to %d are "
                                  "%g mm"), source, a + 1, b + 1, spec.spacing_distance_mm);
        return spec.spacing_distance_mm / px;
      }
    } else if (spec.spacing_mm > 0) {
      *from = g_strdup_printf(_("from the data set descriptor %s"), source);
      return spec.spacing_mm;
    }
  }
  double s;
  const char *why = NULL;
  if (hy_landmark_set_default_spacing(set, in->points, in->n, &s, &why)) {
    *from = g_strdup_printf(_("from the landmark set %s: %s"), set_name, why);
    return s;
  }
  *from = g_strdup_printf(_("assumed: neither --spacing, an annotation, a data set descriptor "
                            "nor the landmark set %s gives one"), set_name);
  g_printerr(_("hyatt measure: warning: no pixel spacing known, assuming %g mm per pixel: "
               "distances in mm are only as right as that guess (use --spacing)\n"),
             ASSUMED_SPACING);
  return ASSUMED_SPACING;
}

static void print_value(char *buf, size_t size, double v, hy_measure_unit unit) {
  switch (unit) {
  case HY_MEASURE_DEGREES: snprintf(buf, size, "%8.2f\xC2\xB0", v); break;
  case HY_MEASURE_MM: snprintf(buf, size, "%8.2f mm", v); break;
  case HY_MEASURE_RATIO: snprintf(buf, size, "%8.3f", v); break;
  }
}

/* One line per measurement under a heading per group; returns the exit
 * status: 1 when a measurement could not be computed. */
static int print_measurements(HyLandmarkSet *set, const input *in, double spacing, int facing) {
  int status = HY_EXIT_OK;
  int n = hy_landmark_set_get_n_measurements(set);
  if (n == 0) {
    printf("%s\n", _("This landmark set defines no measurements."));
    return HY_EXIT_OK;
  }
  int width = 4;
  for (int i = 0; i < n; i++)
    width = MAX(width, (int)g_utf8_strlen(hy_landmark_set_get_measurement(set, i)->m.id, -1));
  const char *group = NULL;
  for (int i = 0; i < n; i++) {
    const HyMeasurementDef *def = hy_landmark_set_get_measurement(set, i);
    if (def->group && (!group || strcmp(group, def->group) != 0)) {
      printf("\n%s\n", def->group);
      group = def->group;
    }
    double v;
    hy_error err = {0};
    int pad = width - (int)g_utf8_strlen(def->m.id, -1);
    if (hy_measurement_eval(&v, &def->m, in->points, in->n, spacing, facing, &err) != HY_OK) {
      printf("  %s%*s  %s\n", def->m.id, pad, "", _("not computed"));
      g_printerr("hyatt measure: %s\n", err.msg);
      status = HY_EXIT_ERROR;
      continue;
    }
    char value[48];
    print_value(value, sizeof value, v, hy_measurement_unit(&def->m));
    int vpad = 12 - (int)g_utf8_strlen(value, -1); /* the degree sign is two bytes */
    const hy_measure_class *cl = hy_measurement_classify(&def->m, v);
    if (def->m.n_classes == 0)
      printf("  %s%*s  %s\n", def->m.id, pad, "", value);
    else if (cl)
      /* TRANSLATORS: a measurement's class, e.g. "class 2: Class II" */
      printf("  %s%*s  %s%*s  %s %d: %s\n", def->m.id, pad, "", value, vpad, "", _("class"),
             cl->number, cl->label);
    else
      printf("  %s%*s  %s%*s  %s\n", def->m.id, pad, "", value, vpad, "",
             _("in none of the published classes"));
  }
  return status;
}

int hy_cmd_measure(int argc, char **argv) {
  g_autofree char *landmarks = NULL, *set_opt = NULL, *spacing_opt = NULL;
  const GOptionEntry entries[] = {
    {"landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &landmarks,
     N_("A landmark CSV and row, or an ISBI text file, for IMAGE"), N_("FILE[:ROW]")},
    {"set", 0, 0, G_OPTION_ARG_STRING, &set_opt,
     N_("Landmark set: a name (isbi2015, isbi2023, hand) or a definition file"), N_("SET")},
    {"spacing", 0, 0, G_OPTION_ARG_STRING, &spacing_opt,
     N_("Pixel spacing in mm per pixel, over any other source"), N_("MM")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("IMAGE_OR_ANNOTATION"));
  g_option_context_set_summary(
      ctx, _("Computes the measurements of a landmark set (angles, distances, and for\n"
             "isbi2015 the ISBI 2015 classification) on one image's landmarks."));
  g_option_context_set_description(
      ctx, _("The landmarks come from --landmarks (a CSV row named ROW or, without ROW,\n"
             "after the image; or an ISBI text file), else from an annotation: a\n"
             "*.hyatt.json given instead of the image, or IMAGE.hyatt.json beside it;\n"
             "else IMAGE_OR_ANNOTATION is itself FILE[:ROW].\n"
             "\n"
             "The pixel spacing comes from --spacing, else the annotation, else the data\n"
             "set descriptor of the landmark file's folder, else the landmark set; the\n"
             "output says which. Signed values are given for a profile facing right.\n"
             "\n"
             "Example:\n  hyatt measure 001.jpg --landmarks senior_px.csv"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  if (argc != 2)
    return hy_cli_usage_error(CMD, "%s", argc < 2 ? _("no IMAGE_OR_ANNOTATION given")
                                                  : _("more than one IMAGE_OR_ANNOTATION given"));
  double spacing_given = 0;
  if (!hy_cli_spacing_option(CMD, spacing_opt, &spacing_given)) return HY_EXIT_USAGE;
  const char *arg = argv[1];

  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = NULL;
  if (set_opt && !(set = hy_landmark_set_new_from_spec(set_opt, &error)))
    return hy_cli_error(CMD, "%s", error->message);

  input in = {0};
  int status;
  g_autofree char *beside = g_strconcat(arg, ".hyatt.json", NULL);
  g_autofree char *lower = g_ascii_strdown(arg, -1);
  if (landmarks) {
    if (!g_file_test(arg, G_FILE_TEST_IS_REGULAR)) {
      g_autofree char *disp = g_filename_display_name(arg);
      return hy_cli_error(CMD, _("%s: no such image"), disp);
    }
    status = load_spec(&in, landmarks, arg, &set);
  } else if (g_str_has_suffix(lower, ".json")) {
    status = load_annotation(&in, arg);
  } else if (hy_image_file_sniff(arg)) {
    if (!g_file_test(beside, G_FILE_TEST_IS_REGULAR)) {
      g_autofree char *disp = g_filename_display_basename(beside);
      return hy_cli_usage_error(CMD, _("no --landmarks given and no annotation %s beside the "
                                       "image"), disp);
    }
    status = load_annotation(&in, beside);
  } else {
    status = load_spec(&in, arg, NULL, &set);
  }
  if (!status && !set) {
    set = in.set_name ? hy_landmark_set_new_named(in.set_name, &error)
                      : set_for_count(in.n, &error);
    if (!set) status = hy_cli_error(CMD, "%s", error->message);
  }
  if (!status && hy_landmark_set_get_count(set) != in.n)
    status = hy_cli_error(CMD, _("%s has %d landmarks, the landmark set %s has %d"), in.label,
                          in.n, hy_landmark_set_get_name(set), hy_landmark_set_get_count(set));
  if (status) {
    input_clear(&in);
    return status;
  }

  g_autofree char *spacing_from = NULL;
  double spacing = choose_spacing(&in, set, spacing_given, &spacing_from);
  int facing = hy_landmark_set_facing(set, in.points, in.n);
  printf(_("Landmarks: %s, %d points\n"), in.label, in.n);
  printf(_("Landmark set: %s (%s)\n"), hy_landmark_set_get_name(set),
         hy_landmark_set_get_title(set));
  printf(_("Spacing: %g mm per pixel, %s\n"), spacing, spacing_from);
  if (hy_landmark_set_has_facing(set))
    printf("%s\n", facing > 0 ? _("Profile: facing right")
                              : _("Profile: facing left (signed values mirrored)"));
  status = print_measurements(set, &in, spacing, facing);
  input_clear(&in);
  return status;
}
