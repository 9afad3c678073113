/* HyWindow: loading an image off the main thread, the placeholder, the error
 * banner, window size kept in GSettings. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "window.h"

struct _HyWindow
{
  GtkApplicationWindow parent_instance;

  /* Template widgets */
  GtkLabel    *title_label;
  GtkLabel    *subtitle_label;
  GtkStack    *stack;
  HyLandmarkCanvas *canvas;
  GtkRevealer *error_revealer;
  GtkLabel    *error_label;

  /* Owned references */
  GSettings    *settings;     /* NULL when the schema is not installed */
  GCancellable *cancellable;  /* of the load in flight, or NULL */
  GFile        *file;         /* of the image shown, or NULL */
};

G_DEFINE_FINAL_TYPE (HyWindow, hy_window, GTK_TYPE_APPLICATION_WINDOW)

static void
image_free (hy_image *image)
{
  hy_image_free (image);
  g_free (image);
}

static void
show_error (HyWindow   *self,
            GFile      *file,
            const char *message)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *display = g_filename_display_name (name);
  const char *path = g_file_peek_path (file);
  g_autofree char *text = NULL;

  /* libhyatt's messages start with the path, which the banner already names. */
  if (path != NULL && g_str_has_prefix (message, path) &&
      g_str_has_prefix (message + strlen (path), ": "))
    message += strlen (path) + 2;

  /* Translators: the file name, then why it could not be opened */
  text = g_strdup_printf (_("Could not open “%s”: %s"), display, message);
  gtk_label_set_text (self->error_label, text);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
on_error_dismissed (HyWindow *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static void
show_image (HyWindow *self,
            GFile    *file,
            hy_image *image)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *display = g_filename_display_name (name);
  g_autofree char *details = NULL;

  /* Translators: image width × height in pixels, then bits per sample */
  details = g_strdup_printf (_("%d × %d pixels, %d-bit"),
                             image->width, image->height, image->bit_depth);

  g_set_object (&self->file, file);
  hy_landmark_canvas_take_image (self->canvas, image);
  gtk_widget_grab_focus (GTK_WIDGET (self->canvas));
  gtk_stack_set_visible_child_name (self->stack, "image");
  gtk_window_set_title (GTK_WINDOW (self), display);
  gtk_label_set_text (self->title_label, display);
  gtk_label_set_text (self->subtitle_label, details);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), TRUE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->title_label), g_file_peek_path (file));
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

/* Runs in a worker thread: only libhyatt and the task, no widgets. */
static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GFile *file = task_data;
  hy_image *image = g_new0 (hy_image, 1);
  hy_error err;

  hy_error_clear (&err);
  if (hy_image_load (image, g_file_peek_path (file), &err) != HY_OK)
    {
      image_free (image);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.msg);
      return;
    }
  g_task_return_pointer (task, image, (GDestroyNotify) image_free);
}

static void
on_load_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  HyWindow *self = HY_WINDOW (source_object);
  GFile *file = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  hy_image *image = g_task_propagate_pointer (G_TASK (result), &error);

  /* A newer load replaced this one (and owns self->cancellable now), or the
   * window is going away. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->cancellable);
  if (image == NULL)
    show_error (self, file, error->message);
  else
    show_image (self, file, image);
}

HyWindow *
hy_window_new (GtkApplication *app)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (app), NULL);

  return g_object_new (HY_TYPE_WINDOW, "application", app, NULL);
}

void
hy_window_open (HyWindow *self,
                GFile    *file)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HY_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (g_file_peek_path (file) == NULL)
    {
      show_error (self, file, _("only files on this computer can be opened"));
      return;
    }

  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, on_load_done, NULL);
  g_task_set_name (task, "hy_window_open");
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

gboolean
hy_window_is_empty (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), FALSE);

  return self->file == NULL && self->cancellable == NULL;
}

GFile *
hy_window_get_file (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->file;
}

const char *
hy_window_get_error (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->error_revealer))
    return NULL;
  return gtk_label_get_text (self->error_label);
}

HyLandmarkCanvas *
hy_window_get_canvas (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->canvas;
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         gpointer       user_data)
{
  HyWindow *self = HY_WINDOW (user_data);
  GSList *files = g_value_get_boxed (value);

  if (files == NULL)
    return FALSE;
  hy_window_open (self, G_FILE (files->data));
  return TRUE;
}

static void
close_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  gtk_window_close (GTK_WINDOW (widget));
}

static void
restore_window_state (HyWindow *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  /* Running from the build tree without the schema: just don't remember. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    return;

  self->settings = g_settings_new_full (schema, NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
save_window_state (HyWindow *self)
{
  int width, height;

  if (self->settings == NULL)
    return;

  /* The default size follows the user's resizing but not maximizing. */
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  if (width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", CLAMP (width, 360, 32768));
      g_settings_set_int (self->settings, "window-height", CLAMP (height, 300, 32768));
    }
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
}

static gboolean
hy_window_close_request (GtkWindow *window)
{
  save_window_state (HY_WINDOW (window));

  return GTK_WINDOW_CLASS (hy_window_parent_class)->close_request (window);
}

static void
hy_window_dispose (GObject *object)
{
  HyWindow *self = HY_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->file);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), HY_TYPE_WINDOW);

  G_OBJECT_CLASS (hy_window_parent_class)->dispose (object);
}

static void
hy_window_class_init (HyWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = hy_window_dispose;
  window_class->close_request = hy_window_close_request;

  g_type_ensure (HY_TYPE_LANDMARK_CANVAS);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hyattstudio/HyattStudio/window.ui");
  gtk_widget_class_bind_template_child (widget_class, HyWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, canvas);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_error_dismissed);

  gtk_widget_class_install_action (widget_class, "win.close", NULL, close_activated);
}

static void
hy_window_init (HyWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  restore_window_state (self);
}
