/* HyQueueSidebar: the review queue of a folder: how many images are done
 * and still to review, then the images in review order with their mean
 * confidence; the image shown is selected. */
#pragma once

#include <gtk/gtk.h>

#include "review_queue.h"

G_BEGIN_DECLS

#define HY_TYPE_QUEUE_SIDEBAR (hy_queue_sidebar_get_type ())

G_DECLARE_FINAL_TYPE (HyQueueSidebar, hy_queue_sidebar, HY, QUEUE_SIDEBAR, GtkBox)

void hy_queue_sidebar_set_queue   (HyQueueSidebar *self,
                                   HyReviewQueue  *queue);
/* Selects the row of the image at path (NULL: none). */
void hy_queue_sidebar_set_current (HyQueueSidebar *self,
                                   const char     *path);

G_END_DECLS
