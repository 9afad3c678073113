/* Fixtures shared by the app/ suites. */
#pragma once

#include "image.h"
#include "landmark_set.h"

/* A 3-landmark set "tri" (One/P1, Two/P2, Three/P3). */
HyLandmarkSet *at_tri_set(void);

/* A black 100 × 80, 8-bit image (free with hy_image_free, then g_free). */
hy_image *at_grey_image(void);
