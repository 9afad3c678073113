/* The GTK front end, in process under Xvfb: the application opens an image
 * in a window (loaded in a worker thread), the view fits it and draws it,
 * win.close closes the window; a corrupt or missing file shows the error
 * banner and leaves the placeholder; actions have their accelerators; the
 * window size is remembered. The landmark canvas maps image and screen
 * points exactly at any zoom and pan; drags, nudges and keys edit the
 * points and emit the signals. The Measures page's spacing entry sets the
 * spacing of the image or of its folder, and the figures follow.
 * HY_TEST_PNG_DIR=DIR: the spacing test saves the window and the popover
 * there as PNGs, to be looked at. */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "landmark_canvas-private.h"
#include "testutil.h"
#include "window.h"

#define TIMEOUT_S 20

static GtkApplication *app; /* created and registered once in main() */

/* Iterates the main loop until done(data) or the timeout; FALSE on timeout. */
static gboolean
wait_for (gboolean (*done) (gpointer data),
          gpointer   data)
{
  return tu_wait_for (done, data, TIMEOUT_S);
}

/* The window the application opened file in. */
static HyWindow *
open_file (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GList *before = g_list_copy (gtk_application_get_windows (app));
  HyWindow *window = NULL;

  g_application_open (G_APPLICATION (app), &file, 1, "");
  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (g_list_find (before, l->data) == NULL)
      window = HY_WINDOW (l->data);
  g_list_free (before);
  g_assert_nonnull (window);
  return window;
}

static gboolean
image_drawn (gpointer data)
{
  HyWindow *window = data;
  HyLandmarkCanvas *view = hy_window_get_canvas (window);
  graphene_rect_t bounds;

  return gtk_widget_get_mapped (GTK_WIDGET (view)) &&
         hy_landmark_canvas_get_image_bounds (view, &bounds);
}

/* The prediction of a new image is in the document. */
static gboolean
predicted (gpointer data)
{
  HyWindow *window = data;
  HyDocument *document = hy_window_get_document (window);

  return !hy_window_is_predicting (window) && document != NULL &&
         !hy_document_needs_prediction (document);
}

static gboolean
error_shown (gpointer data)
{
  return hy_window_get_error (HY_WINDOW (data)) != NULL;
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Closes window with win.close and waits until it is destroyed. */
static void
close_window (HyWindow *window)
{
  gpointer weak = window;

  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.close", NULL));
  g_assert_true (wait_for (is_null, &weak));
  g_assert_null (gtk_application_get_windows (app));
}

/* A portrait image: left half mid grey, right half white. */
static char *
write_test_png (int width,
                int height)
{
  char *path = g_build_filename (tu_tmpdir (), "portrait.png", NULL);
  hy_image image;
  hy_error err;

  hy_error_clear (&err);
  g_assert_cmpint (hy_image_new (&image, width, height, &err), ==, HY_OK);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      image.pixels[y * width + x] = x < width / 2 ? 0.5f : 1.0f;
  if (hy_image_save_png (&image, path, 8, &err) != HY_OK)
    g_error ("%s", err.msg);
  hy_image_free (&image);
  /* the last test's corrections are not for this image */
  {
    g_autofree char *json = g_strconcat (path, ".hyatt.json", NULL);

    g_remove (json);
  }
  return path;
}

/* The view rendered to pixels, as cairo ARGB32 (grey, so channel order does
 * not matter). */
static guchar *
render_view_with (HyLandmarkCanvas *view,
                  GskRenderer      *renderer,
                  int              *stride)
{
  int width = gtk_widget_get_width (GTK_WIDGET (view));
  int height = gtk_widget_get_height (GTK_WIDGET (view));
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (view));
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  guchar *pixels;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  *stride = width * 4;
  pixels = g_malloc ((gsize) *stride * (gsize) height);
  gdk_texture_download (texture, pixels, (gsize) *stride);
  return pixels;
}

/* With the window's renderer. */
static guchar *
render_view (HyLandmarkCanvas *view,
             int              *stride)
{
  return render_view_with (view, gtk_native_get_renderer (gtk_widget_get_native (GTK_WIDGET (view))),
                           stride);
}

static int
grey_at (const guchar *pixels,
         int           stride,
         double        x,
         double        y)
{
  return pixels[(int) y * stride + (int) x * 4 + 1];
}

/* data: {width, height}; the large one is drawn from a halved level. */
static void
test_open_image (gconstpointer data)
{
  const int *size = data;
  const int iw = size[0], ih = size[1];
  g_autofree char *path = write_test_png (iw, ih);
  HyWindow *window = open_file (path);
  HyLandmarkCanvas *view = hy_window_get_canvas (window);
  const hy_image *image;
  graphene_rect_t b;
  double vw, vh;
  g_autofree guchar *pixels = NULL;
  int stride;

  g_assert_false (hy_window_is_empty (window)); /* loading */
  g_assert_true (wait_for (image_drawn, window));
  /* a new image is predicted at once; the markers would hide the pixels
   * looked at below */
  g_assert_true (wait_for (predicted, window));
  hy_landmark_canvas_set_landmarks (view, NULL, 0);
  hy_landmark_canvas_set_heatmap (view, NULL, 0, 0, NULL);
  tu_settle ();

  image = hy_landmark_canvas_get_image (view);
  g_assert_nonnull (image);
  g_assert_cmpint (image->width, ==, iw);
  g_assert_cmpint (image->height, ==, ih);
  /* unsaved until the autosave */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "*portrait.png");
  g_assert_null (hy_window_get_error (window));
  g_assert_nonnull (hy_window_get_file (window));

  /* Fitted: aspect ratio kept, centred, touching two opposite sides. */
  g_assert_true (hy_landmark_canvas_get_image_bounds (view, &b));
  vw = gtk_widget_get_width (GTK_WIDGET (view));
  vh = gtk_widget_get_height (GTK_WIDGET (view));
  g_assert_cmpfloat_with_epsilon (b.size.width / b.size.height, (double) iw / ih, 0.01);
  g_assert_cmpfloat (fabs (2 * b.origin.x + b.size.width - vw), <=, 1.0);
  g_assert_cmpfloat (fabs (2 * b.origin.y + b.size.height - vh), <=, 1.0);
  g_assert_true (fabs (b.size.width - vw) <= 1.0 || fabs (b.size.height - vh) <= 1.0);
  g_test_message ("view %gx%g, image drawn at %g,%g %gx%g", vw, vh,
                  b.origin.x, b.origin.y, b.size.width, b.size.height);

  /* What is on screen: both halves of the image, a dark surround. The view
   * is wider than the portrait image, so there are bars left and right. */
  g_assert_cmpfloat (b.origin.x, >=, 20);
  pixels = render_view (view, &stride);
  g_assert_cmpint (abs (grey_at (pixels, stride, b.origin.x + b.size.width * 0.25, vh / 2) - 128), <=, 4);
  g_assert_cmpint (abs (grey_at (pixels, stride, b.origin.x + b.size.width * 0.75, vh / 2) - 255), <=, 4);
  g_assert_cmpint (grey_at (pixels, stride, b.origin.x / 2, vh / 2), <, 64);

  close_window (window);
}

