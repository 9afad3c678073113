/* HyLandmarkCanvas. The float image is halved into a pyramid once, when it is
 * set; each level becomes an 8-bit windowed texture only when it is first
 * drawn after a window/level change, so a frame never converts pixels. GTK
 * 4.8 samples textures bilinearly without mipmaps, hence the pyramid: drawing
 * picks the smallest level that still has a texel per screen pixel. Markers,
 * labels and the scale bar are cheap cairo drawing on top. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "landmark_canvas-private.h"

/* Halving stops once a side is this short. */
#define MIN_LEVEL_SIDE 256
/* A press this close to a marker, in screen pixels, grabs it. */
#define GRAB_RADIUS 10.0
#define MARKER_RADIUS 6.0
#define MIN_ZOOM (1.0 / 64)
#define MAX_ZOOM 64.0
#define KEY_ZOOM 1.25
/* Window/level change per pixel of right-button drag. */
#define WINDOW_PER_PX (1.0 / 400)

typedef struct
{
  int    width, height;
  float *pixels;       /* owned, except level 0 which is the image's */
  GdkTexture *texture; /* owned; NULL until drawn with the current window */
} Level;

typedef enum
{
  DRAG_NONE,
  DRAG_CLICK, /* pressed on empty image: may become a "place" */
  DRAG_POINT,
  DRAG_PAN,
} DragMode;

struct _HyLandmarkCanvas
{
  GtkWidget parent_instance;

  /* Owned */
  hy_image         *image;     /* NULL when empty */
  GArray           *levels;    /* of Level */
  GArray           *landmarks; /* of HyCanvasLandmark; labels owned */
  GdkTexture       *heat_texture; /* the colour-mapped grid, or NULL */

  int    heat_width, heat_height;
  double heat_affine[6];
  double heat_opacity;
  int    selected;
  double mm_per_px;
  double window_centre, window_width;
  gboolean invert;

  /* View: widget point of image corner (-0.5, -0.5) and the scale. */
  double   origin_x, origin_y, zoom;
  gboolean fit;              /* refit on every resize */

  /* Interaction */
  DragMode drag_mode;
  int      drag_index;
  double   drag_start_x, drag_start_y;  /* widget */
  double   drag_point_x, drag_point_y;  /* widget position of the point at the press */
  double   pan_start_x, pan_start_y;    /* origin at the press */
  double   level_start_centre, level_start_width;
  double   pinch_start_zoom;
  double   pointer_x, pointer_y;        /* last pointer position, for scroll zoom */
  gboolean space_down;
};

enum
{
  PROP_0,
  PROP_WINDOW_CENTRE,
  PROP_WINDOW_WIDTH,
  PROP_INVERT,
  PROP_SELECTED,
  PROP_ZOOM,
  N_PROPS
};

enum
{
  SIGNAL_POINT_MOVED,
  SIGNAL_SELECTION_CHANGED,
  SIGNAL_CONFIRM,
  SIGNAL_MARK_ABSENT,
  SIGNAL_PLACE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HyLandmarkCanvas, hy_landmark_canvas, GTK_TYPE_WIDGET)

static void
image_free (hy_image *image)
{
  hy_image_free (image);
  g_free (image);
}

static gboolean
has_position (const HyCanvasLandmark *l)
{
  return isfinite (l->x) && isfinite (l->y) && l->state != HY_LANDMARK_ABSENT;
}

static guchar
to_byte (double v)
{
  /* Written so that NaN becomes black. */
  return (guchar) (v > 0.0 ? (v < 1.0 ? v * 255.0 + 0.5 : 255.0) : 0.0);
}

static GdkTexture *
windowed_texture (HyLandmarkCanvas *self,
                  const Level      *level)
{
  gsize stride = (gsize) level->width * 3;
  guchar *rgb = g_malloc (stride * (gsize) level->height);
  double lo = self->window_centre - self->window_width / 2;
  double gain = 1.0 / self->window_width;
  g_autoptr(GBytes) bytes = NULL;

  for (gsize i = 0, n = (gsize) level->width * (gsize) level->height; i < n; i++)
    {
      double v = (level->pixels[i] - lo) * gain;
      guchar c = to_byte (self->invert ? 1.0 - v : v);

      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = c;
    }
  bytes = g_bytes_new_take (rgb, stride * (gsize) level->height);
  /* GDK 4.8 has no one-channel memory format; R8G8B8 is the smallest. */
  return gdk_memory_texture_new (level->width, level->height, GDK_MEMORY_R8G8B8, bytes, stride);
}

