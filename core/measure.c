#include "measure.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double deg_per_rad = 57.295779513082320876798154814105; /* 180 / pi */

typedef struct kind_info {
  const char *name;
  int n_points;
  hy_measure_unit unit;
} kind_info;

static const kind_info kinds[HY_MEASURE_N_KINDS] = {
  [HY_MEASURE_ANGLE] = {"angle", 3, HY_MEASURE_DEGREES},
  [HY_MEASURE_LINE_ANGLE] = {"line_angle", 4, HY_MEASURE_DEGREES},
  [HY_MEASURE_SIGNED_LINE_ANGLE] = {"signed_line_angle", 4, HY_MEASURE_DEGREES},
  [HY_MEASURE_DISTANCE] = {"distance", 2, HY_MEASURE_MM},
  [HY_MEASURE_POINT_LINE] = {"point_line_distance", 3, HY_MEASURE_MM},
  [HY_MEASURE_ANTERIOR_DISTANCE] = {"anterior_distance", 2, HY_MEASURE_MM},
  [HY_MEASURE_DISTANCE_RATIO] = {"distance_ratio", 4, HY_MEASURE_RATIO},
};

/* atan2 of |cross| and dot rather than acos of the normalised dot: exact
 * near 0° and 180°, where acos loses half the digits. */
static double vector_angle_deg(double ux, double uy, double wx, double wy, int sign) {
  if (!(hypot(ux, uy) > 0) || !(hypot(wx, wy) > 0)) return NAN;
  double cross = ux * wy - uy * wx;
  double dot = ux * wx + uy * wy;
  return atan2(sign ? cross : fabs(cross), dot) * deg_per_rad;
}

double hy_angle_deg(hy_point a, hy_point vertex, hy_point b) {
  return vector_angle_deg(a.x - vertex.x, a.y - vertex.y, b.x - vertex.x, b.y - vertex.y, 0);
}

double hy_line_angle_deg(hy_point a0, hy_point a1, hy_point b0, hy_point b1) {
  return vector_angle_deg(a1.x - a0.x, a1.y - a0.y, b1.x - b0.x, b1.y - b0.y, 0);
}

double hy_signed_line_angle_deg(hy_point a0, hy_point a1, hy_point b0, hy_point b1) {
  double v = vector_angle_deg(a1.x - a0.x, a1.y - a0.y, b1.x - b0.x, b1.y - b0.y, 1);
  return v == -180.0 ? 180.0 : v; /* atan2(-0, -1): keep the half-open range */
}

double hy_distance_mm(hy_point a, hy_point b, double spacing) {
  return hypot(b.x - a.x, b.y - a.y) * spacing;
}

double hy_point_line_distance_mm(hy_point p, hy_point l0, hy_point l1, double spacing) {
  double dx = l1.x - l0.x, dy = l1.y - l0.y;
  double len = hypot(dx, dy);
  if (!(len > 0)) return NAN;
  return (dx * (p.y - l0.y) - dy * (p.x - l0.x)) / len * spacing;
}

int hy_measure_kind_points(hy_measure_kind kind) {
  return (unsigned)kind < HY_MEASURE_N_KINDS ? kinds[kind].n_points : 0;
}

hy_measure_unit hy_measure_kind_unit(hy_measure_kind kind) {
  return (unsigned)kind < HY_MEASURE_N_KINDS ? kinds[kind].unit : HY_MEASURE_RATIO;
}

const char *hy_measure_kind_name(hy_measure_kind kind) {
  return (unsigned)kind < HY_MEASURE_N_KINDS ? kinds[kind].name : "unknown";
}

int hy_measure_kind_from_name(const char *name) {
  for (int k = 0; name && k < HY_MEASURE_N_KINDS; k++)
    if (strcmp(kinds[k].name, name) == 0) return k;
  return -1;
}

const char *hy_measure_unit_symbol(hy_measure_unit unit) {
  switch (unit) {
  case HY_MEASURE_DEGREES: return "\xC2\xB0";
  case HY_MEASURE_MM: return "mm";
  case HY_MEASURE_RATIO: return "";
  }
  return "";
}

static const char *id_of(const hy_measurement *m) {
  return m->id ? m->id : "(unnamed)";
}

hy_status hy_measurement_check(const hy_measurement *m, int n_landmarks, hy_error *err) {
  if (m->n_terms < 1 || m->n_terms > HY_MEASURE_MAX_TERMS)
    return hy_fail(err, HY_E_ARG, "measurement %s: %d terms, expected 1 to %d", id_of(m),
                   m->n_terms, HY_MEASURE_MAX_TERMS);
  for (int t = 0; t < m->n_terms; t++) {
    const hy_measure_term *term = &m->terms[t];
    if ((unsigned)term->kind >= HY_MEASURE_N_KINDS)
      return hy_fail(err, HY_E_ARG, "measurement %s: term %d has unknown kind %d", id_of(m),
                     t + 1, (int)term->kind);
    if (!isfinite(term->weight) || term->weight == 0)
      return hy_fail(err, HY_E_ARG, "measurement %s: term %d has weight %g, expected a finite "
                     "non-zero number", id_of(m), t + 1, term->weight);
    if (hy_measure_kind_unit(term->kind) != hy_measure_kind_unit(m->terms[0].kind))
      return hy_fail(err, HY_E_ARG, "measurement %s: term %d (%s) is in other units than "
                     "term 1 (%s)", id_of(m), t + 1, hy_measure_kind_name(term->kind),
                     hy_measure_kind_name(m->terms[0].kind));
    for (int i = 0; i < hy_measure_kind_points(term->kind); i++)
      if (term->points[i] < 0 || term->points[i] >= n_landmarks)
        return hy_fail(err, HY_E_ARG, "measurement %s: term %d refers to landmark %d, the set "
                       "has 1 to %d", id_of(m), t + 1, term->points[i] + 1, n_landmarks);
  }
  if (m->n_classes < 0 || m->n_classes > HY_MEASURE_MAX_CLASSES)
    return hy_fail(err, HY_E_ARG, "measurement %s: %d classes, expected 0 to %d", id_of(m),
                   m->n_classes, HY_MEASURE_MAX_CLASSES);
  for (int c = 0; c < m->n_classes; c++) {
    const hy_measure_class *cl = &m->classes[c];
    if (isnan(cl->lo) || isnan(cl->hi) || cl->lo > cl->hi)
      return hy_fail(err, HY_E_ARG, "measurement %s: class %d has bounds %g to %g, expected "
                     "lower <= upper", id_of(m), cl->number, cl->lo, cl->hi);
  }
  return HY_OK;
}