static void
check_open_fails (const char *path,
                  const char *expected)
{
  HyWindow *window = open_file (path);
  g_autofree char *name = g_path_get_basename (path);
  const char *message;

  g_assert_true (wait_for (error_shown, window));
  message = hy_window_get_error (window);
  g_test_message ("banner: %s", message);
  g_assert_nonnull (strstr (message, name));
  g_assert_nonnull (strstr (message, expected));
  g_assert_null (strchr (message, '\n'));
  g_assert_null (hy_landmark_canvas_get_image (hy_window_get_canvas (window)));
  g_assert_null (hy_window_get_file (window));
  g_assert_true (hy_window_is_empty (window));
  close_window (window);
}

static void
test_open_corrupt (void)
{
  static const guchar bad_jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0 };
  g_autofree char *path = g_build_filename (tu_tmpdir (), "corrupt.jpg", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, (const char *) bad_jpeg, sizeof bad_jpeg, &error));
  check_open_fails (path, "JPEG");
}

static void
test_open_missing (void)
{
  g_autofree char *path = g_build_filename (tu_tmpdir (), "missing.png", NULL);

  check_open_fails (path, "No such file");
}

static void
test_actions (void)
{
  static const char *actions[][2] = {
    { "app.open", "<Control>o" },
    { "app.quit", "<Control>q" },
    { "win.close", "<Control>w" },
    { "win.undo", "<Control>z" },
    { "win.redo", "<Shift><Control>z" },
    { "win.next-image", "Page_Down" },
    { "win.previous-image", "Page_Up" },
    { "win.all-heatmaps", "h" },
  };

  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "open"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (app, actions[i][0]);

      g_assert_cmpuint (g_strv_length (accels), >=, 1);
      g_assert_cmpstr (accels[0], ==, actions[i][1]);
    }
}

/* A window remembers its size for the next one (memory settings backend). */
static void
test_window_size (void)
{
  HyWindow *window;
  int width, height;

  g_application_activate (G_APPLICATION (app));
  window = HY_WINDOW (gtk_application_get_windows (app)->data);
  g_assert_true (hy_window_is_empty (window));
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 700);
  close_window (window);

  window = hy_window_new (app);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 700);
  gtk_window_present (GTK_WINDOW (window));
  close_window (window);
}

/* A canvas alone in a window, shown, with a 200 x 100 ramp. */
static gboolean
canvas_ready (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (data)) &&
         gtk_widget_get_width (GTK_WIDGET (data)) > 0;
}

static HyLandmarkCanvas *
new_canvas (GtkWindow **window)
{
  HyLandmarkCanvas *canvas = HY_LANDMARK_CANVAS (hy_landmark_canvas_new ());
  guchar grey[100][200];

  for (int y = 0; y < 100; y++)
    for (int x = 0; x < 200; x++)
      grey[y][x] = (guchar) x;
  hy_landmark_canvas_set_grey (canvas, HY_GREY_U8, grey, 200, 100, 200);
  *window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (*window, 400, 300);
  gtk_window_set_child (*window, GTK_WIDGET (canvas));
  gtk_window_present (*window);
  g_assert_true (wait_for (canvas_ready, canvas));
  return canvas;
}

