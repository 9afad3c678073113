/* canvas-demo IMAGE X1 Y1 X2 Y2 ...: hyatt-studio's window on IMAGE with
 * those landmarks, the first selected with a heatmap around it, the second
 * moved away from its prediction and the third confirmed, for
 * tools/screenshot. Until documents load annotations there is no other way
 * to get landmarks into the window. */
#include "config.h"

#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>

#include "application.h"
#include "window.h"

#define HEAT_SIDE 64
#define HEAT_STRIDE 4.0 /* image pixels per heatmap cell */

static double *coords;
static guint n_points;

static void
decorate (HyWindow *window)
{
  HyLandmarkCanvas *canvas = hy_window_get_canvas (window);
  g_autofree HyCanvasLandmark *marks = g_new0 (HyCanvasLandmark, n_points);
  g_autofree float *heat = g_new (float, HEAT_SIDE * HEAT_SIDE);
  double x0, y0, affine[6];

  for (guint i = 0; i < n_points; i++)
    {
      marks[i].x = marks[i].predicted_x = coords[2 * i];
      marks[i].y = marks[i].predicted_y = coords[2 * i + 1];
      marks[i].state = i == 2 ? HY_LANDMARK_CONFIRMED : HY_LANDMARK_PREDICTED;
      marks[i].label = i == 0 ? "Sella" : NULL;
    }
  if (n_points > 1)
    {
      marks[1].x += 40;
      marks[1].y += 25;
      marks[1].state = HY_LANDMARK_MOVED;
    }
  hy_landmark_canvas_set_landmarks (canvas, marks, n_points);
  hy_landmark_canvas_set_selected (canvas, 0);
  hy_landmark_canvas_set_spacing (canvas, 0.1);

  /* A slightly elongated Gaussian, as a model's would be. */
  x0 = coords[0] - HEAT_SIDE * HEAT_STRIDE / 2;
  y0 = coords[1] - HEAT_SIDE * HEAT_STRIDE / 2;
  for (int v = 0; v < HEAT_SIDE; v++)
    for (int u = 0; u < HEAT_SIDE; u++)
      {
        double dx = x0 + u * HEAT_STRIDE - coords[0], dy = y0 + v * HEAT_STRIDE - coords[1];

        heat[v * HEAT_SIDE + u] = (float) exp (-(dx * dx / 2400.0 + dy * dy / 1200.0));
      }
  affine[0] = HEAT_STRIDE; affine[1] = 0; affine[2] = x0;
  affine[3] = 0; affine[4] = HEAT_STRIDE; affine[5] = y0;
  hy_landmark_canvas_set_heatmap (canvas, heat, HEAT_SIDE, HEAT_SIDE, affine);
}

static gboolean
poll_loaded (gpointer data)
{
  HyWindow *window = data;

  if (hy_landmark_canvas_get_image (hy_window_get_canvas (window)) == NULL)
    return G_SOURCE_CONTINUE;
  decorate (window);
  return G_SOURCE_REMOVE;
}

static void
on_window_added (GtkApplication *app,
                 GtkWindow      *window,
                 gpointer        user_data)
{
  g_timeout_add (50, poll_loaded, window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) app = NULL;

  if (argc < 4 || argc % 2 != 0)
    {
      g_printerr ("usage: %s IMAGE X1 Y1 [X2 Y2 ...]\n", argv[0]);
      return 2;
    }
  n_points = (guint) (argc - 2) / 2;
  coords = g_new (double, 2 * n_points);
  for (guint i = 0; i < 2 * n_points; i++)
    coords[i] = g_ascii_strtod (argv[i + 2], NULL);

  app = g_object_new (HY_TYPE_APPLICATION,
                      "application-id", APP_ID,
                      "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                      NULL);
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), NULL);
  /* Only the image goes to GApplication; the numbers are ours. */
  argv[2] = NULL;
  return g_application_run (G_APPLICATION (app), 2, argv);
}