hy_measure_unit hy_measurement_unit(const hy_measurement *m) {
  return m->n_terms > 0 ? hy_measure_kind_unit(m->terms[0].kind) : HY_MEASURE_RATIO;
}

int hy_measure_facing(hy_point posterior, hy_point anterior) {
  return anterior.x >= posterior.x ? 1 : -1;
}

static double term_value(const hy_measure_term *t, const hy_point *p, double spacing,
                         int facing) {
  const int *i = t->points;
  switch (t->kind) {
  case HY_MEASURE_ANGLE:
    return hy_angle_deg(p[i[0]], p[i[1]], p[i[2]]);
  case HY_MEASURE_LINE_ANGLE:
    return hy_line_angle_deg(p[i[0]], p[i[1]], p[i[2]], p[i[3]]);
  case HY_MEASURE_SIGNED_LINE_ANGLE:
    return facing * hy_signed_line_angle_deg(p[i[0]], p[i[1]], p[i[2]], p[i[3]]);
  case HY_MEASURE_DISTANCE:
    return hy_distance_mm(p[i[0]], p[i[1]], spacing);
  case HY_MEASURE_POINT_LINE:
    return facing * hy_point_line_distance_mm(p[i[0]], p[i[1]], p[i[2]], spacing);
  case HY_MEASURE_ANTERIOR_DISTANCE: {
    double d = hy_distance_mm(p[i[0]], p[i[1]], spacing);
    return facing * (p[i[1]].x - p[i[0]].x) < 0 ? -d : d;
  }
  case HY_MEASURE_DISTANCE_RATIO: {
    double den = hypot(p[i[3]].x - p[i[2]].x, p[i[3]].y - p[i[2]].y);
    return den > 0 ? hypot(p[i[1]].x - p[i[0]].x, p[i[1]].y - p[i[0]].y) / den : NAN;
  }
  case HY_MEASURE_N_KINDS:
    break;
  }
  return NAN;
}

hy_status hy_measurement_eval(double *value, const hy_measurement *m, const hy_point *points,
                              int n_points, double spacing, int facing, hy_error *err) {
  *value = NAN;
  if (!(spacing > 0) || !isfinite(spacing))
    return hy_fail(err, HY_E_ARG, "measurement %s: spacing %g mm per pixel, expected a "
                   "positive number", id_of(m), spacing);
  if (facing != 1 && facing != -1)
    return hy_fail(err, HY_E_ARG, "measurement %s: facing %d, expected +1 or -1", id_of(m),
                   facing);
  double sum = 0;
  for (int t = 0; t < m->n_terms; t++) {
    const hy_measure_term *term = &m->terms[t];
    int np = hy_measure_kind_points(term->kind);
    for (int i = 0; i < np; i++) {
      int k = term->points[i];
      if (k < 0 || k >= n_points)
        return hy_fail(err, HY_E_ARG, "measurement %s: landmark %d needed, only %d given",
                       id_of(m), k + 1, n_points);
      if (!isfinite(points[k].x) || !isfinite(points[k].y))
        return hy_fail(err, HY_E_NUMERIC, "measurement %s: landmark %d has no finite "
                       "position", id_of(m), k + 1);
    }
    double v = term_value(term, points, spacing, facing);
    if (!isfinite(v)) {
      char list[64] = "";
      size_t used = 0;
      for (int i = 0; i < np && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%d", i ? ", " : "",
                         term->points[i] + 1);
        if (w < 0) break;
        used += (size_t)w;
      }
      return hy_fail(err, HY_E_NUMERIC, "measurement %s: %s of landmarks %s is undefined "
                     "(coincident landmarks)", id_of(m), hy_measure_kind_name(term->kind), list);
    }
    sum += term->weight * v;
  }
  *value = sum;
  return HY_OK;
}

const hy_measure_class *hy_measurement_classify(const hy_measurement *m, double value) {
  if (isnan(value)) return NULL;
  for (int c = 0; c < m->n_classes; c++) {
    const hy_measure_class *cl = &m->classes[c];
    int above_lo = cl->lo_open ? value > cl->lo : value >= cl->lo;
    int below_hi = cl->hi_open ? value < cl->hi : value <= cl->hi;
    if (above_lo && below_hi) return &cl[0];
  }
  return NULL;
}
