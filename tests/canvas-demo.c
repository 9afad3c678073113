/* canvas-demo IMAGE [LANDMARK]: hyatt-studio's window on IMAGE once the
 * bundled model has predicted it, with landmark LANDMARK (1-based, default
 * 2) selected and zoomed in on so that its heatmap shows, for
 * tools/screenshot. IMAGE should
 * be a copy: the window saves its annotation beside it. */
#include "config.h"

#include <gtk/gtk.h>
#include <stdlib.h>

#include "application.h"
#include "window.h"

static int selected = 1;

static gboolean
poll_predicted (gpointer data)
{
  HyWindow *window = data;
  HyDocument *document = hy_window_get_document (window);

  if (document == NULL || hy_window_is_predicting (window) || hy_document_needs_prediction (document))
    return G_SOURCE_CONTINUE;
  if (selected >= 0 && selected < hy_document_get_n_landmarks (document))
    {
      HyLandmarkCanvas *canvas = hy_window_get_canvas (window);
      const HyAnnotationPoint *p = &hy_document_get_annotation (document)->points[selected];

      hy_landmark_canvas_set_selected (canvas, selected);
      /* close enough for the heatmap to be seen around the marker */
      hy_landmark_canvas_zoom_at (canvas, 3.0, 0, 0);
      hy_landmark_canvas_centre_on (canvas, p->x, p->y);
    }
  return G_SOURCE_REMOVE;
}

static void
on_window_added (GtkApplication *app,
                 GtkWindow      *window,
                 gpointer        user_data)
{
  g_timeout_add (50, poll_predicted, window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) app = NULL;

  if (argc < 2 || argc > 3)
    {
      g_printerr ("usage: %s IMAGE [LANDMARK]\n", argv[0]);
      return 2;
    }
  if (argc == 3)
    selected = atoi (argv[2]) - 1;

  app = g_object_new (HY_TYPE_APPLICATION,
                      "application-id", APP_ID,
                      "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                      NULL);
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), NULL);
  /* Only the image goes to GApplication. */
  return g_application_run (G_APPLICATION (app), 2, argv);
}