static void
invalidate_textures (HyLandmarkCanvas *self)
{
  for (guint i = 0; i < self->levels->len; i++)
    g_clear_object (&g_array_index (self->levels, Level, i).texture);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* 2x2 box average; an odd last row or column is averaged with itself. */
static void
halve (float       *dst, /* [(height+1)/2][(width+1)/2] */
       const float *src, /* [height][width] */
       int          width,
       int          height)
{
  int w2 = (width + 1) / 2, h2 = (height + 1) / 2;

  for (int y = 0; y < h2; y++)
    {
      const float *r0 = src + (gsize) (2 * y) * (gsize) width;
      const float *r1 = src + (gsize) MIN (2 * y + 1, height - 1) * (gsize) width;

      for (int x = 0; x < w2; x++)
        {
          int x0 = 2 * x, x1 = MIN (2 * x + 1, width - 1);
          dst[(gsize) y * (gsize) w2 + (gsize) x] = 0.25f * (r0[x0] + r0[x1] + r1[x0] + r1[x1]);
        }
    }
}

static void
clear_levels (HyLandmarkCanvas *self)
{
  for (guint i = 0; i < self->levels->len; i++)
    {
      Level *level = &g_array_index (self->levels, Level, i);

      if (i > 0)
        g_free (level->pixels);
      g_clear_object (&level->texture);
    }
  g_array_set_size (self->levels, 0);
}

static void
build_levels (HyLandmarkCanvas *self)
{
  Level level = { self->image->width, self->image->height, self->image->pixels, NULL };

  g_array_append_val (self->levels, level);
  while (MIN (level.width, level.height) / 2 >= MIN_LEVEL_SIDE)
    {
      Level next = { (level.width + 1) / 2, (level.height + 1) / 2, NULL, NULL };

      next.pixels = g_new (float, (gsize) next.width * (gsize) next.height);
      halve (next.pixels, level.pixels, level.width, level.height);
      g_array_append_val (self->levels, next);
      level = next;
    }
}

static void
notify_zoom (HyLandmarkCanvas *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
apply_fit (HyLandmarkCanvas *self)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));

  if (self->image == NULL || width <= 0 || height <= 0)
    return;
  self->zoom = MIN (width / self->image->width, height / self->image->height);
  /* Whole pixels, so the edges stay sharp; rounded, as the side that
   * fills the widget may miss it by a rounding error. */
  self->origin_x = round ((width - self->image->width * self->zoom) / 2);
  self->origin_y = round ((height - self->image->height * self->zoom) / 2);
  notify_zoom (self);
}

GtkWidget *
hy_landmark_canvas_new (void)
{
  return g_object_new (HY_TYPE_LANDMARK_CANVAS, NULL);
}

void
hy_landmark_canvas_take_image (HyLandmarkCanvas *self,
                               hy_image         *image)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (image == NULL || (image->pixels != NULL && image->width > 0 && image->height > 0));

  clear_levels (self);
  g_clear_pointer (&self->image, image_free);
  self->image = image;
  if (image != NULL)
    build_levels (self);
  self->fit = TRUE;
  apply_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hy_landmark_canvas_set_grey (HyLandmarkCanvas *self,
                             HyGreyFormat      format,
                             const void       *data,
                             int               width,
                             int               height,
                             gsize             stride)
{
  hy_image *image;

  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (data != NULL && width > 0 && height > 0);

  image = g_new0 (hy_image, 1);
  image->width = width;
  image->height = height;
  image->bit_depth = format == HY_GREY_U16 ? 16 : 8;
  image->pixels = g_new (float, (gsize) width * (gsize) height);
  for (int y = 0; y < height; y++)
    {
      const guchar *row = (const guchar *) data + (gsize) y * stride;
      float *out = image->pixels + (gsize) y * (gsize) width;

      for (int x = 0; x < width; x++)
        switch (format)
          {
          case HY_GREY_FLOAT:
            out[x] = ((const float *) row)[x];
            break;
          case HY_GREY_U8:
            out[x] = row[x] / 255.0f;
            break;
          case HY_GREY_U16:
          default:
            out[x] = ((const guint16 *) row)[x] / 65535.0f;
            break;
          }
    }
  hy_landmark_canvas_take_image (self, image);
}

const hy_image *
hy_landmark_canvas_get_image (HyLandmarkCanvas *self)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), NULL);

  return self->image;
}

static void
landmark_clear (gpointer data)
{
  HyCanvasLandmark *l = data;

  g_free ((char *) l->label);
}

void
hy_landmark_canvas_set_landmarks (HyLandmarkCanvas       *self,
                                  const HyCanvasLandmark *landmarks,
                                  guint                   n)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (landmarks != NULL || n == 0);

  g_array_set_size (self->landmarks, 0);
  for (guint i = 0; i < n; i++)
    {
      HyCanvasLandmark l = landmarks[i];

      l.label = g_strdup (l.label);
      g_array_append_val (self->landmarks, l);
    }
  if (self->selected >= (int) n)
    hy_landmark_canvas_set_selected (self, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
hy_landmark_canvas_get_n_landmarks (HyLandmarkCanvas *self)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), 0);

  return self->landmarks->len;
}

const HyCanvasLandmark *
hy_landmark_canvas_get_landmark (HyLandmarkCanvas *self,
                                 guint             index)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), NULL);
  g_return_val_if_fail (index < self->landmarks->len, NULL);

  return &g_array_index (self->landmarks, HyCanvasLandmark, index);
}

void
hy_landmark_canvas_set_selected (HyLandmarkCanvas *self,
                                 int               index)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (index >= -1 && index < (int) self->landmarks->len);

  if (self->selected == index)
    return;
  self->selected = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0, index);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
hy_landmark_canvas_get_selected (HyLandmarkCanvas *self)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), -1);

  return self->selected;
}

