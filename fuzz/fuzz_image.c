/* hy_image_decode on arbitrary bytes: PNG and JPEG through libpng/libjpeg. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hy_image img;
  hy_error err = {0};
  hy_status st = hy_image_decode(&img, data, size, &err);
  fuzz_check_refusal(st, &err);
  if (st != HY_OK) {
    if (img.pixels || img.width || img.height) __builtin_trap();
    return 0;
  }
  if (img.width <= 0 || img.height <= 0 || (img.bit_depth != 8 && img.bit_depth != 16))
    __builtin_trap();
  size_t n = (size_t)img.width * (size_t)img.height;
  for (size_t i = 0; i < n; i++)
    if (!(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f)) __builtin_trap();
  hy_image_free(&img);
  return 0;
}