static void
check_round_trip (HyLandmarkCanvas *canvas)
{
  static const double points[][2] = {
    { 0, 0 }, { -0.5, -0.5 }, { 199.5, 99.5 }, { 12.345678, 87.654321 }, { -1e3, 5e3 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (points); i++)
    {
      double wx, wy, ix, iy;

      hy_landmark_canvas_image_to_widget (canvas, points[i][0], points[i][1], &wx, &wy);
      hy_landmark_canvas_widget_to_image (canvas, wx, wy, &ix, &iy);
      g_assert_cmpfloat (fabs (ix - points[i][0]), <=, 1e-9);
      g_assert_cmpfloat (fabs (iy - points[i][1]), <=, 1e-9);
      hy_landmark_canvas_widget_to_image (canvas, points[i][0], points[i][1], &ix, &iy);
      hy_landmark_canvas_image_to_widget (canvas, ix, iy, &wx, &wy);
      g_assert_cmpfloat (fabs (wx - points[i][0]), <=, 1e-9);
      g_assert_cmpfloat (fabs (wy - points[i][1]), <=, 1e-9);
    }
}

static void
assert_maps (HyLandmarkCanvas *canvas,
             double            ix,
             double            iy,
             double            wx,
             double            wy)
{
  double x, y;

  hy_landmark_canvas_image_to_widget (canvas, ix, iy, &x, &y);
  g_assert_cmpfloat (fabs (x - wx), <=, 1e-9);
  g_assert_cmpfloat (fabs (y - wy), <=, 1e-9);
}

static void
test_canvas_mapping (void)
{
  GtkWindow *window;
  HyLandmarkCanvas *canvas = new_canvas (&window);
  double w = gtk_widget_get_width (GTK_WIDGET (canvas));
  double h = gtk_widget_get_height (GTK_WIDGET (canvas));
  double zoom = MIN (w / 200, h / 100);
  double ox = floor ((w - 200 * zoom) / 2), oy = floor ((h - 100 * zoom) / 2);
  double ix, iy;
  gboolean inverted;

  /* Fitted: the image's outer corner at the origin, pixel centres half a
   * pixel in. */
  g_test_message ("canvas %gx%g, zoom %g", w, h, zoom);
  g_assert_cmpfloat (hy_landmark_canvas_get_zoom (canvas), ==, zoom);
  assert_maps (canvas, -0.5, -0.5, ox, oy);
  assert_maps (canvas, 0, 0, ox + zoom / 2, oy + zoom / 2);
  assert_maps (canvas, 199.5, 99.5, ox + 200 * zoom, oy + 100 * zoom);
  check_round_trip (canvas);

  /* Zooming about a point keeps the image point under it. */
  hy_landmark_canvas_widget_to_image (canvas, 100, 80, &ix, &iy);
  hy_landmark_canvas_zoom_at (canvas, 2, 100, 80);
  g_assert_cmpfloat (hy_landmark_canvas_get_zoom (canvas), ==, 2 * zoom);
  assert_maps (canvas, ix, iy, 100, 80);
  assert_maps (canvas, -0.5, -0.5, 100 - (100 - ox) * 2, 80 - (80 - oy) * 2);
  check_round_trip (canvas);

  hy_landmark_canvas_pan (canvas, 13.25, -7.5);
  assert_maps (canvas, ix, iy, 113.25, 72.5);
  check_round_trip (canvas);

  hy_landmark_canvas_zoom_at (canvas, 1.0 / 7, 3, 250);
  check_round_trip (canvas);
  hy_landmark_canvas_zoom_one (canvas);
  g_assert_cmpfloat (hy_landmark_canvas_get_zoom (canvas) * gtk_widget_get_scale_factor (GTK_WIDGET (canvas)), ==, 1.0);
  check_round_trip (canvas);

  /* The keys zoom too, and F fits again. */
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_plus, 0));
  g_assert_cmpfloat (hy_landmark_canvas_get_zoom (canvas), >, 1.0 / gtk_widget_get_scale_factor (GTK_WIDGET (canvas)));
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_f, 0));
  g_assert_cmpfloat (hy_landmark_canvas_get_zoom (canvas), ==, zoom);
  assert_maps (canvas, -0.5, -0.5, ox, oy);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_i, 0));
  g_object_get (canvas, "invert", &inverted, NULL);
  g_assert_true (inverted);

  gtk_window_destroy (window);
}

/* The view's pixel at image point (ix, iy) as R, G, B (cairo's ARGB32 is
 * B, G, R, A in memory here), rendered as the window does and as GTK's
 * cairo renderer does (when there is no GL): both must agree. */
static void
rgb_at (HyLandmarkCanvas *canvas,
        double            ix,
        double            iy,
        int               rgb[3])
{
  g_autoptr(GskRenderer) cairo = gsk_cairo_renderer_new ();
  g_autoptr(GError) error = NULL;
  int stride;
  g_autofree guchar *pixels = NULL, *by_cairo = NULL;
  double wx, wy;
  gsize at;

  tu_settle (); /* drawn as it is now */
  g_assert_true (gsk_renderer_realize (cairo, gtk_native_get_surface (gtk_widget_get_native (GTK_WIDGET (canvas))),
                                       &error));
  pixels = render_view (canvas, &stride);
  by_cairo = render_view_with (canvas, cairo, &stride);
  gsk_renderer_unrealize (cairo);
  hy_landmark_canvas_image_to_widget (canvas, ix, iy, &wx, &wy);
  at = (gsize) wy * (gsize) stride + (gsize) wx * 4;
  for (int c = 0; c < 3; c++)
    {
      rgb[c] = pixels[at + 2 - c];
      g_assert_cmpint (abs (by_cairo[at + 2 - c] - rgb[c]), <=, 2);
    }
}

/* A heatmap is drawn where its affine puts it, in its colours: 0 leaves
 * the image as it is, 1 tints it red; axis-aligned (a prediction's
 * letterbox) or rotated. */
static void
test_canvas_heatmap (void)
{
  GtkWindow *window;
  HyLandmarkCanvas *canvas = new_canvas (&window);
  static float heat[100 * 200];
  /* the map at half the image's resolution; the same turned a quarter */
  const double half[6] = { 2, 0, 0.5, 0, 2, 0.5 }, turned[6] = { 0, -2, 198.5, 2, 0, 0.5 };
  int plain[3], rgb[3];

  hy_landmark_canvas_set_heatmap_opacity (canvas, 0.7); /* the default */
  rgb_at (canvas, 150, 50, plain);
  hy_landmark_canvas_set_heatmap (canvas, heat, 100, 50, half);
  rgb_at (canvas, 150, 50, rgb);
  for (int c = 0; c < 3; c++)
    g_assert_cmpint (abs (rgb[c] - plain[c]), <=, 1);

  for (int i = 0; i < 100 * 200; i++)
    heat[i] = 1;
  hy_landmark_canvas_set_heatmap (canvas, heat, 100, 50, half);
  rgb_at (canvas, 150, 50, rgb);
  g_test_message ("image %d %d %d, under heat 1: %d %d %d", plain[0], plain[1], plain[2],
                  rgb[0], rgb[1], rgb[2]);
  g_assert_cmpint (rgb[0], >, plain[0] + 30);
  /* red at 0.6 × 0.7 over the image */
  g_assert_cmpint (abs (rgb[1] - (int) lround (0.58 * plain[1])), <=, 2);
  g_assert_cmpint (abs (rgb[2] - (int) lround (0.58 * plain[2])), <=, 2);

  /* turned: the map is 50 wide and 100 high; cold columns at its x = 8 …
   * 12 land on the image's rows y = 16.5 … 24.5 */
  for (int y = 0; y < 100; y++)
    for (int x = 8; x <= 12; x++)
      heat[y * 50 + x] = 0;
  hy_landmark_canvas_set_heatmap (canvas, heat, 50, 100, turned);
  rgb_at (canvas, 150, 20, rgb);
  g_assert_cmpint (abs (rgb[0] - plain[0]), <=, 1);
  rgb_at (canvas, 150, 60, rgb);
  g_assert_cmpint (rgb[0], >, plain[0] + 30);

  gtk_window_destroy (window);
}

