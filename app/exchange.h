/* Landmarks out to the formats other tools read, and back in (DESIGN §4.3):
 *
 *   slicer  3D Slicer markups `.mrk.json` (markups-schema-v1.0.3): one
 *           Fiducial list per image, LPS, mm = pixels · spacing (x right =
 *           L, y down = P, z = 0, as Slicer places a 2D image of that
 *           spacing at the origin). positionStatus "defined" for placed
 *           points, "undefined" for absent ones; a confirmed point is
 *           locked; our state and confidence ride along in the extra
 *           control point keys "hyattState" and "hyattConfidence", the image
 *           and spacing in the markup's "hyatt" object (the schema allows
 *           extra keys). Needs a spacing.
 *   coco    COCO keypoints JSON: images, one annotation per image with
 *           keypoints [x, y, v]… (pixel indices, v = 0 absent, 2 placed),
 *           one category named after the landmark set with the
 *           abbreviations as keypoint names; extra "hyatt_states",
 *           "hyatt_confidence" per annotation, "hyatt_spacing_mm" and
 *           "hyatt_spacing_source" per image.
 *   csv     one row per image: image,l1_x,l1_y,…,lN_x,lN_y, then
 *           spacing_mm, spacing_source, l1_state…lN_state; an absent
 *           landmark has empty x and y. Reading goes by column name, so
 *           the data sets' CSVs (image[,split],l1_x,…) read too.
 *   isbi    ISBI 2015 text: one "x,y" line per landmark, pixels, one file
 *           per image; it cannot say "absent", so such landmarks are
 *           refused on export.
 *
 * Imported landmarks without a state of ours are "confirmed" (a person
 * placed them) or "absent"; coordinates are checked to be finite. Image
 * sizes a format does not hold are left 0 for the caller to fill in. */
#pragma once

#include <glib.h>

#include "annotation.h"
#include "landmark_set.h"

G_BEGIN_DECLS

typedef enum {
  HY_EXCHANGE_SLICER,
  HY_EXCHANGE_COCO,
  HY_EXCHANGE_CSV,
  HY_EXCHANGE_ISBI,
} HyExchangeFormat;

#define HY_EXCHANGE_ERROR (hy_exchange_error_quark())
GQuark hy_exchange_error_quark(void);

typedef enum {
  HY_EXCHANGE_ERROR_INVALID,     /* the file is not of the format, or a field is bad */
  HY_EXCHANGE_ERROR_UNSUPPORTED, /* the data cannot be written in the format */
} HyExchangeError;

#define HY_EXCHANGE_MAX_BYTES (64 * 1024 * 1024)

/* "slicer", "coco", "csv", "isbi"; FALSE for anything else. */
gboolean hy_exchange_format_from_string(const char *name, HyExchangeFormat *format);
/* ".mrk.json", ".json", ".csv", ".txt" */
const char *hy_exchange_format_extension(HyExchangeFormat format);
/* COCO and CSV hold many images in one file; Slicer and ISBI one each. */
gboolean hy_exchange_format_holds_many(HyExchangeFormat format);

/* The text of annotations[n] (n == 1 unless the format holds many), with
 * the set's abbreviations and names; free with g_free. `spacing` > 0
 * replaces the annotations' own (the user's). */
char *hy_exchange_write(HyExchangeFormat format, HyAnnotation *const *annotations, int n,
                        HyLandmarkSet *set, double spacing, GError **error);

/* Parses len bytes in format; `origin` names them in messages (and, for
 * ISBI text, the image: its stem). `spacing` > 0 turns Slicer mm into
 * pixels when the file does not say its own. Returns the annotations
 * (HyAnnotation*, freed with the array). */
GPtrArray *hy_exchange_read(HyExchangeFormat format, const char *data, gsize len,
                            const char *origin, HyLandmarkSet *set, double spacing,
                            GError **error);

G_END_DECLS
