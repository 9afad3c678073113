/* The DICOM loader (app/dicom.cc, dcmtk underneath) on arbitrary bytes: a
 * refusal is one line and leaves no pixels; an image has a size, pixels in
 * [0, 1], and a finite non-negative spacing and window. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dicom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hy_image img;
  HyDicomInfo info;
  GError *error = NULL;
  if (!hy_dicom_decode(data, size, "fuzz.dcm", &img, &info, &error)) {
    if (!error || !error->message[0] || strchr(error->message, '\n') || img.pixels)
      __builtin_trap();
    g_error_free(error);
    return 0;
  }
  if (error || img.width <= 0 || img.height <= 0 || !img.pixels) __builtin_trap();
  for (size_t i = 0; i < (size_t)img.width * (size_t)img.height; i++)
    if (!(img.pixels[i] >= 0 && img.pixels[i] <= 1)) __builtin_trap();
  if (!isfinite(info.spacing_mm) || info.spacing_mm < 0 || !isfinite(info.window_center) ||
      !isfinite(info.window_width) || info.window_width < 0)
    __builtin_trap();
  hy_image_free(&img);
  return 0;
}