typedef struct
{
  guint    moves, finished, confirms, absents, places, selections;
  guint    index;
  double   x, y;
} Events;

static void
on_point_moved (HyLandmarkCanvas *canvas,
                guint             index,
                double            x,
                double            y,
                gboolean          finished,
                Events           *ev)
{
  ev->moves++;
  ev->finished += finished;
  ev->index = index;
  ev->x = x;
  ev->y = y;
}

static void
on_index (HyLandmarkCanvas *canvas,
          guint             index,
          guint            *count)
{
  (*count)++;
}

static void
on_place (HyLandmarkCanvas *canvas,
          guint             index,
          double            x,
          double            y,
          Events           *ev)
{
  ev->places++;
  ev->index = index;
  ev->x = x;
  ev->y = y;
}

static void
on_selection (HyLandmarkCanvas *canvas,
              int               index,
              Events           *ev)
{
  ev->selections++;
}

static HyLandmarkCanvas *
new_edit_canvas (GtkWindow **window,
                 Events     *ev)
{
  const HyCanvasLandmark landmarks[] = {
    { 50, 50, HY_LANDMARK_PREDICTED, 50, 50, "Sella", { 0, 0, 0, 0 } },
    { 150, 40, HY_LANDMARK_CONFIRMED, 150, 40, "Nasion", { 0, 0, 0, 0 } },
    { NAN, NAN, HY_LANDMARK_PREDICTED, NAN, NAN, "Orbitale", { 0, 0, 0, 0 } },
  };
  HyLandmarkCanvas *canvas = new_canvas (window);

  memset (ev, 0, sizeof *ev);
  hy_landmark_canvas_set_landmarks (canvas, landmarks, G_N_ELEMENTS (landmarks));
  g_signal_connect (canvas, "point-moved", G_CALLBACK (on_point_moved), ev);
  g_signal_connect (canvas, "confirm", G_CALLBACK (on_index), &ev->confirms);
  g_signal_connect (canvas, "mark-absent", G_CALLBACK (on_index), &ev->absents);
  g_signal_connect (canvas, "place", G_CALLBACK (on_place), ev);
  g_signal_connect (canvas, "selection-changed", G_CALLBACK (on_selection), ev);
  return canvas;
}

static void
test_canvas_drag (void)
{
  GtkWindow *window;
  Events ev;
  HyLandmarkCanvas *canvas = new_edit_canvas (&window, &ev);
  const HyCanvasLandmark *l;
  double wx, wy, zoom;

  /* Zoomed in, so a screen pixel is not an image pixel. */
  hy_landmark_canvas_zoom_at (canvas, 1.5, 10, 10);
  zoom = hy_landmark_canvas_get_zoom (canvas);

  /* Grabbed 6 screen pixels off centre: within the grab radius. */
  hy_landmark_canvas_image_to_widget (canvas, 50, 50, &wx, &wy);
  hy_landmark_canvas_test_drag (canvas, wx + 4, wy - 4, 30, -12);
  l = hy_landmark_canvas_get_landmark (canvas, 0);
  g_assert_cmpfloat (fabs (l->x - (50 + 30 / zoom)), <=, 1e-9);
  g_assert_cmpfloat (fabs (l->y - (50 - 12 / zoom)), <=, 1e-9);
  g_assert_cmpint (l->state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpfloat (l->predicted_x, ==, 50);
  g_assert_cmpint (hy_landmark_canvas_get_selected (canvas), ==, 0);
  g_assert_cmpuint (ev.selections, ==, 1);
  g_assert_cmpuint (ev.moves, >=, 2);
  g_assert_cmpuint (ev.finished, ==, 1);
  g_assert_cmpuint (ev.index, ==, 0);
  g_assert_cmpfloat (ev.x, ==, l->x);
  g_assert_cmpfloat (ev.y, ==, l->y);

  /* 14 screen pixels away: outside it, nothing moves. */
  memset (&ev, 0, sizeof ev);
  hy_landmark_canvas_image_to_widget (canvas, 150, 40, &wx, &wy);
  hy_landmark_canvas_test_drag (canvas, wx + 14, wy, 30, 30);
  g_assert_cmpuint (ev.moves, ==, 0);
  g_assert_cmpfloat (hy_landmark_canvas_get_landmark (canvas, 1)->x, ==, 150);

  /* A click on the image gives the selected unplaced landmark its place. */
  hy_landmark_canvas_set_selected (canvas, 2);
  hy_landmark_canvas_image_to_widget (canvas, 120, 70, &wx, &wy);
  hy_landmark_canvas_test_drag (canvas, wx, wy, 0, 0);
  g_assert_cmpuint (ev.places, ==, 1);
  g_assert_cmpuint (ev.index, ==, 2);
  g_assert_cmpfloat (fabs (ev.x - 120), <=, 1e-9);
  g_assert_cmpfloat (fabs (ev.y - 70), <=, 1e-9);
  g_assert_cmpfloat (fabs (hy_landmark_canvas_get_landmark (canvas, 2)->x - 120), <=, 1e-9);

  gtk_window_destroy (window);
}

static void
test_canvas_keys (void)
{
  GtkWindow *window;
  Events ev;
  HyLandmarkCanvas *canvas = new_edit_canvas (&window, &ev);
  const HyCanvasLandmark *l;

  /* Nothing selected: the keys are not the canvas's. */
  g_assert_false (hy_landmark_canvas_test_key (canvas, GDK_KEY_Return, 0));
  g_assert_false (hy_landmark_canvas_test_key (canvas, GDK_KEY_Left, 0));

  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Tab, 0));
  g_assert_cmpint (hy_landmark_canvas_get_selected (canvas), ==, 0);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Tab, 0));
  g_assert_cmpint (hy_landmark_canvas_get_selected (canvas), ==, 1);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK));
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK));
  g_assert_cmpint (hy_landmark_canvas_get_selected (canvas), ==, 2); /* wrapped */
  g_assert_cmpuint (ev.selections, ==, 4);
  hy_landmark_canvas_set_selected (canvas, 1);

  /* One image pixel whatever the zoom; ten with Shift. */
  hy_landmark_canvas_zoom_at (canvas, 3, 0, 0);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Right, 0));
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Down, GDK_SHIFT_MASK));
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Up, 0));
  l = hy_landmark_canvas_get_landmark (canvas, 1);
  g_assert_cmpfloat (l->x, ==, 151);
  g_assert_cmpfloat (l->y, ==, 49);
  g_assert_cmpuint (ev.moves, ==, 3);
  g_assert_cmpuint (ev.finished, ==, 3);
  g_assert_cmpuint (ev.index, ==, 1);
  g_assert_cmpfloat (ev.x, ==, 151);
  g_assert_cmpfloat (ev.y, ==, 49);

  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Return, 0));
  g_assert_cmpuint (ev.confirms, ==, 1);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_KP_Enter, 0));
  g_assert_cmpuint (ev.confirms, ==, 2);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Delete, 0));
  g_assert_cmpuint (ev.absents, ==, 1);

  /* An unplaced landmark cannot be nudged. */
  hy_landmark_canvas_set_selected (canvas, 2);
  g_assert_false (hy_landmark_canvas_test_key (canvas, GDK_KEY_Left, 0));
  g_assert_cmpuint (ev.moves, ==, 3);

  gtk_window_destroy (window);
}


