/* HyImageView: the float image becomes 8-bit textures once, when it is set:
 * the full size and successive halvings (a mipmap pyramid). Drawing picks the
 * smallest level that still has a texel per screen pixel, because GTK 4.8
 * samples textures bilinearly without mipmaps, which aliases badly when a
 * 2400-pixel radiograph is shrunk into an 800-pixel window. */
#include "config.h"

#include <math.h>

#include "image_view.h"

/* Halving stops once a side is this short. */
#define MIN_LEVEL_SIDE 256

struct _HyImageView
{
  GtkWidget parent_instance;

  /* Owned references */
  hy_image  *image;  /* NULL when empty */
  GPtrArray *levels; /* of GdkTexture: full size first, then each half the size */
};

G_DEFINE_FINAL_TYPE (HyImageView, hy_image_view, GTK_TYPE_WIDGET)

static void
image_free (hy_image *image)
{
  hy_image_free (image);
  g_free (image);
}

static GdkTexture *
texture_from_grey (const float *grey, /* [height][width] in [0, 1] */
                   int          width,
                   int          height)
{
  gsize stride = (gsize) width * 3;
  guchar *rgb = g_malloc (stride * (gsize) height);
  g_autoptr(GBytes) bytes = NULL;

  for (gsize i = 0, n = (gsize) width * (gsize) height; i < n; i++)
    {
      float v = grey[i];
      /* Written so that NaN becomes black. */
      guchar c = (guchar) (v > 0.0f ? (v < 1.0f ? v * 255.0f + 0.5f : 255.0f) : 0.0f);
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = c;
    }
  bytes = g_bytes_new_take (rgb, stride * (gsize) height);
  /* GDK 4.8 has no one-channel memory format; R8G8B8 is the smallest. */
  return gdk_memory_texture_new (width, height, GDK_MEMORY_R8G8B8, bytes, stride);
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
build_levels (HyImageView *self)
{
  int w = self->image->width, h = self->image->height;
  g_autofree float *cur = NULL;
  const float *src = self->image->pixels;

  g_ptr_array_add (self->levels, texture_from_grey (src, w, h));
  while (MIN (w, h) / 2 >= MIN_LEVEL_SIDE)
    {
      int w2 = (w + 1) / 2, h2 = (h + 1) / 2;
      float *next = g_new (float, (gsize) w2 * (gsize) h2);

      halve (next, src, w, h);
      g_free (cur);
      cur = next;
      src = cur;
      w = w2;
      h = h2;
      g_ptr_array_add (self->levels, texture_from_grey (src, w, h));
    }
}

GtkWidget *
hy_image_view_new (void)
{
  return g_object_new (HY_TYPE_IMAGE_VIEW, NULL);
}

void
hy_image_view_take_image (HyImageView *self,
                          hy_image    *image)
{
  g_return_if_fail (HY_IS_IMAGE_VIEW (self));
  g_return_if_fail (image == NULL || (image->pixels != NULL && image->width > 0 && image->height > 0));

  g_clear_pointer (&self->image, image_free);
  g_ptr_array_set_size (self->levels, 0);
  self->image = image;
  if (image != NULL)
    build_levels (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const hy_image *
hy_image_view_get_image (HyImageView *self)
{
  g_return_val_if_fail (HY_IS_IMAGE_VIEW (self), NULL);

  return self->image;
}

gboolean
hy_image_view_get_image_bounds (HyImageView     *self,
                                graphene_rect_t *bounds)
{
  double width, height, scale, w, h;

  g_return_val_if_fail (HY_IS_IMAGE_VIEW (self), FALSE);
  g_return_val_if_fail (bounds != NULL, FALSE);

  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  if (self->image == NULL || width <= 0 || height <= 0)
    return FALSE;

  scale = MIN (width / self->image->width, height / self->image->height);
  w = MAX (1.0, round (self->image->width * scale));
  h = MAX (1.0, round (self->image->height * scale));
  /* Whole pixels, so the edges stay sharp. */
  graphene_rect_init (bounds, floor ((width - w) / 2), floor ((height - h) / 2), w, h);
  return TRUE;
}

static void
hy_image_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  HyImageView *self = HY_IMAGE_VIEW (widget);
  graphene_rect_t bounds;
  double need;
  GdkTexture *texture;

  if (!hy_image_view_get_image_bounds (self, &bounds))
    return;

  need = bounds.size.width * gtk_widget_get_scale_factor (widget);
  texture = g_ptr_array_index (self->levels, 0);
  for (guint i = self->levels->len; i-- > 0;)
    {
      GdkTexture *level = g_ptr_array_index (self->levels, i);

      if (gdk_texture_get_width (level) >= need)
        {
          texture = level;
          break;
        }
    }
  gtk_snapshot_append_texture (snapshot, texture, &bounds);
}

static void
hy_image_view_finalize (GObject *object)
{
  HyImageView *self = HY_IMAGE_VIEW (object);

  g_clear_pointer (&self->image, image_free);
  g_clear_pointer (&self->levels, g_ptr_array_unref);

  G_OBJECT_CLASS (hy_image_view_parent_class)->finalize (object);
}

static void
hy_image_view_class_init (HyImageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = hy_image_view_finalize;
  widget_class->snapshot = hy_image_view_snapshot;

  gtk_widget_class_set_css_name (widget_class, "imageview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hy_image_view_init (HyImageView *self)
{
  self->levels = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}
