/* HyWindow: one X-ray per window. A header bar with Open and the main menu;
 * a placeholder until an image is loaded, then the landmark canvas; load errors
 * in a banner at the top. Images load in a worker thread. */
#pragma once

#include <gtk/gtk.h>

#include "landmark_canvas.h"

G_BEGIN_DECLS

#define HY_TYPE_WINDOW (hy_window_get_type ())

G_DECLARE_FINAL_TYPE (HyWindow, hy_window, HY, WINDOW, GtkApplicationWindow)

HyWindow    *hy_window_new            (GtkApplication *app);

/* Starts loading file in a worker thread and shows it when done; a load
 * still running is cancelled. Failures show in the error banner and keep
 * the current image. */
void         hy_window_open           (HyWindow       *self,
                                       GFile          *file);

/* TRUE when no image is shown and none is loading. */
gboolean     hy_window_is_empty       (HyWindow       *self);

/* The file of the image shown (borrowed), or NULL. */
GFile       *hy_window_get_file       (HyWindow       *self);

/* The message in the error banner, or NULL when it is hidden. */
const char  *hy_window_get_error      (HyWindow       *self);

HyLandmarkCanvas *hy_window_get_canvas (HyWindow       *self);

G_END_DECLS