/* ---- the window on a document ------------------------------------------- */

static void
count_change (HyDocument *document,
              int         index,
              guint      *n)
{
  (*n)++;
}

/* The landmark whose marker is farthest from all others, so a press on it
 * cannot grab a neighbour. */
static int
loneliest (const HyAnnotation *a)
{
  int best = -1;
  double best_d = -1;

  for (int i = 0; i < a->n_points; i++)
    {
      double d = G_MAXDOUBLE;

      if (isnan (a->points[i].x))
        continue;
      for (int j = 0; j < a->n_points; j++)
        if (j != i && !isnan (a->points[j].x))
          d = MIN (d, hypot (a->points[i].x - a->points[j].x, a->points[i].y - a->points[j].y));
      if (d > best_d)
        {
          best_d = d;
          best = i;
        }
    }
  return best;
}

/* A generated image predicted with the bundled model, a drag on a marker
 * moves the document's landmark (and the list follows during the drag),
 * Ctrl+Z restores it, Enter confirms and moves on; closing the window saves
 * the corrections and opening the image again shows them. */
static void
test_review_edit (void)
{
  g_autofree char *path = write_test_png (300, 360);
  g_autofree char *json = g_strconcat (path, ".hyatt.json", NULL);
  HyWindow *window = open_file (path);
  HyLandmarkCanvas *canvas = hy_window_get_canvas (window);
  HyDocument *document;
  const HyAnnotation *a;
  const HyAnnotationPoint *p;
  double wx, wy, zoom, x0, y0;
  guint changes = 0;
  int k, next;
  g_auto(GStrv) undo_accels = gtk_application_get_accels_for_action (app, "win.undo");
  g_autoptr(HyLandmarkSet) set = NULL;
  g_autoptr(HyAnnotation) saved = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (wait_for (predicted, window));
  tu_settle ();
  document = hy_window_get_document (window);
  a = hy_document_get_annotation (document);
  g_assert_cmpint (a->n_points, ==, 19);
  g_assert_cmpuint (hy_landmark_canvas_get_n_landmarks (canvas), ==, 19);
  g_assert_cmpstr (a->model, !=, NULL);
  k = loneliest (a);
  g_assert_cmpint (k, >=, 0);
  p = &a->points[k];
  x0 = p->x;
  y0 = p->y;
  g_assert_cmpint (p->state, ==, HY_LANDMARK_PREDICTED);

  /* the drag, in screen pixels; the document follows every step */
  g_signal_connect (document, "changed", G_CALLBACK (count_change), &changes);
  zoom = hy_landmark_canvas_get_zoom (canvas);
  hy_landmark_canvas_image_to_widget (canvas, x0, y0, &wx, &wy);
  hy_landmark_canvas_test_drag (canvas, wx + 2, wy - 2, 20, 10);
  g_assert_cmpuint (changes, >=, 2);
  g_assert_cmpfloat (fabs (p->x - CLAMP (x0 + 20 / zoom, -0.5, 299.5)), <=, 1e-9);
  g_assert_cmpfloat (fabs (p->y - CLAMP (y0 + 10 / zoom, -0.5, 359.5)), <=, 1e-9);
  g_assert_cmpint (p->state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpfloat (p->predicted_x, ==, x0);
  g_assert_cmpint (hy_landmark_canvas_get_selected (canvas), ==, k);
  g_assert_cmpstr (hy_document_get_undo_label (document), ==, "Move Landmark");
  g_assert_true (hy_document_get_dirty (document));
  /* the list followed: state and distance moved (the model gives 0.1 mm per px) */
  {
    g_autofree char *row = hy_landmark_list_describe_row (hy_window_get_landmark_list (window), k);
    g_autofree char *want = g_strdup_printf ("%.1f mm", hy_document_get_distance_moved (document, k));

    g_assert_true (g_str_has_prefix (row, "Moved "));
    g_assert_true (g_str_has_suffix (row, want));
    g_assert_cmpfloat (hy_document_get_spacing (document), ==, 0.1);
  }

  /* one drag, one step: Ctrl+Z (win.undo) puts it back */
  g_assert_cmpstr (undo_accels[0], ==, "<Control>z");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpfloat (p->x, ==, x0);
  g_assert_cmpfloat (p->y, ==, y0);
  g_assert_cmpint (p->state, ==, HY_LANDMARK_PREDICTED);
  g_assert_cmpfloat (hy_landmark_canvas_get_landmark (canvas, (guint) k)->x, ==, x0);
  g_assert_cmpstr (hy_document_get_undo_label (document), ==, "Predict Landmarks");

  /* Enter confirms and selects the next landmark still to check */
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Return, 0));
  g_assert_cmpint (p->state, ==, HY_LANDMARK_CONFIRMED);
  next = hy_landmark_canvas_get_selected (canvas);
  g_assert_cmpint (next, ==, (k + 1) % 19);
  /* Delete marks the next one absent; redo has nothing after new steps */
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Delete, 0));
  g_assert_cmpint (a->points[next].state, ==, HY_LANDMARK_ABSENT);
  g_assert_false (hy_document_can_redo (document));
  /* a nudge, then Ctrl+Shift+Z after undoing it */
  hy_landmark_canvas_set_selected (canvas, k);
  g_assert_true (hy_landmark_canvas_test_key (canvas, GDK_KEY_Left, GDK_SHIFT_MASK));
  g_assert_cmpfloat (p->x, ==, MAX (x0 - 10, -0.5));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpfloat (p->x, ==, x0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo", NULL));
  g_assert_cmpfloat (p->x, ==, MAX (x0 - 10, -0.5));
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (window)), "*"));

  /* closing saves; the file holds every correction */
  close_window (window);
  set = hy_landmark_set_new_named ("isbi2015", &error);
  g_assert_no_error (error);
  saved = hy_annotation_load (json, set, &error);
  g_assert_no_error (error);
  g_assert_cmpint (saved->points[k].state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpfloat (saved->points[k].x, ==, MAX (x0 - 10, -0.5));
  g_assert_cmpint (saved->points[next].state, ==, HY_LANDMARK_ABSENT);

  /* and opening it again shows them, without predicting over them */
  window = open_file (path);
  g_assert_true (wait_for (predicted, window));
  document = hy_window_get_document (window);
  g_assert_false (hy_window_is_predicting (window));
  g_assert_cmpint (hy_document_get_annotation (document)->points[k].state, ==, HY_LANDMARK_MOVED);
  g_assert_cmpint (hy_document_get_annotation (document)->points[next].state, ==, HY_LANDMARK_ABSENT);
  g_assert_false (hy_document_can_undo (document));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "portrait.png");
  /* ready for Enter: the first landmark still to check is selected */
  {
    int sel = hy_landmark_canvas_get_selected (hy_window_get_canvas (window));

    g_assert_cmpint (sel, >=, 0);
    g_assert_cmpint (sel, !=, next);
    g_assert_cmpint (hy_document_get_annotation (document)->points[sel].state, <=, HY_LANDMARK_MOVED);
  }
  close_window (window);
}

