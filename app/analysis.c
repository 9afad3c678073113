#include "analysis.h"

#include <glib/gi18n.h>
#include <math.h>

HyAnalysis *hy_analysis_new(HyLandmarkSet *set, const HyAnnotation *a) {
  g_return_val_if_fail(HY_IS_LANDMARK_SET(set) && a, NULL);
  g_return_val_if_fail(a->n_points == hy_landmark_set_get_count(set), NULL);
  HyAnalysis *an = g_new0(HyAnalysis, 1);
  g_autofree hy_point *pts = g_new(hy_point, (gsize)MAX(a->n_points, 1));
  for (int k = 0; k < a->n_points; k++) {
    gboolean absent = a->points[k].state == HY_LANDMARK_ABSENT;
    pts[k] = (hy_point){absent ? NAN : a->points[k].x, absent ? NAN : a->points[k].y};
  }
  const char *why = NULL;
  if (a->spacing_mm > 0) {
    an->spacing = a->spacing_mm;
    an->spacing_source = a->spacing_source;
  } else if (hy_landmark_set_default_spacing(set, pts, a->n_points, &an->spacing, &why)) {
    an->spacing_source = HY_SPACING_DATASET;
  } else {
    an->spacing = 0;
  }
  an->facing = hy_landmark_set_facing(set, pts, a->n_points);
  an->n_rows = hy_landmark_set_get_n_measurements(set);
  an->rows = g_new0(HyAnalysisRow, MAX(an->n_rows, 1));
  for (int i = 0; i < an->n_rows; i++) {
    HyAnalysisRow *r = &an->rows[i];
    r->def = hy_landmark_set_get_measurement(set, i);
    r->value = NAN;
    for (int c = 0; c < r->def->m.n_classes; c++)
      if (r->def->m.classes[c].number == 1) r->normal = &r->def->m.classes[c];
    gboolean mm = hy_measurement_unit(&r->def->m) == HY_MEASURE_MM;
    r->needs_spacing = mm && !(an->spacing > 0);
    if (r->needs_spacing) continue;
    hy_error err = {0};
    /* angles and ratios do not depend on the spacing: any positive one does */
    if (hy_measurement_eval(&r->value, &r->def->m, pts, a->n_points,
                            an->spacing > 0 ? an->spacing : 1.0, an->facing, &err) != HY_OK)
      r->value = NAN;
    r->klass = hy_measurement_classify(&r->def->m, r->value);
  }
  return an;
}

void hy_analysis_free(HyAnalysis *analysis) {
  if (!analysis) return;
  g_free(analysis->rows);
  g_free(analysis);
}

static const char *unit_suffix(hy_measure_unit unit) {
  switch (unit) {
  case HY_MEASURE_DEGREES: return "\xC2\xB0";
  case HY_MEASURE_MM: return " mm";
  case HY_MEASURE_RATIO: break;
  }
  return "";
}

char *hy_analysis_format_value(const HyAnalysisRow *row) {
  g_return_val_if_fail(row, NULL);
  if (isnan(row->value)) return g_strdup("\xE2\x80\x94");
  hy_measure_unit unit = hy_measurement_unit(&row->def->m);
  return g_strdup_printf(unit == HY_MEASURE_RATIO ? "%.3f%s" : "%.2f%s", row->value,
                         unit_suffix(unit));
}

char *hy_analysis_format_normal(const HyAnalysisRow *row) {
  g_return_val_if_fail(row, NULL);
  const hy_measure_class *c = row->normal;
  if (!c) return g_strdup("\xE2\x80\x94");
  const char *u = unit_suffix(hy_measurement_unit(&row->def->m));
  if (isinf(c->lo) && isinf(c->hi)) return g_strdup(_("any"));
  if (isinf(c->lo)) return g_strdup_printf("%s %g%s", c->hi_open ? "<" : "\xE2\x89\xA4", c->hi, u);
  if (isinf(c->hi)) return g_strdup_printf("%s %g%s", c->lo_open ? ">" : "\xE2\x89\xA5", c->lo, u);
  return g_strdup_printf("%g\xE2\x80\x93%g%s", c->lo, c->hi, u);
}

char *hy_analysis_format_class(const HyAnalysisRow *row) {
  g_return_val_if_fail(row, NULL);
  if (row->needs_spacing) return g_strdup(_("needs a pixel spacing"));
  if (isnan(row->value)) return g_strdup(_("a landmark is missing"));
  if (row->def->m.n_classes == 0) return g_strdup("");
  if (!row->klass) return g_strdup(_("in no published class"));
  /* TRANSLATORS: a measurement's class, e.g. "class 2: Class II" */
  return g_strdup_printf(_("class %d: %s"), row->klass->number, row->klass->label);
}

char *hy_analysis_format_spacing(const HyAnalysis *analysis) {
  g_return_val_if_fail(analysis, NULL);
  if (!(analysis->spacing > 0)) return g_strdup(_("no pixel spacing: distances in mm are not shown"));
  /* TRANSLATORS: "0.1 mm per pixel, from the DICOM header" */
  return g_strdup_printf(_("%g mm per pixel, %s"), analysis->spacing,
                         hy_spacing_source_describe(analysis->spacing_source));
}
