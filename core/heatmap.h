/* Gaussian heatmap targets and peak decoding for one head (NETWORK.md §4,
 * §7, §10).
 *
 * Coordinates are in the head's own pixels, pixel centres at integers: the
 * map covers [-0.5, W - 0.5) × [-0.5, H - 0.5). A head of stride s covers
 * the network input with pixels s input pixels wide, so an input point v
 * lies at (v + 0.5) / s - 0.5 in the head (hy_head_from_input in predict.h,
 * which is where points move between heads; nothing here assumes a
 * stride). */
#pragma once

typedef struct hy_peak {
  float x, y;  /* sub-pixel position, head pixels */
  float value; /* the heatmap value at the integer argmax */
} hy_peak;

/* Writes K planes: plane k is exp(-((X − x_k)² + (Y − y_k)²) / (2σ²)) at
 * every pixel (X, Y) with |X − cx| ≤ r and |Y − cy| ≤ r, zero elsewhere,
 * where (cx, cy) is (x_k, y_k) rounded to the nearest pixel and
 * r = ⌊3σ⌋: a (2r + 1)² patch, (6σ + 1)² for integer σ, as in the reference
 * code. Unlike that code the values use the unrounded sub-pixel centre, so
 * the peak is 1 only when the point sits on a pixel centre. A point whose
 * rounded centre lies outside the map, or is not finite, gives an all-zero
 * plane and inside[k] = 0 (else 1); inside may be NULL. sigma > 0. */
void hy_heatmap_render(float *maps,         /* [K][H][W] */
                       float *inside,       /* [K] or NULL */
                       const float *points, /* [K][2] (x, y) */
                       float sigma, int K, int H, int W);

/* Per plane: the integer argmax (first in row-major order on ties; NaN
 * never wins), then per axis a parabola through the logs of the peak and
 * its two neighbours, whose vertex is the exact centre of a sampled
 * Gaussian. At the map's border the three samples shift inwards (still exact
 * for a Gaussian). Where one of the three values is not positive the
 * parabola goes through the values themselves; a flat or degenerate triple,
 * or an axis shorter than 3 pixels, keeps the integer position. The result
 * is clamped to the map and never moves more than one pixel from the
 * argmax. H, W >= 1. */
void hy_heatmap_decode(hy_peak *peaks,    /* [K] */
                       const float *maps, /* [K][H][W] */
                       int K, int H, int W);

/* The same with the argmax searched only within the window [x0, x1] ×
 * [y0, y1] (inclusive; clipped to the map, and at least the pixel nearest
 * to it), e.g. the part of a head that shows the image and not the
 * letterbox padding. */
void hy_heatmap_decode_window(hy_peak *peaks,    /* [K] */
                              const float *maps, /* [K][H][W] */
                              int x0, int x1, int y0, int y1, int K, int H,
                              int W);

/* Coarse to fine (NETWORK.md §10): a fine head's global maximum is often a
 * spurious peak far from the landmark, so the argmax of plane k is searched
 * only within ±radius pixels (a square, clipped to the map) of centres[k],
 * a point already in this head's pixels (the caller maps the coarse head's
 * point there), then refined as above (the refinement may read neighbours
 * just outside the window). A non-finite centre falls back to the global
 * search. radius >= 0. */
void hy_heatmap_decode_near(hy_peak *peaks,         /* [K] */
                            const float *maps,      /* [K][H][W] */
                            const float *centres,   /* [K][2] (x, y), head px */
                            int radius, int K, int H, int W);