static gboolean
shows_file (gpointer data)
{
  HyWindow *window = ((gpointer *) data)[0];
  const char *name = ((gpointer *) data)[1];
  GFile *file = hy_window_get_file (window);
  g_autofree char *base = file != NULL ? g_file_get_basename (file) : NULL;

  return g_strcmp0 (base, name) == 0 && hy_window_get_document (window) != NULL &&
         !hy_window_is_predicting (window) && !hy_document_needs_prediction (hy_window_get_document (window));
}

/* A folder: the queue lists its images, Page Down goes to the next one, a
 * damaged annotation is reported and kept aside. */
static void
test_review_folder (void)
{
  g_autofree char *dir = g_build_filename (tu_tmpdir (), "folder", NULL);
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "b.png", NULL);
  g_autofree char *damaged = g_build_filename (dir, "b.png.hyatt.json", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_auto(GStrv) next_accels = gtk_application_get_accels_for_action (app, "win.next-image");
  g_autofree char *portrait = write_test_png (120, 160);
  g_autofree char *bytes = NULL;
  gsize len;
  HyWindow *window;
  gpointer state[2];
  g_autoptr(GDir) listing = NULL;
  int aside = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_get_contents (portrait, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (a, bytes, (gssize) len, NULL));
  g_assert_true (g_file_set_contents (b, bytes, (gssize) len, NULL));
  g_assert_true (g_file_set_contents (damaged, "{\"format\": \"hyatt-annot", -1, NULL));

  g_application_activate (G_APPLICATION (app));
  window = HY_WINDOW (gtk_application_get_windows (app)->data);
  hy_window_open_folder (window, folder);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (hy_window_get_queue (window))), ==, 2);
  state[0] = window;
  state[1] = "a.png";
  g_assert_true (wait_for (shows_file, state));
  g_assert_null (hy_window_get_error (window));

  /* the measurement and fine-tuning panels are there, after the landmark
   * list; other panels can join, scrolled */
  {
    GtkWidget *page = gtk_label_new ("extra");
    GtkWidget *stack;

    hy_window_add_side_page (window, page, "extra", "Extra");
    stack = gtk_widget_get_parent (gtk_widget_get_parent (gtk_widget_get_parent (page)));
    g_assert_true (GTK_IS_STACK (stack));
    g_assert_nonnull (gtk_stack_get_child_by_name (GTK_STACK (stack), "landmarks"));
    g_assert_nonnull (gtk_stack_get_child_by_name (GTK_STACK (stack), "measurements"));
    g_assert_nonnull (gtk_stack_get_child_by_name (GTK_STACK (stack), "finetune"));
    g_assert_true (gtk_widget_is_ancestor (page, gtk_stack_get_child_by_name (GTK_STACK (stack), "extra")));
    g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (stack)), ==, "landmarks");
  }

  g_assert_cmpstr (next_accels[0], ==, "Page_Down");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next-image", NULL));
  state[1] = "b.png";
  g_assert_true (wait_for (shows_file, state));
  g_assert_nonnull (hy_window_get_error (window));
  g_assert_nonnull (strstr (hy_window_get_error (window), "kept as"));
  listing = g_dir_open (dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name (listing)) != NULL;)
    if (strstr (name, ".damaged-") != NULL)
      aside++;
  g_assert_cmpint (aside, ==, 1);

  /* "next to review" goes back to a.png, which is not done yet */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next-to-review", NULL));
  state[1] = "a.png";
  g_assert_true (wait_for (shows_file, state));
  /* the folder is remembered for the Open dialogs */
  {
    g_autoptr(GSettings) settings = g_settings_new (APP_ID);
    g_autofree char *last = g_settings_get_string (settings, "last-folder");

    g_assert_cmpstr (last, ==, dir);
  }
  close_window (window);
}

