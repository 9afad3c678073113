/* Measurements between landmarks (DESIGN §4.4): angles, distances and
 * ratios on points in original-image pixels (origin top-left, x right,
 * y down) with an isotropic pixel spacing in mm per pixel.
 *
 * The primitives below are plain geometry. A measurement is data: a
 * weighted sum of up to HY_MEASURE_MAX_TERMS terms, each a kind and its
 * landmark indices, plus the classes its value falls into (e.g. ANB =
 * angle S-N-A minus angle S-N-B, class 1 for 3.2° to 5.7°). The landmark set
 * files (data/landmarks/NAME.json, read by app/landmark_set.c) define them;
 * this file evaluates and classifies them. Nothing here knows a data set.
 *
 * Signs. A signed angle or distance is measured on the screen, x right and
 * y down: from direction u to direction w is positive when w is turned
 * clockwise from u as displayed. Lateral cephalograms may face either way,
 * so hy_measurement_eval takes `facing`: +1 for a profile facing right (as
 * in ISBI 2015), -1 for one facing left; signed terms are multiplied by it,
 * so a mirrored image gives the same values. */
#pragma once

#include "error.h"
#include "landmarks.h"

#define HY_MEASURE_MAX_POINTS 4  /* landmarks per term */
#define HY_MEASURE_MAX_TERMS 4   /* terms per measurement */
#define HY_MEASURE_MAX_CLASSES 8 /* classes per measurement */

typedef enum hy_measure_kind {
  HY_MEASURE_ANGLE,             /* p0 p1 p2: the angle at p1, degrees, [0, 180] */
  HY_MEASURE_LINE_ANGLE,        /* direction p0->p1 to p2->p3, degrees, [0, 180] */
  HY_MEASURE_SIGNED_LINE_ANGLE, /* the same signed (see above), (-180, 180] */
  HY_MEASURE_DISTANCE,          /* |p0 p1|, mm */
  HY_MEASURE_POINT_LINE,        /* p0 from the line p1->p2, signed, mm: positive
                                   on the clockwise side of p1->p2 */
  HY_MEASURE_ANTERIOR_DISTANCE, /* |p0 p1|, mm, negative when p1 lies behind
                                   p0 (x smaller for a right-facing profile) */
  HY_MEASURE_DISTANCE_RATIO,    /* |p0 p1| / |p2 p3|, no unit */
  HY_MEASURE_N_KINDS
} hy_measure_kind;

typedef enum hy_measure_unit {
  HY_MEASURE_DEGREES,
  HY_MEASURE_MM,
  HY_MEASURE_RATIO,
} hy_measure_unit;

typedef struct hy_measure_term {
  hy_measure_kind kind;
  double weight;                      /* usually +1 or -1 */
  int points[HY_MEASURE_MAX_POINTS];  /* 0-based landmark indices; the first
                                         hy_measure_kind_points(kind) count */
} hy_measure_term;

/* A class holds the values v with lo <= v <= hi, a bound being excluded
 * when its *_open flag is set; -HUGE_VAL and HUGE_VAL leave a side open. */
typedef struct hy_measure_class {
  int number;        /* as published: 1, 2, 3, ... */
  const char *label; /* borrowed, e.g. "Class II" */
  double lo, hi;
  int lo_open, hi_open;
} hy_measure_class;

typedef struct hy_measurement {
  const char *id; /* borrowed, e.g. "ANB", for messages */
  int n_terms;
  hy_measure_term terms[HY_MEASURE_MAX_TERMS];
  int n_classes;  /* 0: the measurement is not classified */
  hy_measure_class classes[HY_MEASURE_MAX_CLASSES];
} hy_measurement;

/* ---- primitives: NaN when a direction is undefined (coincident points) */

/* The angle a-vertex-b in degrees, [0, 180]. */
double hy_angle_deg(hy_point a, hy_point vertex, hy_point b);

/* The angle from direction a0->a1 to direction b0->b1 in degrees, [0, 180]. */
double hy_line_angle_deg(hy_point a0, hy_point a1, hy_point b0, hy_point b1);

/* The same signed: positive when b0->b1 is turned clockwise (on the screen,
 * y down) from a0->a1; (-180, 180]. */
double hy_signed_line_angle_deg(hy_point a0, hy_point a1, hy_point b0,
                                hy_point b1);

/* |a b| · spacing (mm per pixel). */
double hy_distance_mm(hy_point a, hy_point b, double spacing);

/* The distance of p from the line through l0 and l1, · spacing; positive
 * when p is on the clockwise side of l0->l1 (to the right when walking from
 * l0 to l1 on the screen). */
double hy_point_line_distance_mm(hy_point p, hy_point l0, hy_point l1,
                                 double spacing);

/* ---- kinds and units */

int hy_measure_kind_points(hy_measure_kind kind); /* landmarks a term uses */
hy_measure_unit hy_measure_kind_unit(hy_measure_kind kind);
/* The kind's name in the landmark set files ("angle", "line_angle",
 * "signed_line_angle", "distance", "point_line_distance",
 * "anterior_distance", "distance_ratio"), and back: -1 when unknown. */
const char *hy_measure_kind_name(hy_measure_kind kind);
int hy_measure_kind_from_name(const char *name);
/* "°", "mm" or "" (UTF-8). */
const char *hy_measure_unit_symbol(hy_measure_unit unit);

/* ---- measurements */

/* Refuses (HY_E_ARG, the message naming m->id): no terms or more than the
 * maximum, an unknown kind, a landmark index outside [0, n_landmarks), a
 * non-finite or zero weight, terms of different units, more classes than
 * the maximum, a class with NaN bounds or lo > hi. */
hy_status hy_measurement_check(const hy_measurement *m, int n_landmarks,
                               hy_error *err);

/* The unit of the first term (all terms share it once checked). */
hy_measure_unit hy_measurement_unit(const hy_measurement *m);

/* +1 when `anterior` lies right of `posterior` (x larger), else -1: the
 * facing of a profile given two landmarks, e.g. sella and nasion. */
int hy_measure_facing(hy_point posterior, hy_point anterior);

/* *value = the sum of weight · term over the terms of a checked m, for
 * points[n_points] (pixels) and spacing in mm per pixel (> 0, finite).
 * HY_E_ARG for a landmark index beyond n_points or a bad spacing;
 * HY_E_NUMERIC when a term is undefined (coincident landmarks) or a
 * landmark is not finite, naming the measurement and the landmarks
 * (1-based). *value is NaN on failure. */
hy_status hy_measurement_eval(double *value, const hy_measurement *m,
                              const hy_point *points, /* [n_points] */
                              int n_points, double spacing, int facing,
                              hy_error *err);

/* The first class of m that holds value, or NULL (no class does, or value
 * is NaN). */
const hy_measure_class *hy_measurement_classify(const hy_measurement *m,
                                                double value);
