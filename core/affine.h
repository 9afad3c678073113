/* 2x3 affine maps of the plane, in double.
 *
 * Coordinates are in pixels with pixel (i, j) CENTRED at x = i, y = j: the
 * integer landmark coordinates of the data sets are pixel centres, and an
 * image of width w covers x in [-0.5, w - 0.5]. So resizing an image by a
 * factor s maps x' = s (x + 0.5) - 0.5 (a scale about the image's corner
 * (-0.5, -0.5), not about pixel 0). y points down. */
#pragma once

#include "error.h"

typedef struct hy_affine { double m[6]; } hy_affine; /* x' = m0 x + m1 y + m2 ; y' = m3 x + m4 y + m5 */

hy_affine hy_affine_identity(void);
hy_affine hy_affine_translate(double tx, double ty);
/* Scales by (sx, sy) about the point (cx, cy), which stays fixed. */
hy_affine hy_affine_scale(double sx, double sy, double cx, double cy);
/* Rotates by `radians` about (cx, cy): x' - cx = cos (x - cx) - sin (y - cy),
 * y' - cy = sin (x - cx) + cos (y - cy). With y pointing down, a positive
 * angle turns the picture clockwise on screen. */
hy_affine hy_affine_rotate(double radians, double cx, double cy);

/* The map that applies `first`, then `then`: p -> then(first(p)). */
hy_affine hy_affine_compose(const hy_affine *first, const hy_affine *then);

/* *out = a^-1; refuses (HY_E_ARG, *out untouched) a singular or non-finite a. */
hy_status hy_affine_invert(hy_affine *out, const hy_affine *a, hy_error *err);

void hy_affine_apply(const hy_affine *a, double x, double y, double *x_out,
                     double *y_out);

/* Source pixel coords -> coords in the same picture resized to dst_w x dst_h
 * (aspect ratio not kept): x' = dst_w / src_w (x + 0.5) - 0.5. */
hy_affine hy_affine_resize(int src_w, int src_h, int dst_w, int dst_h);

/* Source pixel coords -> coords on a dst_w x dst_h canvas that shows the whole
 * source with its aspect ratio kept, scaled by s = min(dst_w / src_w,
 * dst_h / src_h) and centred (the offset may be fractional). *scale_out
 * (may be NULL) receives s. */
hy_affine hy_affine_letterbox(int src_w, int src_h, int dst_w, int dst_h,
                              double *scale_out);