/* The text in column col of the Measures grid's row whose first label is id. */
static const char *
measure_text (HyMeasurementPanel *panel,
              const char         *id,
              int                 col)
{
  GtkGrid *grid = GTK_GRID (gtk_widget_get_template_child (GTK_WIDGET (panel),
                                                           HY_TYPE_MEASUREMENT_PANEL, "grid"));

  for (int r = 1; gtk_grid_get_child_at (grid, 0, r) != NULL; r++)
    if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (gtk_grid_get_child_at (grid, 0, r))), id) == 0)
      return gtk_label_get_label (GTK_LABEL (gtk_grid_get_child_at (grid, col, r)));
  g_error ("no row %s", id);
}

static GtkWidget *
panel_child (HyMeasurementPanel *panel,
             const char         *id)
{
  GObject *o = gtk_widget_get_template_child (GTK_WIDGET (panel), HY_TYPE_MEASUREMENT_PANEL, id);

  g_assert_nonnull (o);
  return GTK_WIDGET (o);
}

/* With HY_TEST_PNG_DIR set, widget as drawn, to DIR/name. */
static void
save_png (GtkWidget  *widget,
          const char *name)
{
  const char *dir = g_getenv ("HY_TEST_PNG_DIR");
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GtkSnapshot *snapshot;

  if (dir == NULL)
    return;
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("saved %s", path);
}

/* Enters mm through the Measures page's popover, for the image or the folder. */
static void
enter_spacing (HyMeasurementPanel *panel,
               double              mm,
               gboolean            whole_folder,
               const char         *png)
{
  GtkWidget *button = panel_child (panel, "spacing_button");
  GtkWidget *popover = panel_child (panel, "spacing_popover");
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  tu_settle ();
  g_assert_true (gtk_widget_get_visible (popover));
  /* typed, not committed with Enter: Apply takes it */
  gtk_editable_set_text (GTK_EDITABLE (panel_child (panel, "spacing_spin")),
                         g_ascii_formatd (text, sizeof text, "%.3f", mm));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (panel_child (panel, whole_folder ? "folder_check"
                                                                                  : "this_image_check")),
                               TRUE);
  tu_settle ();
  if (png != NULL)
    save_png (popover, png);
  g_signal_emit_by_name (panel_child (panel, "apply_button"), "clicked");
  tu_settle ();
  g_assert_false (gtk_widget_get_visible (popover));
}

static double
n_me (HyMeasurementPanel *panel)
{
  const char *text = measure_text (panel, "N-Me", 1);

  g_assert_true (g_str_has_suffix (text, " mm"));
  return g_ascii_strtod (text, NULL);
}

static const char *
spacing_text (HyMeasurementPanel *panel)
{
  return gtk_label_get_label (GTK_LABEL (panel_child (panel, "spacing_label")));
}

/* The spacing entered on the Measures page: for the image an undoable
 * step, the figures in mm and the named source following at once; for the
 * folder saved in hyatt-folder.json, and the folder's next image opens
 * with it; a folder that cannot be written says so and the image keeps
 * the entry; a DICOM file keeps its header's. */
static void
test_spacing_entry (void)
{
  g_autofree char *dir = g_build_filename (tu_tmpdir (), "spacing", NULL);
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "b.png", NULL);
  g_autofree char *settings = g_build_filename (dir, "hyatt-folder.json", NULL);
  g_autofree char *blocker = g_build_filename (dir, "hyatt-folder.json.tmp-save", NULL);
  g_autofree char *portrait = write_test_png (300, 360);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autofree char *bytes = NULL;
  gsize len;
  HyWindow *window;
  HyMeasurementPanel *panel;
  HyDocument *document;
  GtkWidget *stack;
  gpointer state[2];
  double model_n_me;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_get_contents (portrait, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (a, bytes, (gssize) len, NULL));
  g_assert_true (g_file_set_contents (b, bytes, (gssize) len, NULL));

  g_application_activate (G_APPLICATION (app));
  window = HY_WINDOW (gtk_application_get_windows (app)->data);
  hy_window_open_folder (window, folder);
  state[0] = window;
  state[1] = "a.png";
  g_assert_true (wait_for (shows_file, state));
  panel = hy_window_get_measurement_panel (window);
  stack = gtk_widget_get_ancestor (GTK_WIDGET (panel), GTK_TYPE_STACK);
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "measurements");
  tu_settle ();
  document = hy_window_get_document (window);

  /* the model's spacing, named as such */
  g_test_message ("%s", spacing_text (panel));
  g_assert_nonnull (strstr (spacing_text (panel), "from the model's training data"));
  g_assert_nonnull (strstr (spacing_text (panel), "0.1 mm"));
  model_n_me = n_me (panel);
  g_assert_cmpfloat (model_n_me, >, 0);

  /* this image: twice the spacing, twice the distance */
  enter_spacing (panel, 0.2, FALSE, "spacing-popover.png");
  save_png (GTK_WIDGET (window), "spacing-measures.png");
  g_test_message ("%s", spacing_text (panel));
  g_assert_nonnull (strstr (spacing_text (panel), "0.2 mm"));
  g_assert_nonnull (strstr (spacing_text (panel), "entered by the user"));
  g_assert_cmpfloat (fabs (n_me (panel) - 2 * model_n_me), <=, 0.011);
  g_assert_cmpint (hy_document_get_annotation (document)->spacing_source, ==, HY_SPACING_USER);
  g_assert_cmpstr (hy_document_get_undo_label (document), ==, "Set Pixel Spacing");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_nonnull (strstr (spacing_text (panel), "from the model's training data"));
  g_assert_cmpfloat (n_me (panel), ==, model_n_me);

  /* the folder: saved there, taken by this image and by the next one */
  enter_spacing (panel, 0.15, TRUE, NULL);
  g_assert_true (g_file_test (settings, G_FILE_TEST_EXISTS));
  g_assert_nonnull (strstr (spacing_text (panel), "for this folder"));
  g_assert_cmpint (hy_document_get_annotation (document)->spacing_source, ==, HY_SPACING_FOLDER);
  g_assert_cmpfloat (fabs (n_me (panel) - 1.5 * model_n_me), <=, 0.011);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next-image", NULL));
  state[1] = "b.png";
  g_assert_true (wait_for (shows_file, state));
  document = hy_window_get_document (window);
  g_assert_cmpfloat (hy_document_get_spacing (document), ==, 0.15);
  g_assert_cmpint (hy_document_get_annotation (document)->spacing_source, ==, HY_SPACING_FOLDER);
  g_assert_nonnull (strstr (spacing_text (panel), "0.15 mm per pixel, entered by the user for this folder"));

  /* a folder that cannot be written: the banner says so, the image keeps it */
  g_assert_cmpint (g_mkdir (blocker, 0700), ==, 0);
  enter_spacing (panel, 0.3, TRUE, NULL);
  g_assert_nonnull (hy_window_get_error (window));
  g_test_message ("banner: %s", hy_window_get_error (window));
  g_assert_nonnull (strstr (hy_window_get_error (window), "Could not save the pixel spacing for the folder"));
  g_assert_cmpfloat (hy_document_get_spacing (document), ==, 0.3);
  g_assert_cmpint (hy_document_get_annotation (document)->spacing_source, ==, HY_SPACING_USER);
  g_assert_cmpint (g_rmdir (blocker), ==, 0);

  /* a DICOM file of the folder keeps its header's spacing, and says so */
  {
    const char *tool = g_getenv ("HYATT_MAKE_DICOM");
    g_autofree char *dcm = g_build_filename (dir, "c.dcm", NULL);
    const char *argv[] = { tool, dcm, "--pixel-spacing", "0.139", NULL };
    g_autoptr(GFile) file = g_file_new_for_path (dcm);
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_nonnull (tool);
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                                 NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    hy_window_open (window, file);
    state[1] = "c.dcm";
    g_assert_true (wait_for (shows_file, state));
    document = hy_window_get_document (window);
    g_assert_cmpfloat (hy_document_get_spacing (document), ==, 0.139);
    g_assert_nonnull (strstr (spacing_text (panel), "0.139 mm per pixel, from the DICOM header"));
    enter_spacing (panel, 0.15, TRUE, NULL);
    g_assert_nonnull (strstr (hy_window_get_error (window), "this image keeps its own"));
    g_assert_cmpfloat (hy_document_get_spacing (document), ==, 0.139);
  }
  close_window (window);
}

