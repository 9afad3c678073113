/* The measurements of a landmark set (landmark_set.h, core/measure.h) on
 * one annotation, with what a reader needs beside each value: its class,
 * the normal range, and the spacing its mm came from. Shared by the
 * measurement panel, the PDF report and the CLI.
 *
 * Spacing: the annotation's (with its source), else the landmark set's
 * default (HY_SPACING_DATASET); without either, measurements in mm are
 * not computed (angles and ratios still are). */
#pragma once

#include <glib.h>

#include "annotation.h"
#include "landmark_set.h"

G_BEGIN_DECLS

typedef struct HyAnalysisRow {
  const HyMeasurementDef *def;   /* borrowed from the set */
  double value;                  /* NaN when not computed */
  const hy_measure_class *klass; /* the class value falls in, or NULL */
  const hy_measure_class *normal; /* the class numbered 1 (the published
                                     normal), or NULL */
  gboolean needs_spacing;        /* in mm, and no spacing is known */
} HyAnalysisRow;

typedef struct HyAnalysis {
  double spacing;                /* mm per pixel, 0 when unknown */
  HySpacingSource spacing_source;
  int facing;                    /* +1 right, -1 left (measure.h) */
  int n_rows;
  HyAnalysisRow *rows;           /* owned, [n_rows], in the set's order */
} HyAnalysis;

/* a's landmark count must be the set's. Absent landmarks leave the
 * measurements that use them uncomputed. */
HyAnalysis *hy_analysis_new(HyLandmarkSet *set, const HyAnnotation *a);
void hy_analysis_free(HyAnalysis *analysis);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HyAnalysis, hy_analysis_free)

/* "81.23°", "4.51 mm", "0.712"; "—" when not computed (g_free). */
char *hy_analysis_format_value(const HyAnalysisRow *row);
/* The normal range, e.g. "79.4–83.2°"; "—" when there is none (g_free). */
char *hy_analysis_format_normal(const HyAnalysisRow *row);
/* "class 1: Normal maxilla", a note when uncomputed, "" when unclassified (g_free). */
char *hy_analysis_format_class(const HyAnalysisRow *row);
/* "0.1 mm/px, from the DICOM header" or "no pixel spacing" (g_free). */
char *hy_analysis_format_spacing(const HyAnalysis *analysis);

G_END_DECLS