/* Transparent blue through cyan and yellow to red; faint values fade out
 * so that the image stays readable around the peak. */
static void
heat_colour (float   v,
             guchar *rgba)
{
  static const float stops[][3] = {
    { 0.0f, 0.0f, 1.0f }, { 0.0f, 1.0f, 1.0f }, { 1.0f, 1.0f, 0.0f }, { 1.0f, 0.0f, 0.0f },
  };
  float t = isfinite (v) ? CLAMP (v, 0.0f, 1.0f) : 0.0f;
  float p = t * 3.0f;
  int i = MIN ((int) p, 2);
  float f = p - (float) i;

  for (int c = 0; c < 3; c++)
    rgba[c] = to_byte (stops[i][c] + f * (stops[i + 1][c] - stops[i][c]));
  rgba[3] = to_byte (MIN (1.0f, t * 2.0f) * 0.6f);
}

void
hy_landmark_canvas_set_heatmap (HyLandmarkCanvas *self,
                                const float      *grid,
                                int               grid_width,
                                int               grid_height,
                                const double      affine[6])
{
  gsize n;
  guchar *rgba;
  g_autoptr(GBytes) bytes = NULL;

  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (grid == NULL || (grid_width > 0 && grid_height > 0 && affine != NULL));

  g_clear_object (&self->heat_texture);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (grid == NULL)
    return;

  n = (gsize) grid_width * (gsize) grid_height;
  self->heat_width = grid_width;
  self->heat_height = grid_height;
  memcpy (self->heat_affine, affine, sizeof self->heat_affine);
  rgba = g_malloc (n * 4);
  for (gsize i = 0; i < n; i++)
    heat_colour (grid[i], rgba + 4 * i);
  bytes = g_bytes_new_take (rgba, n * 4);
  self->heat_texture = gdk_memory_texture_new (grid_width, grid_height, GDK_MEMORY_R8G8B8A8,
                                               bytes, (gsize) grid_width * 4);
}

void
hy_landmark_canvas_set_heatmap_opacity (HyLandmarkCanvas *self,
                                        double            opacity)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  self->heat_opacity = CLAMP (opacity, 0.0, 1.0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hy_landmark_canvas_set_spacing (HyLandmarkCanvas *self,
                                double            mm_per_px)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (mm_per_px >= 0);

  self->mm_per_px = mm_per_px;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hy_landmark_canvas_set_window (HyLandmarkCanvas *self,
                               double            centre,
                               double            width)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  centre = CLAMP (centre, 0.0, 1.0);
  width = CLAMP (width, 1e-3, 2.0);
  if (centre == self->window_centre && width == self->window_width)
    return;
  self->window_centre = centre;
  self->window_width = width;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_CENTRE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_WIDTH]);
  invalidate_textures (self);
}

void
hy_landmark_canvas_set_invert (HyLandmarkCanvas *self,
                               gboolean          invert)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  invert = !!invert;
  if (invert == self->invert)
    return;
  self->invert = invert;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INVERT]);
  invalidate_textures (self);
}

double
hy_landmark_canvas_get_zoom (HyLandmarkCanvas *self)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), 1.0);

  return self->zoom;
}

void
hy_landmark_canvas_zoom_at (HyLandmarkCanvas *self,
                            double            factor,
                            double            wx,
                            double            wy)
{
  double zoom;

  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (factor > 0);

  zoom = CLAMP (self->zoom * factor, MIN_ZOOM, MAX_ZOOM);
  /* The corner moves so that the image point under (wx, wy) stays put. */
  self->origin_x = wx - (wx - self->origin_x) * (zoom / self->zoom);
  self->origin_y = wy - (wy - self->origin_y) * (zoom / self->zoom);
  self->zoom = zoom;
  self->fit = FALSE;
  notify_zoom (self);
}

void
hy_landmark_canvas_pan (HyLandmarkCanvas *self,
                        double            dx,
                        double            dy)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  self->origin_x += dx;
  self->origin_y += dy;
  self->fit = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hy_landmark_canvas_centre_on (HyLandmarkCanvas *self,
                              double            ix,
                              double            iy)
{
  double wx, wy;

  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  hy_landmark_canvas_image_to_widget (self, ix, iy, &wx, &wy);
  hy_landmark_canvas_pan (self,
                          gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - wx,
                          gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - wy);
}

void
hy_landmark_canvas_zoom_fit (HyLandmarkCanvas *self)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  self->fit = TRUE;
  apply_fit (self);
}

void
hy_landmark_canvas_zoom_one (HyLandmarkCanvas *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  hy_landmark_canvas_zoom_at (self, 1.0 / (self->zoom * gtk_widget_get_scale_factor (widget)),
                              gtk_widget_get_width (widget) / 2.0,
                              gtk_widget_get_height (widget) / 2.0);
}

void
hy_landmark_canvas_image_to_widget (HyLandmarkCanvas *self,
                                    double            ix,
                                    double            iy,
                                    double           *wx,
                                    double           *wy)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (wx != NULL && wy != NULL);

  *wx = self->origin_x + (ix + 0.5) * self->zoom;
  *wy = self->origin_y + (iy + 0.5) * self->zoom;
}

