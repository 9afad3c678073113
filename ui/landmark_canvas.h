/* HyLandmarkCanvas: the X-ray with window/level, zoom and pan, the landmark
 * markers, the selected landmark's heatmap and a scale bar; markers are
 * dragged, nudged, confirmed and cycled here. It knows nothing of models or
 * files: the owner gives it pixels and points and listens to its signals.
 *
 * Image coordinates are pixels with pixel centres at integers (as in
 * libhyatt): pixel (0, 0) covers [-0.5, 0.5) x [-0.5, 0.5). */
#pragma once

#include <gtk/gtk.h>

#include "annotation.h" /* HyLandmarkState */
#include "hyatt.h"

G_BEGIN_DECLS

typedef enum
{
  HY_GREY_FLOAT, /* float in [0, 1] */
  HY_GREY_U8,
  HY_GREY_U16,
} HyGreyFormat;

/* One marker. x, y NaN: the landmark has no position yet. Absent ones are
 * not drawn and cannot be grabbed. */
typedef struct
{
  double          x, y;
  HyLandmarkState state;
  double          predicted_x, predicted_y; /* NaN when there is no prediction */
  const char     *label;                    /* borrowed by the caller; the canvas copies it */
  GdkRGBA         colour;                   /* alpha 0: the colour of the state */
} HyCanvasLandmark;

#define HY_TYPE_LANDMARK_CANVAS (hy_landmark_canvas_get_type ())

G_DECLARE_FINAL_TYPE (HyLandmarkCanvas, hy_landmark_canvas, HY, LANDMARK_CANVAS, GtkWidget)

GtkWidget              *hy_landmark_canvas_new                (void);

/* Shows image, or nothing when image is NULL. Takes ownership: image was
 * allocated with g_new0() and filled by libhyatt (e.g. hy_image_load()); the
 * canvas frees it with hy_image_free() and g_free(). Fits it to the widget. */
void                    hy_landmark_canvas_take_image         (HyLandmarkCanvas       *self,
                                                               hy_image               *image);

/* Copies a grey buffer of width x height samples, rows stride bytes apart. */
void                    hy_landmark_canvas_set_grey           (HyLandmarkCanvas       *self,
                                                               HyGreyFormat            format,
                                                               const void             *data,
                                                               int                     width,
                                                               int                     height,
                                                               gsize                   stride);

/* The image shown (borrowed), or NULL. */
const hy_image         *hy_landmark_canvas_get_image          (HyLandmarkCanvas       *self);

/* Copies n landmarks (labels too). The selection is kept when still valid. */
void                    hy_landmark_canvas_set_landmarks      (HyLandmarkCanvas       *self,
                                                               const HyCanvasLandmark *landmarks,
                                                               guint                   n);
guint                   hy_landmark_canvas_get_n_landmarks    (HyLandmarkCanvas       *self);
/* Borrowed; valid until the landmarks change. */
const HyCanvasLandmark *hy_landmark_canvas_get_landmark       (HyLandmarkCanvas       *self,
                                                               guint                   index);

/* -1: none. */
void                    hy_landmark_canvas_set_selected       (HyLandmarkCanvas       *self,
                                                               int                     index);
int                     hy_landmark_canvas_get_selected       (HyLandmarkCanvas       *self);

/* A grid of grid_width x grid_height values in [0, 1] (copied), shown over
 * the image; affine (a, b, c, d, e, f) maps grid point (u, v) to image point
 * (a u + b v + c, d u + e v + f), both with centres at integers. NULL clears. */
void                    hy_landmark_canvas_set_heatmap        (HyLandmarkCanvas       *self,
                                                               const float            *grid,
                                                               int                     grid_width,
                                                               int                     grid_height,
                                                               const double            affine[6]);

/* How opaque the heatmap is drawn, in [0, 1] (default 1). */
void                    hy_landmark_canvas_set_heatmap_opacity (HyLandmarkCanvas      *self,
                                                               double                  opacity);

/* Millimetres per image pixel for the scale bar; 0 hides it. */
void                    hy_landmark_canvas_set_spacing        (HyLandmarkCanvas       *self,
                                                               double                  mm_per_px);

/* Grey values are mapped so that [centre - width/2, centre + width/2] spans
 * black to white (white to black when inverted). */
void                    hy_landmark_canvas_set_window         (HyLandmarkCanvas       *self,
                                                               double                  centre,
                                                               double                  width);
void                    hy_landmark_canvas_set_invert         (HyLandmarkCanvas       *self,
                                                               gboolean                invert);

/* Widget pixels per image pixel. */
double                  hy_landmark_canvas_get_zoom           (HyLandmarkCanvas       *self);
/* Zooms by factor keeping widget point (wx, wy) over the same image point. */
void                    hy_landmark_canvas_zoom_at            (HyLandmarkCanvas       *self,
                                                               double                  factor,
                                                               double                  wx,
                                                               double                  wy);
void                    hy_landmark_canvas_pan                (HyLandmarkCanvas       *self,
                                                               double                  dx,
                                                               double                  dy);
/* The whole image in the widget, following resizes until the next zoom/pan. */
void                    hy_landmark_canvas_zoom_fit           (HyLandmarkCanvas       *self);
/* One image pixel per screen pixel, about the widget's centre. */
void                    hy_landmark_canvas_zoom_one           (HyLandmarkCanvas       *self);

/* Pans so that image point (ix, iy) is at the widget's centre. */
void                    hy_landmark_canvas_centre_on          (HyLandmarkCanvas       *self,
                                                               double                  ix,
                                                               double                  iy);

/* Exact inverses of each other. */
void                    hy_landmark_canvas_image_to_widget    (HyLandmarkCanvas       *self,
                                                               double                  ix,
                                                               double                  iy,
                                                               double                 *wx,
                                                               double                 *wy);
void                    hy_landmark_canvas_widget_to_image    (HyLandmarkCanvas       *self,
                                                               double                  wx,
                                                               double                  wy,
                                                               double                 *ix,
                                                               double                 *iy);

/* Where the image is drawn, in widget coordinates. FALSE when there is no
 * image or the widget has no size yet. */
gboolean                hy_landmark_canvas_get_image_bounds   (HyLandmarkCanvas       *self,
                                                               graphene_rect_t        *bounds);

G_END_DECLS
