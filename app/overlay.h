/* Landmark overlays: an X-ray in grey with landmark markers drawn over it,
 * rendered with cairo and written as PNG. Used by `hyatt show`, `hyatt
 * predict --overlay` and the exports.
 *
 * Coordinates are original-image pixels with the pixel-centre convention of
 * the landmark files: (0, 0) is the centre of the top-left pixel. With one
 * layer each landmark is a ring with a dot; a second layer (e.g. a second
 * annotator, or the prediction beside the reference) is drawn as hollow
 * diamonds, each joined by a line to the same landmark of the first layer.
 * Every landmark has its own colour (hy_overlay_landmark_colour) and a
 * 1-based number placed where it overlaps other labels and markers least.
 * Layers with a label get a legend entry in the top-left corner. Marker,
 * line and text sizes scale with the rendered image.
 *
 * Under the markers an optional heatmap layer shows a network's K heatmaps
 * at once: each pixel is tinted with the colour of the landmark whose
 * heatmap is strongest there, with an opacity that grows from 0 at values
 * up to 0.05 to 70 % at 1 and above, so each landmark's blob appears in its
 * marker's colour. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "affine.h"
#include "image.h"
#include "landmarks.h"

G_BEGIN_DECLS

#define HY_OVERLAY_MAX_LAYERS 2

/* How a marker is drawn besides its layer's shape: e.g. the landmark
 * states of an annotation (cmd_show.c: predicted dashed, moved plain,
 * confirmed double). */
typedef enum {
  HY_OVERLAY_MARK_PLAIN = 0, /* one solid outline */
  HY_OVERLAY_MARK_DASHED,    /* a dashed outline */
  HY_OVERLAY_MARK_DOUBLE,    /* a solid outline with a second one around it */
} HyOverlayMark;

typedef struct HyOverlayLayer {
  const char *label;      /* borrowed, UTF-8, for the legend; NULL: no entry */
  const hy_point *points; /* borrowed, [n_points], original pixels; non-finite
                             points are not drawn */
  int n_points;
  const HyOverlayMark *marks; /* borrowed, [n_points], or NULL: all plain */
} HyOverlayLayer;

/* The colour of landmark `index` (0-based) as r, g, b in [0, 1]: a fixed
 * palette of HY_OVERLAY_N_COLOURS bright hues, repeating beyond that. */
#define HY_OVERLAY_N_COLOURS 20
void hy_overlay_landmark_colour(int index, double rgb[3]);

/* Draws img (downscaled so that its longer side is at most max_size pixels
 * with an area average; max_size 0 = original size, never upscaled) with
 * 0..HY_OVERLAY_MAX_LAYERS layers. Layers must hold the same number of
 * points. Returns a new CAIRO_FORMAT_RGB24 surface, or NULL with error set. */
cairo_surface_t *hy_overlay_render(const hy_image *img, int max_size,
                                   const HyOverlayLayer *layers, int n_layers,
                                   GError **error);

typedef struct HyOverlayHeatmap {
  const float *maps;      /* borrowed, [K][h][w] */
  int K, h, w;
  hy_affine image_to_map; /* original image px -> map px (pixel centres at
                             integers in both) */
} HyOverlayHeatmap;

/* hy_overlay_render with the heatmap layer drawn first (heatmap may be
 * NULL: none). */
cairo_surface_t *hy_overlay_render_heatmap(const hy_image *img, int max_size,
                                           const HyOverlayHeatmap *heatmap,
                                           const HyOverlayLayer *layers,
                                           int n_layers, GError **error);

/* Encodes surface as PNG in memory and replaces path atomically (temp
 * file, fsync, rename). */
gboolean hy_overlay_save_png(cairo_surface_t *surface, const char *path,
                             GError **error);

G_END_DECLS