void
hy_landmark_canvas_widget_to_image (HyLandmarkCanvas *self,
                                    double            wx,
                                    double            wy,
                                    double           *ix,
                                    double           *iy)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));
  g_return_if_fail (ix != NULL && iy != NULL);

  *ix = (wx - self->origin_x) / self->zoom - 0.5;
  *iy = (wy - self->origin_y) / self->zoom - 0.5;
}

gboolean
hy_landmark_canvas_get_image_bounds (HyLandmarkCanvas *self,
                                     graphene_rect_t  *bounds)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), FALSE);
  g_return_val_if_fail (bounds != NULL, FALSE);

  if (self->image == NULL || gtk_widget_get_width (GTK_WIDGET (self)) <= 0 ||
      gtk_widget_get_height (GTK_WIDGET (self)) <= 0)
    return FALSE;
  graphene_rect_init (bounds, self->origin_x, self->origin_y,
                      self->image->width * self->zoom, self->image->height * self->zoom);
  return TRUE;
}

/* Editing */

/* The landmark with a position nearest to widget point (x, y) within the
 * grab radius, or -1. */
static int
hit_test (HyLandmarkCanvas *self,
          double            x,
          double            y)
{
  double best = GRAB_RADIUS * GRAB_RADIUS;
  int found = -1;

  for (guint i = 0; i < self->landmarks->len; i++)
    {
      const HyCanvasLandmark *l = &g_array_index (self->landmarks, HyCanvasLandmark, i);
      double wx, wy, d;

      if (!has_position (l))
        continue;
      hy_landmark_canvas_image_to_widget (self, l->x, l->y, &wx, &wy);
      d = (wx - x) * (wx - x) + (wy - y) * (wy - y);
      if (d <= best)
        {
          best = d;
          found = (int) i;
        }
    }
  return found;
}

/* Moves landmark index to image point (x, y), kept on the image. */
static void
move_point (HyLandmarkCanvas *self,
            int               index,
            double            x,
            double            y,
            gboolean          finished)
{
  HyCanvasLandmark *l = &g_array_index (self->landmarks, HyCanvasLandmark, index);

  l->x = CLAMP (x, -0.5, self->image->width - 0.5);
  l->y = CLAMP (y, -0.5, self->image->height - 0.5);
  l->state = HY_LANDMARK_MOVED;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_POINT_MOVED], 0, (guint) index, l->x, l->y, finished);
}

static void
primary_begin (HyLandmarkCanvas *self,
               double            x,
               double            y)
{
  self->drag_start_x = x;
  self->drag_start_y = y;
  self->drag_index = -1;
  if (self->image == NULL)
    {
      self->drag_mode = DRAG_NONE;
      return;
    }
  if (self->space_down)
    {
      self->drag_mode = DRAG_PAN;
      self->pan_start_x = self->origin_x;
      self->pan_start_y = self->origin_y;
      return;
    }

  self->drag_index = hit_test (self, x, y);
  if (self->drag_index < 0)
    {
      self->drag_mode = DRAG_CLICK;
      return;
    }
  {
    const HyCanvasLandmark *l = &g_array_index (self->landmarks, HyCanvasLandmark, self->drag_index);

    /* Keep the grab offset, so the marker does not jump to the pointer. */
    hy_landmark_canvas_image_to_widget (self, l->x, l->y, &self->drag_point_x, &self->drag_point_y);
  }
  self->drag_mode = DRAG_POINT;
  hy_landmark_canvas_set_selected (self, self->drag_index);
}

static void
primary_update (HyLandmarkCanvas *self,
                double            dx,
                double            dy,
                gboolean          finished)
{
  double ix, iy;

  switch (self->drag_mode)
    {
    case DRAG_PAN:
      self->origin_x = self->pan_start_x + dx;
      self->origin_y = self->pan_start_y + dy;
      self->fit = FALSE;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;
    case DRAG_POINT:
      hy_landmark_canvas_widget_to_image (self, self->drag_point_x + dx, self->drag_point_y + dy, &ix, &iy);
      move_point (self, self->drag_index, ix, iy, finished);
      break;
    case DRAG_CLICK:
      if (finished && self->selected >= 0 &&
          !has_position (&g_array_index (self->landmarks, HyCanvasLandmark, self->selected)))
        {
          hy_landmark_canvas_widget_to_image (self, self->drag_start_x + dx, self->drag_start_y + dy, &ix, &iy);
          if (ix < -0.5 || iy < -0.5 || ix > self->image->width - 0.5 || iy > self->image->height - 0.5)
            break;
          move_point (self, self->selected, ix, iy, TRUE);
          g_signal_emit (self, signals[SIGNAL_PLACE], 0, (guint) self->selected, ix, iy);
        }
      break;
    case DRAG_NONE:
    default:
      break;
    }
  if (finished)
    self->drag_mode = DRAG_NONE;
}

static void
on_primary_begin (GtkGestureDrag   *gesture,
                  double            x,
                  double            y,
                  HyLandmarkCanvas *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  primary_begin (self, x, y);
  if (self->drag_mode == DRAG_NONE)
    gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
}

static void
on_primary_update (GtkGestureDrag   *gesture,
                   double            dx,
                   double            dy,
                   HyLandmarkCanvas *self)
{
  primary_update (self, dx, dy, FALSE);
}

