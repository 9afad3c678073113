/* HyWindow: one X-ray at a time, from a file or a folder's review queue. A
 * header bar with Open, Open Folder, previous / next image, undo / redo, a
 * spinner while predicting and the main menu; the queue in a sidebar when a
 * folder is open; the canvas; a side panel (a GtkStack with a switcher)
 * whose first page is the landmark list; errors in a banner at the top.
 * Images load and landmarks are predicted in worker threads; an image
 * without an annotation is predicted when it opens. */
#pragma once

#include <gtk/gtk.h>

#include "document.h"
#include "finetune_panel.h"
#include "landmark_canvas.h"
#include "landmark_list.h"
#include "measurement_panel.h"
#include "review_queue.h"

G_BEGIN_DECLS

#define HY_TYPE_WINDOW (hy_window_get_type ())

G_DECLARE_FINAL_TYPE (HyWindow, hy_window, HY, WINDOW, GtkApplicationWindow)

HyWindow    *hy_window_new            (GtkApplication *app);

/* Starts loading file in a worker thread and shows it when done; a load
 * still running is cancelled. Failures show in the error banner and keep
 * the current image. */
void         hy_window_open           (HyWindow       *self,
                                       GFile          *file);

/* Reads the folder into the review queue, shows the queue and opens its
 * first image to review. */
void         hy_window_open_folder    (HyWindow       *self,
                                       GFile          *folder);

/* TRUE when no image is shown and none is loading. */
gboolean     hy_window_is_empty       (HyWindow       *self);

/* TRUE while a prediction runs. */
gboolean     hy_window_is_predicting  (HyWindow       *self);

/* The file of the image shown (borrowed), or NULL. */
GFile       *hy_window_get_file       (HyWindow       *self);

/* The message in the error banner, or NULL when it is hidden. */
const char  *hy_window_get_error      (HyWindow       *self);

HyLandmarkCanvas *hy_window_get_canvas (HyWindow       *self);

/* The side panel's landmark list. */
HyLandmarkList *hy_window_get_landmark_list (HyWindow  *self);

/* The side panel's fine-tuning page (borrowed). */
HyFinetunePanel *hy_window_get_finetune_panel (HyWindow *self);

/* The document shown (borrowed), or NULL. Its "changed" signal tells of
 * every edit, during drags too. */
HyDocument  *hy_window_get_document   (HyWindow       *self);

/* The side panel's measurements page (borrowed). */
HyMeasurementPanel *hy_window_get_measurement_panel (HyWindow *self);

/* The review queue (borrowed); empty until a folder is opened. */
HyReviewQueue *hy_window_get_queue    (HyWindow       *self);

/* Adds a page to the side panel's stack, after the landmark list. */
void         hy_window_add_side_page  (HyWindow       *self,
                                       GtkWidget      *page,
                                       const char     *name,
                                       const char     *title);

G_END_DECLS
