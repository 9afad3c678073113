/* Resizing and affine warps of grey images, with bilinear interpolation and
 * the pixel-centre convention of affine.h (pixel (i, j) centred at (i, j); an
 * image of width w covers x in [-0.5, w - 0.5]), so that mapping a landmark
 * with an affine and warping the image with the same affine agree.
 *
 * Area-aware shrinking (choice: box prefilter): when one dst pixel spans
 * f >= 1.5 source pixels along a source axis (f = the length of the
 * dst->src map's row for that axis, so rotations do not change it), the
 * source is first averaged over k x 1 / 1 x k blocks, k = round(f), and then
 * interpolated bilinearly; the residual scale f / k lies in [0.75, 1.25), where
 * bilinear interpolation does not alias badly. Block averages keep centroids
 * (block u has its centre at source x = k u + (k - 1) / 2); a last partial
 * block at the right or bottom edge averages the pixels it has. Both
 * functions therefore blur the same way for the same scale, so an augmented
 * training image (warp) looks like a letterboxed inference image.
 *
 * Both functions write into a caller-made dst (hy_image_new first), whose
 * size they keep, and copy src's bit_depth. dst must not share src's pixels.
 * They allocate a temporary reduced image only when shrinking. */
#pragma once

#include "affine.h"
#include "error.h"
#include "image.h"

/* Resizes all of src onto all of dst (aspect ratio not kept): the warp by
 * hy_affine_resize(src size, dst size). */
hy_status hy_image_resize(hy_image *dst, const hy_image *src, hy_error *err);

/* dst(p) = src(src_to_dst^-1 (p)) for every dst pixel centre p, bilinear;
 * points outside the source's area [-0.5, w - 0.5] x [-0.5, h - 0.5] get
 * `fill`; inside it, within half a pixel of the edge, the edge pixels are
 * extended. Refuses a singular affine (HY_E_ARG). */
hy_status hy_image_warp(hy_image *dst, const hy_image *src,
                        const hy_affine *src_to_dst, float fill,
                        hy_error *err);
