/* A one-page PDF report of one image's landmarks (cairo, A4 portrait):
 * the image with its landmarks (moved ones joined to where the model put
 * them), the measurement table with normal ranges and classes
 * (analysis.h), the spacing and where it came from, the model and the
 * correction state (how many landmarks are predicted, moved, confirmed,
 * absent), and the date. Written atomically. */
#pragma once

#include <glib.h>

#include "annotation.h"
#include "image.h"
#include "landmark_set.h"

G_BEGIN_DECLS

/* img is the annotated image, already windowed for display. */
gboolean hy_report_write_pdf(const HyAnnotation *a, HyLandmarkSet *set, const hy_image *img,
                             const char *path, GError **error);

G_END_DECLS
