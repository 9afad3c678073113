/* Where a pixel spacing (mm per pixel) came from. Every figure in mm that
 * Hyatt Studio shows or writes carries one of these, so that a reader can
 * tell a DICOM header's spacing from a data set's convention or a guess.
 * The names are stored in annotations ("image.spacing_source") and exports. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* No radiograph has pixels of 10 cm; larger values are damage (and JSON
 * writers print some of them in a form JSON readers refuse). */
#define HY_SPACING_MAX_MM 100.0

typedef enum {
  HY_SPACING_UNKNOWN = 0, /* no spacing, or one of unrecorded origin */
  HY_SPACING_DICOM,       /* the image's DICOM Pixel Spacing / Imager Pixel Spacing */
  HY_SPACING_DATASET,     /* a data set descriptor or a landmark set's default */
  HY_SPACING_MODEL,       /* the spacing the model was trained at */
  HY_SPACING_USER,        /* entered by the user (--spacing, the side panel) */
  HY_SPACING_FILE,        /* an imported file (Slicer mm, COCO/CSV extra fields) */
  HY_SPACING_FOLDER,      /* entered by the user for every image of a folder (folder_spacing.h) */
} HySpacingSource;

/* "unknown", "dicom", "dataset", "model", "user", "file", "folder". */
const char *hy_spacing_source_to_string(HySpacingSource source);
/* FALSE for anything else. */
gboolean hy_spacing_source_from_string(const char *s, HySpacingSource *source);
/* A short translated phrase for people, e.g. "from the DICOM header". */
const char *hy_spacing_source_describe(HySpacingSource source);

/* Whether a spacing from `source` may replace one from `current`: an entry
 * for this image wins over the image's DICOM header, which wins over an
 * imported file's, then a folder's entry, then the model's or the data
 * set's default. A source replaces itself (a folder's entry changed). */
gboolean hy_spacing_source_overrides(HySpacingSource source, HySpacingSource current);

G_END_DECLS
