/* The GTK front end, in process under Xvfb: the application opens an image
 * in a window (loaded in a worker thread), the view fits it and draws it,
 * win.close closes the window; a corrupt or missing file shows the error
 * banner and leaves the placeholder; actions have their accelerators; the
 * window size is remembered. */
#include "config.h"

#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "testutil.h"
#include "window.h"

#define TIMEOUT_S 20

static GtkApplication *app; /* created and registered once in main() */

/* Iterates the main loop until done(data) or the timeout; FALSE on timeout. */
static gboolean
wait_for (gboolean (*done) (gpointer data),
          gpointer   data)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
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
  return path;
}

/* The view rendered to pixels, as cairo ARGB32 (grey, so channel order does
 * not matter). */
static guchar *
render_view (HyLandmarkCanvas *view,
             int              *stride)
{
  int width = gtk_widget_get_width (GTK_WIDGET (view));
  int height = gtk_widget_get_height (GTK_WIDGET (view));
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (view));
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (GTK_WIDGET (view)));
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

  image = hy_landmark_canvas_get_image (view);
  g_assert_nonnull (image);
  g_assert_cmpint (image->width, ==, iw);
  g_assert_cmpint (image->height, ==, ih);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "portrait.png");
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
  };

  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "open"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (app, actions[i][0]);

      g_assert_cmpuint (g_strv_length (accels), ==, 1);
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

int
main (int   argc,
      char *argv[])
{
  static const int small[] = { 240, 320 }, large[] = { 1200, 1600 };
  g_autoptr(GError) error = NULL;
  int status;

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
  status = g_test_run ();

  g_object_unref (app);
  return status;
}
