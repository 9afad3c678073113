/* HyImageView: draws one grey X-ray scaled to fit the widget, keeping its
 * aspect ratio, centred on a dark background. (The landmark canvas with
 * zoom, pan and markers will grow out of it.) */
#pragma once

#include <gtk/gtk.h>

#include "hyatt.h"

G_BEGIN_DECLS

#define HY_TYPE_IMAGE_VIEW (hy_image_view_get_type ())

G_DECLARE_FINAL_TYPE (HyImageView, hy_image_view, HY, IMAGE_VIEW, GtkWidget)

GtkWidget      *hy_image_view_new              (void);

/* Shows image, or nothing when image is NULL. Takes ownership: image was
 * allocated with g_new0() and filled by libhyatt (e.g. hy_image_load()); the
 * view frees it with hy_image_free() and g_free(). */
void            hy_image_view_take_image       (HyImageView     *self,
                                                hy_image        *image);

/* The image shown (borrowed), or NULL. */
const hy_image *hy_image_view_get_image        (HyImageView     *self);

/* Where the image is drawn, in widget coordinates, for the current size.
 * FALSE when there is no image or the widget has no size yet. */
gboolean        hy_image_view_get_image_bounds (HyImageView     *self,
                                                graphene_rect_t *bounds);

G_END_DECLS
