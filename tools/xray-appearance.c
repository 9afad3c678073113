/* tools/finetune-experiment's "other X-ray system": writes IMAGE with its
 * appearance changed as an 8-bit grey PNG, keeping its geometry (so the
 * landmarks stay where they are).
 *   invert   the negative (bone dark), as some viewers and systems show it
 *   flip     mirrored left to right (the patient facing the other way; the
 *            caller mirrors the landmarks: x → width − 1 − x)
 *   soft     gamma 2 (darker mid-tones), contrast halved around the mean,
 *            a 3×3 box blur and noise of σ 0.02: a softer, noisier detector
 * Usage: xray-appearance invert|flip|soft IN OUT (built by the script against
 * build/core/libhyatt.a). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "rng.h"

static void soft(hy_image *img, uint64_t seed) {
  size_t n = (size_t)img->width * img->height;
  double mean = 0;
  for (size_t i = 0; i < n; i++) {
    img->pixels[i] = powf(img->pixels[i], 2.0f);
    mean += img->pixels[i];
  }
  mean /= (double)n;
  hy_image blurred = {0};
  hy_error err = {0};
  if (hy_image_new(&blurred, img->width, img->height, &err) != HY_OK) return;
  for (int y = 0; y < img->height; y++)
    for (int x = 0; x < img->width; x++) {
      double s = 0;
      int c = 0;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= img->width || yy >= img->height) continue;
          s += img->pixels[(size_t)yy * img->width + xx];
          c++;
        }
      blurred.pixels[(size_t)y * img->width + x] = (float)(s / c);
    }
  hy_rng r;
  hy_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) {
    double v = mean + 0.5 * (blurred.pixels[i] - mean) + 0.02 * hy_rng_normal(&r);
    img->pixels[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
  }
  hy_image_free(&blurred);
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "invert") && strcmp(argv[1], "flip") && strcmp(argv[1], "soft"))) {
    fprintf(stderr, "usage: xray-appearance invert|flip|soft IN OUT\n");
    return 2;
  }
  hy_image img = {0};
  hy_error err = {0};
  if (hy_image_load(&img, argv[2], &err) != HY_OK) {
    fprintf(stderr, "xray-appearance: %s\n", err.msg);
    return 1;
  }
  if (strcmp(argv[1], "invert") == 0)
    for (size_t i = 0; i < (size_t)img.width * img.height; i++) img.pixels[i] = 1 - img.pixels[i];
  else if (strcmp(argv[1], "flip") == 0)
    for (int y = 0; y < img.height; y++)
      for (int x = 0; x < img.width / 2; x++) {
        float *row = img.pixels + (size_t)y * img.width, t = row[x];
        row[x] = row[img.width - 1 - x];
        row[img.width - 1 - x] = t;
      }
  else
    soft(&img, 1);
  hy_status st = hy_image_save_png(&img, argv[3], 8, &err);
  hy_image_free(&img);
  if (st != HY_OK) fprintf(stderr, "xray-appearance: %s\n", err.msg);
  return st == HY_OK ? 0 : 1;
}