static void
on_primary_end (GtkGestureDrag   *gesture,
                double            dx,
                double            dy,
                HyLandmarkCanvas *self)
{
  primary_update (self, dx, dy, TRUE);
}

static void
on_pan_begin (GtkGestureDrag   *gesture,
              double            x,
              double            y,
              HyLandmarkCanvas *self)
{
  self->pan_start_x = self->origin_x;
  self->pan_start_y = self->origin_y;
}

static void
on_pan_update (GtkGestureDrag   *gesture,
               double            dx,
               double            dy,
               HyLandmarkCanvas *self)
{
  hy_landmark_canvas_pan (self, self->pan_start_x + dx - self->origin_x,
                          self->pan_start_y + dy - self->origin_y);
}

static void
on_level_begin (GtkGestureDrag   *gesture,
                double            x,
                double            y,
                HyLandmarkCanvas *self)
{
  self->level_start_centre = self->window_centre;
  self->level_start_width = self->window_width;
}

/* Right to widen the window, down to brighten (lower the level), as in
 * common DICOM viewers. */
static void
on_level_update (GtkGestureDrag   *gesture,
                 double            dx,
                 double            dy,
                 HyLandmarkCanvas *self)
{
  hy_landmark_canvas_set_window (self, self->level_start_centre - dy * WINDOW_PER_PX,
                                 self->level_start_width + dx * WINDOW_PER_PX);
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           HyLandmarkCanvas         *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll,
           double                    dx,
           double                    dy,
           HyLandmarkCanvas         *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  /* Wheel clicks come as ±1, touchpads in pixels. */
  double step = gtk_event_controller_scroll_get_unit (scroll) == GDK_SCROLL_UNIT_WHEEL ? 48.0 : 1.0;

  if (self->image == NULL)
    return FALSE;
  if (mods & GDK_CONTROL_MASK)
    hy_landmark_canvas_zoom_at (self, pow (1.2, -dy * step / 48.0), self->pointer_x, self->pointer_y);
  else
    hy_landmark_canvas_pan (self, -dx * step, -dy * step);
  return TRUE;
}

static void
on_pinch_begin (GtkGesture       *gesture,
                GdkEventSequence *sequence,
                HyLandmarkCanvas *self)
{
  self->pinch_start_zoom = self->zoom;
}

