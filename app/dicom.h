/* DICOM X-rays (CR, DX and the like) through dcmtk, behind a C API: the
 * first frame of a greyscale image as a hy_image, with its pixel spacing
 * and its window centre/width. dcmtk is C++; dicom.cc is the only file
 * that includes it.
 *
 * - Pixels: the modality values (Rescale Slope/Intercept or a Modality LUT
 *   applied by dcmtk), mapped linearly from their minimum..maximum in the
 *   image onto [0, 1]; MONOCHROME1 is inverted so that bright is always
 *   dense. bit_depth is 16 for more than 8 bits stored, else 8.
 * - Spacing: Pixel Spacing (0028,0030), else Imager Pixel Spacing
 *   (0018,1164), in mm per pixel; rows and columns must agree within 1 %,
 *   else no spacing is given (our measurements assume square pixels).
 * - Window: the first Window Center/Width (0028,1050/1051), converted to the
 *   [0, 1] pixel scale above (inverted too for MONOCHROME1).
 * - Uncompressed, RLE, JPEG (baseline, extended, lossless) and JPEG-LS data
 *   decode; anything else (JPEG 2000, MPEG…) is refused with one line naming
 *   the transfer syntax, as are colour images and missing pixel data. */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

#include "image.h"

#define HY_DICOM_ERROR (hy_dicom_error_quark())
GQuark hy_dicom_error_quark(void);

typedef enum {
  HY_DICOM_ERROR_INVALID,     /* not DICOM, truncated or damaged */
  HY_DICOM_ERROR_UNSUPPORTED, /* a transfer syntax or image kind we cannot decode */
} HyDicomError;

typedef struct HyDicomInfo {
  double spacing_mm;        /* mm per pixel, 0 when the file gives none */
  const char *spacing_tag;  /* static: "Pixel Spacing", "Imager Pixel Spacing" or NULL */
  double window_center;     /* on the [0, 1] pixel scale; */
  double window_width;      /* 0 when the file gives no window */
} HyDicomInfo;

/* Whether bytes start like a DICOM Part 10 file ("DICM" after the
 * 128-byte preamble). */
gboolean hy_dicom_sniff(const void *bytes, size_t n);

/* Decodes n bytes of a DICOM file into *out (freed with hy_image_free) and
 * *info; `origin` names it in messages. */
gboolean hy_dicom_decode(const void *bytes, size_t n, const char *origin, hy_image *out,
                         HyDicomInfo *info, GError **error);

G_END_DECLS
