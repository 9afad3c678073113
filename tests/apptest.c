#include "apptest.h"

#include <stdlib.h>

HyLandmarkSet *at_tri_set(void) {
  static const char *json =
      "{\"format_version\": 1, \"name\": \"tri\", \"version\": 1, \"count\": 3,\n"
      " \"landmarks\": [\n"
      "  {\"index\": 1, \"name\": \"One\", \"abbreviation\": \"P1\", \"colour\": \"#e69f00\"},\n"
      "  {\"index\": 2, \"name\": \"Two\", \"abbreviation\": \"P2\", \"colour\": \"#56b4e9\"},\n"
      "  {\"index\": 3, \"name\": \"Three\", \"abbreviation\": \"P3\", \"colour\": \"#009e73\"}]}\n";
  GError *error = NULL;
  HyLandmarkSet *set = hy_landmark_set_new_from_data(json, -1, "tri.json", &error);
  g_assert_no_error(error);
  return set;
}

hy_image *at_grey_image(void) {
  hy_image *image = g_new0(hy_image, 1);
  image->width = 100;
  image->height = 80;
  image->bit_depth = 8;
  image->pixels = calloc(100 * 80, sizeof(float));
  return image;
}