static void
on_pinch_scale (GtkGestureZoom   *gesture,
                double            scale,
                HyLandmarkCanvas *self)
{
  double cx, cy;

  if (self->image == NULL ||
      !gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    return;
  hy_landmark_canvas_zoom_at (self, self->pinch_start_zoom * scale / self->zoom, cx, cy);
}

static void
select_step (HyLandmarkCanvas *self,
             int               step)
{
  int n = (int) self->landmarks->len;

  if (self->selected < 0)
    hy_landmark_canvas_set_selected (self, step > 0 ? 0 : n - 1);
  else
    hy_landmark_canvas_set_selected (self, (self->selected + step + n) % n);
}

static gboolean
handle_key (HyLandmarkCanvas *self,
            guint             keyval,
            GdkModifierType   state)
{
  GtkWidget *widget = GTK_WIDGET (self);
  double cx = gtk_widget_get_width (widget) / 2.0;
  double cy = gtk_widget_get_height (widget) / 2.0;
  double nudge = (state & GDK_SHIFT_MASK) ? 10.0 : 1.0;
  HyCanvasLandmark *sel = self->selected >= 0
    ? &g_array_index (self->landmarks, HyCanvasLandmark, self->selected) : NULL;
  double nx = 0, ny = 0;

  switch (keyval)
    {
    case GDK_KEY_space:
      self->space_down = TRUE;
      return TRUE;
    case GDK_KEY_Tab:
    case GDK_KEY_ISO_Left_Tab:
    case GDK_KEY_KP_Tab:
      if (self->landmarks->len == 0)
        return FALSE;
      select_step (self, (keyval == GDK_KEY_ISO_Left_Tab || (state & GDK_SHIFT_MASK)) ? -1 : 1);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
      if (sel == NULL)
        return FALSE;
      g_signal_emit (self, signals[SIGNAL_CONFIRM], 0, (guint) self->selected);
      return TRUE;
    case GDK_KEY_Delete:
    case GDK_KEY_KP_Delete:
      if (sel == NULL)
        return FALSE;
      g_signal_emit (self, signals[SIGNAL_MARK_ABSENT], 0, (guint) self->selected);
      return TRUE;
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      nx = -nudge;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      nx = nudge;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      ny = -nudge;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      ny = nudge;
      break;
    default:
      break;
    }
  if (nx != 0 || ny != 0)
    {
      if (sel == NULL || !has_position (sel) || self->image == NULL)
        return FALSE;
      move_point (self, self->selected, sel->x + nx, sel->y + ny, TRUE);
      return TRUE;
    }

  if (self->image == NULL)
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      hy_landmark_canvas_zoom_at (self, KEY_ZOOM, cx, cy);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      hy_landmark_canvas_zoom_at (self, 1.0 / KEY_ZOOM, cx, cy);
      return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
      if (!(state & GDK_CONTROL_MASK))
        return FALSE;
      hy_landmark_canvas_zoom_fit (self);
      return TRUE;
    case GDK_KEY_f:
    case GDK_KEY_F:
      hy_landmark_canvas_zoom_fit (self);
      return TRUE;
    case GDK_KEY_1:
    case GDK_KEY_KP_1:
      hy_landmark_canvas_zoom_one (self);
      return TRUE;
    case GDK_KEY_i:
    case GDK_KEY_I:
      hy_landmark_canvas_set_invert (self, !self->invert);
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
on_key_pressed (GtkEventControllerKey *key,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                HyLandmarkCanvas      *self)
{
  return handle_key (self, keyval, state);
}

static void
on_key_released (GtkEventControllerKey *key,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 HyLandmarkCanvas      *self)
{
  if (keyval == GDK_KEY_space)
    self->space_down = FALSE;
}

void
hy_landmark_canvas_test_drag (HyLandmarkCanvas *self,
                              double            x,
                              double            y,
                              double            dx,
                              double            dy)
{
  g_return_if_fail (HY_IS_LANDMARK_CANVAS (self));

  primary_begin (self, x, y);
  for (int i = 1; i <= 4; i++)
    primary_update (self, dx * i / 4, dy * i / 4, FALSE);
  primary_update (self, dx, dy, TRUE);
}

gboolean
hy_landmark_canvas_test_key (HyLandmarkCanvas *self,
                             guint             keyval,
                             GdkModifierType   state)
{
  g_return_val_if_fail (HY_IS_LANDMARK_CANVAS (self), FALSE);

  return handle_key (self, keyval, state);
}

/* Drawing */

static const GdkRGBA state_colours[] = {
  [HY_LANDMARK_PREDICTED] = { 1.0f, 0.64f, 0.15f, 1.0f }, /* orange: not yet looked at */
  [HY_LANDMARK_MOVED] = { 0.38f, 0.73f, 1.0f, 1.0f },     /* blue: edited */
  [HY_LANDMARK_CONFIRMED] = { 0.34f, 0.89f, 0.54f, 1.0f },/* green: done */
  [HY_LANDMARK_ABSENT] = { 0.6f, 0.6f, 0.6f, 1.0f },
};

static GdkTexture *
level_for_zoom (HyLandmarkCanvas *self)
{
  double need = self->image->width * self->zoom * gtk_widget_get_scale_factor (GTK_WIDGET (self));
  Level *level = &g_array_index (self->levels, Level, 0);

  for (guint i = self->levels->len; i-- > 0;)
    {
      Level *l = &g_array_index (self->levels, Level, i);

      if (l->width >= need)
        {
          level = l;
          break;
        }
    }
  if (level->texture == NULL)
    level->texture = windowed_texture (self, level);
  return level->texture;
}

/* The affine a (x' = a0 x + a1 y + a2, y' = a3 x + a4 y + a5) as GSK's 2D
 * steps: translate, rotate, skew, scale. GSK counts any matrix as 3D, and
 * GTK 4.8's renderers put a pink box where they do not draw one. FALSE
 * (nothing pushed) when a is singular. */
static gboolean
transform_affine (GtkSnapshot  *snapshot,
                  const double  a[6])
{
  double sx = hypot (a[0], a[3]), theta = atan2 (a[3], a[0]);
  double c = cos (theta), s = sin (theta);
  double k = c * a[1] + s * a[4], sy = c * a[4] - s * a[1];
  g_autoptr(GskTransform) skew = NULL;

  if (sx == 0 || sy == 0)
    return FALSE;
  skew = gsk_transform_skew (NULL, (float) (atan (k / sy) * 180 / G_PI), 0);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (a[2], a[5]));
  gtk_snapshot_rotate (snapshot, (float) (theta * 180 / G_PI));
  gtk_snapshot_transform (snapshot, skew);
  gtk_snapshot_scale (snapshot, (float) sx, (float) sy);
  return TRUE;
}

static void
draw_heatmap (HyLandmarkCanvas *self,
              GtkSnapshot      *snapshot)
{
  gtk_snapshot_push_opacity (snapshot, self->heat_opacity);
  gtk_snapshot_save (snapshot);
  /* Image point (0, 0) is the centre of the first pixel. */
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (self->origin_x + 0.5 * self->zoom,
                                                          self->origin_y + 0.5 * self->zoom));
  gtk_snapshot_scale (snapshot, self->zoom, self->zoom);
  if (transform_affine (snapshot, self->heat_affine))
    gtk_snapshot_append_texture (snapshot, self->heat_texture,
                                 &GRAPHENE_RECT_INIT (-0.5f, -0.5f, self->heat_width, self->heat_height));
  gtk_snapshot_restore (snapshot);
  gtk_snapshot_pop (snapshot);
}

static void
draw_text (HyLandmarkCanvas *self,
           cairo_t          *cr,
           const char       *text,
           double            x,
           double            y,
           gboolean          bold)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);

  if (bold)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", text);

      pango_layout_set_markup (layout, markup, -1);
    }
  else
    pango_layout_set_text (layout, text, -1);
  /* A dark halo keeps the text legible on bright bone. */
  cairo_move_to (cr, x, y);
  pango_cairo_layout_path (cr, layout);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.85);
  cairo_set_line_width (cr, 3.0);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
  cairo_move_to (cr, x, y);
  cairo_set_source_rgb (cr, 1, 1, 1);
  pango_cairo_show_layout (cr, layout);
  /* show_layout leaves the current point, which the next arc would join. */
  cairo_new_path (cr);
}

