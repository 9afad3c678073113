/* An image file as the CLI and the GUI open it: PNG and JPEG through
 * core/image.h, DICOM through dicom.h, told apart by their first bytes.
 * Besides the pixels it gives what the file says about the image: its
 * pixel spacing with the source, and an initial window/level. */
#pragma once

#include <glib.h>

#include "image.h"
#include "spacing.h"

G_BEGIN_DECLS

typedef struct HyImageMeta {
  double spacing_mm;              /* mm per pixel, 0 when the file gives none */
  HySpacingSource spacing_source; /* HY_SPACING_DICOM, or UNKNOWN with 0 */
  const char *spacing_tag;        /* static: the DICOM attribute it came from
                                     ("Pixel Spacing", "Imager Pixel Spacing"), or NULL */
  double window_center;           /* on the pixels' [0, 1] scale; */
  double window_width;            /* 0: the file gives none (show 0..1) */
  gboolean is_dicom;
} HyImageMeta;

/* Loads path into *out (free with hy_image_free) and *meta. Errors are one
 * line naming the file. */
gboolean hy_image_file_load(const char *path, hy_image *out, HyImageMeta *meta, GError **error);

/* Maps img's pixels through a window (center, width > 0, on the [0, 1]
 * scale) for display: center - width/2 -> 0, center + width/2 -> 1,
 * clamped. */
void hy_image_apply_window(hy_image *img, double center, double width);

/* Whether path starts like an image we can open (PNG, JPEG or DICOM). */
gboolean hy_image_file_sniff(const char *path);

G_END_DECLS