/* When the corrections cannot be saved (here the writer's temp is taken by
 * a folder), the banner says so, another image does not replace the one
 * shown, and the first close keeps the window. */
static void
test_review_save_fails (void)
{
  g_autofree char *dir = g_build_filename (tu_tmpdir (), "unsavable", NULL);
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "b.png", NULL);
  g_autofree char *blocker = g_build_filename (dir, "a.png.hyatt.json.tmp-save", NULL);
  g_autofree char *portrait = write_test_png (100, 120);
  g_autofree char *bytes = NULL;
  g_autoptr(GFile) fb = g_file_new_for_path (b);
  gsize len;
  HyWindow *window;
  gpointer weak;

  g_assert_cmpint (g_mkdir_with_parents (blocker, 0700), ==, 0);
  g_assert_true (g_file_get_contents (portrait, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (a, bytes, (gssize) len, NULL));
  g_assert_true (g_file_set_contents (b, bytes, (gssize) len, NULL));

  window = open_file (a);
  g_assert_true (wait_for (predicted, window));
  g_assert_true (hy_document_get_dirty (hy_window_get_document (window)));
  hy_window_open (window, fb);
  g_assert_true (wait_for (error_shown, window));
  g_test_message ("banner: %s", hy_window_get_error (window));
  g_assert_nonnull (strstr (hy_window_get_error (window), "Could not save the corrections"));
  g_assert_true (g_str_has_suffix (g_file_peek_path (hy_window_get_file (window)), "a.png"));
  g_assert_true (hy_document_get_dirty (hy_window_get_document (window)));

  /* the first close keeps the window and its corrections, the second goes */
  weak = window;
  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_close (GTK_WINDOW (window));
  tu_settle ();
  g_assert_nonnull (weak);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  g_object_remove_weak_pointer (G_OBJECT (window), &weak);
  close_window (window);
  g_assert_cmpint (g_rmdir (blocker), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  static const int small[] = { 200, 320 }, large[] = { 1000, 1600 };
  g_autoptr(GError) error = NULL;
  int status;

  /* the windows' model store goes to a temporary XDG_DATA_HOME */
  tu_isolate_user_dirs ();
  gtk_test_init (&argc, &argv, NULL);
  /* NON_UNIQUE: never hand the files to a running hyatt-studio. */
  app = g_object_new (HY_TYPE_APPLICATION,
                      "application-id", APP_ID,
                      "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                      NULL);
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("%s", error->message);

  g_test_add_data_func ("/ui/open-image/small", small, test_open_image);
  g_test_add_data_func ("/ui/open-image/large", large, test_open_image);
  g_test_add_func ("/ui/actions", test_actions);
  g_test_add_func ("/ui/open-corrupt", test_open_corrupt);
  g_test_add_func ("/ui/open-missing", test_open_missing);
  g_test_add_func ("/ui/window-size", test_window_size);
  g_test_add_func ("/ui/review/edit", test_review_edit);
  g_test_add_func ("/ui/review/folder", test_review_folder);
  g_test_add_func ("/ui/review/save-fails", test_review_save_fails);
  g_test_add_func ("/ui/review/spacing", test_spacing_entry);
  g_test_add_func ("/ui/canvas/mapping", test_canvas_mapping);
  g_test_add_func ("/ui/canvas/drag", test_canvas_drag);
  g_test_add_func ("/ui/canvas/keys", test_canvas_keys);
  g_test_add_func ("/ui/canvas/heatmap", test_canvas_heatmap);
  status = g_test_run ();

  g_object_unref (app);
  return status;
}