static void
draw_marker (HyLandmarkCanvas       *self,
             cairo_t                *cr,
             guint                   index,
             const HyCanvasLandmark *l)
{
  gboolean selected = (int) index == self->selected;
  const GdkRGBA *fill = l->colour.alpha > 0 ? &l->colour : &state_colours[l->state];
  double r = selected ? MARKER_RADIUS + 1 : MARKER_RADIUS;
  double x, y, px, py;
  char number[16];

  hy_landmark_canvas_image_to_widget (self, l->x, l->y, &x, &y);

  /* Where the model put it, so the edit can be judged. */
  if (l->state == HY_LANDMARK_MOVED && isfinite (l->predicted_x) && isfinite (l->predicted_y))
    {
      static const double dash[] = { 3.0, 3.0 };

      hy_landmark_canvas_image_to_widget (self, l->predicted_x, l->predicted_y, &px, &py);
      cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
      cairo_set_line_width (cr, 1.5);
      cairo_set_source_rgba (cr, 1, 1, 1, 0.7);
      cairo_move_to (cr, px, py);
      cairo_line_to (cr, x, y);
      cairo_stroke (cr);
      cairo_arc (cr, px, py, MARKER_RADIUS, 0, 2 * G_PI);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }

  if (selected)
    {
      cairo_arc (cr, x, y, r + 4, 0, 2 * G_PI);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
      cairo_set_line_width (cr, 4.0);
      cairo_stroke_preserve (cr);
      cairo_set_source_rgb (cr, 1, 1, 0.3);
      cairo_set_line_width (cr, 2.0);
      cairo_stroke (cr);
    }
  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
  gdk_cairo_set_source_rgba (cr, fill);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
  /* The exact point: a dot a pixel wide. */
  cairo_rectangle (cr, x - 0.75, y - 0.75, 1.5, 1.5);
  cairo_fill (cr);

  g_snprintf (number, sizeof number, "%u", index + 1);
  if (selected && l->label != NULL && l->label[0] != '\0')
    {
      g_autofree char *text = g_strdup_printf ("%s %s", number, l->label);

      draw_text (self, cr, text, x + r + 5, y - r - 14, TRUE);
    }
  else
    draw_text (self, cr, number, x + r + 2, y - r - 12, selected);
}

/* A round length in mm between 60 and ~150 screen pixels long. */
static void
draw_scale_bar (HyLandmarkCanvas *self,
                cairo_t          *cr,
                double            height)
{
  static const double lengths[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500 };
  double px_per_mm = self->zoom / self->mm_per_px;
  double mm = lengths[G_N_ELEMENTS (lengths) - 1];
  double x = 16, y = height - 16, len;
  g_autofree char *text = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    if (lengths[i] * px_per_mm >= 60)
      {
        mm = lengths[i];
        break;
      }
  len = mm * px_per_mm;

  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  for (int pass = 0; pass < 2; pass++)
    {
      cairo_move_to (cr, x, y - 6);
      cairo_line_to (cr, x, y);
      cairo_line_to (cr, x + len, y);
      cairo_line_to (cr, x + len, y - 6);
      if (pass == 0)
        cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
      else
        cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, pass == 0 ? 4.0 : 2.0);
      cairo_stroke (cr);
    }
  /* Translators: the length of the scale bar in millimetres */
  text = g_strdup_printf (_("%g mm"), mm);
  draw_text (self, cr, text, x + 4, y - 24, FALSE);
}

static void
hy_landmark_canvas_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  HyLandmarkCanvas *self = HY_LANDMARK_CANVAS (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  graphene_rect_t area = GRAPHENE_RECT_INIT (0, 0, width, height);
  graphene_rect_t bounds;
  cairo_t *cr;

  if (!hy_landmark_canvas_get_image_bounds (self, &bounds))
    return;

  gtk_snapshot_push_clip (snapshot, &area);
  gtk_snapshot_append_texture (snapshot, level_for_zoom (self), &bounds);
  if (self->heat_texture != NULL)
    draw_heatmap (self, snapshot);

  cr = gtk_snapshot_append_cairo (snapshot, &area);
  for (guint i = 0; i < self->landmarks->len; i++)
    {
      const HyCanvasLandmark *l = &g_array_index (self->landmarks, HyCanvasLandmark, i);

      if (has_position (l))
        draw_marker (self, cr, i, l);
    }
  if (self->mm_per_px > 0)
    draw_scale_bar (self, cr, height);
  cairo_destroy (cr);
  gtk_snapshot_pop (snapshot);
}

static void
hy_landmark_canvas_size_allocate (GtkWidget *widget,
                                  int        width,
                                  int        height,
                                  int        baseline)
{
  HyLandmarkCanvas *self = HY_LANDMARK_CANVAS (widget);

  if (self->fit)
    apply_fit (self);
}

static void
hy_landmark_canvas_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  HyLandmarkCanvas *self = HY_LANDMARK_CANVAS (object);

  switch (prop_id)
    {
    case PROP_WINDOW_CENTRE:
      g_value_set_double (value, self->window_centre);
      break;
    case PROP_WINDOW_WIDTH:
      g_value_set_double (value, self->window_width);
      break;
    case PROP_INVERT:
      g_value_set_boolean (value, self->invert);
      break;
    case PROP_SELECTED:
      g_value_set_int (value, self->selected);
      break;
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hy_landmark_canvas_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  HyLandmarkCanvas *self = HY_LANDMARK_CANVAS (object);

  switch (prop_id)
    {
    case PROP_WINDOW_CENTRE:
      hy_landmark_canvas_set_window (self, g_value_get_double (value), self->window_width);
      break;
    case PROP_WINDOW_WIDTH:
      hy_landmark_canvas_set_window (self, self->window_centre, g_value_get_double (value));
      break;
    case PROP_INVERT:
      hy_landmark_canvas_set_invert (self, g_value_get_boolean (value));
      break;
    case PROP_SELECTED:
      hy_landmark_canvas_set_selected (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hy_landmark_canvas_finalize (GObject *object)
{
  HyLandmarkCanvas *self = HY_LANDMARK_CANVAS (object);

  clear_levels (self);
  g_clear_pointer (&self->levels, g_array_unref);
  g_clear_pointer (&self->image, image_free);
  g_clear_pointer (&self->landmarks, g_array_unref);
  g_clear_object (&self->heat_texture);

  G_OBJECT_CLASS (hy_landmark_canvas_parent_class)->finalize (object);
}

static void
hy_landmark_canvas_class_init (HyLandmarkCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = hy_landmark_canvas_finalize;
  object_class->get_property = hy_landmark_canvas_get_property;
  object_class->set_property = hy_landmark_canvas_set_property;
  widget_class->snapshot = hy_landmark_canvas_snapshot;
  widget_class->size_allocate = hy_landmark_canvas_size_allocate;

  properties[PROP_WINDOW_CENTRE] =
    g_param_spec_double ("window-centre", NULL, NULL, 0.0, 1.0, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_WIDTH] =
    g_param_spec_double ("window-width", NULL, NULL, 1e-3, 2.0, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INVERT] =
    g_param_spec_boolean ("invert", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED] =
    g_param_spec_int ("selected", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, 0.0, G_MAXDOUBLE, 1.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (index, x, y, drag_finished): also for nudges and placing, finished. */
  signals[SIGNAL_POINT_MOVED] =
    g_signal_new ("point-moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_UINT, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_BOOLEAN);
  /* (index, or -1) */
  signals[SIGNAL_SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* (index): the owner changes the state; the canvas only asks. */
  signals[SIGNAL_CONFIRM] =
    g_signal_new ("confirm", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_MARK_ABSENT] =
    g_signal_new ("mark-absent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /* (index, x, y): a click gave the selected landmark its first position. */
  signals[SIGNAL_PLACE] =
    g_signal_new ("place", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_DOUBLE, G_TYPE_DOUBLE);

  gtk_widget_class_set_css_name (widget_class, "landmarkcanvas");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
add_drag (HyLandmarkCanvas *self,
          guint             button,
          GCallback         begin,
          GCallback         update,
          GCallback         end)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), button);
  g_signal_connect (drag, "drag-begin", begin, self);
  g_signal_connect (drag, "drag-update", update, self);
  if (end != NULL)
    g_signal_connect (drag, "drag-end", end, self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}

static void
hy_landmark_canvas_init (HyLandmarkCanvas *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *controller;

  self->levels = g_array_new (FALSE, TRUE, sizeof (Level));
  self->landmarks = g_array_new (FALSE, TRUE, sizeof (HyCanvasLandmark));
  g_array_set_clear_func (self->landmarks, landmark_clear);
  self->selected = -1;
  self->heat_opacity = 1.0;
  self->window_centre = 0.5;
  self->window_width = 1.0;
  self->zoom = 1.0;
  self->fit = TRUE;

  gtk_widget_set_hexpand (widget, TRUE);
  gtk_widget_set_vexpand (widget, TRUE);
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);

  add_drag (self, GDK_BUTTON_PRIMARY, G_CALLBACK (on_primary_begin),
            G_CALLBACK (on_primary_update), G_CALLBACK (on_primary_end));
  add_drag (self, GDK_BUTTON_MIDDLE, G_CALLBACK (on_pan_begin), G_CALLBACK (on_pan_update), NULL);
  add_drag (self, GDK_BUTTON_SECONDARY, G_CALLBACK (on_level_begin), G_CALLBACK (on_level_update), NULL);

  controller = GTK_EVENT_CONTROLLER (gtk_gesture_zoom_new ());
  g_signal_connect (controller, "begin", G_CALLBACK (on_pinch_begin), self);
  g_signal_connect (controller, "scale-changed", G_CALLBACK (on_pinch_scale), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (on_key_pressed), self);
  g_signal_connect (controller, "key-released", G_CALLBACK (on_key_released), self);
  gtk_widget_add_controller (widget, controller);
}
