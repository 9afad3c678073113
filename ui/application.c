/* HyApplication: app-wide actions, accelerators, style sheet, and which
 * window a file opens in. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>

#include "application.h"
#include "window.h"

struct _HyApplication
{
  GtkApplication parent_instance;

  /* Owned references */
  GtkFileChooserNative *chooser; /* the Open dialog while it is shown, or NULL */
};

G_DEFINE_FINAL_TYPE (HyApplication, hy_application, GTK_TYPE_APPLICATION)

HyApplication *
hy_application_new (void)
{
  return g_object_new (HY_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       NULL);
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     gpointer         user_data)
{
  HyApplication *self = HY_APPLICATION (user_data);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) model = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      guint n = g_list_model_get_n_items (model);
      g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (files, g_list_model_get_item (model, i));
      if (files->len > 0)
        g_application_open (G_APPLICATION (self), (GFile **) files->pdata, (int) files->len, "");
    }

  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static void
open_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  HyApplication *self = HY_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autoptr(GtkFileFilter) images = gtk_file_filter_new ();

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  self->chooser = gtk_file_chooser_native_new (_("Open an X-ray"), parent,
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser), TRUE);

  gtk_file_filter_set_name (images, _("PNG and JPEG images"));
  gtk_file_filter_add_mime_type (images, "image/png");
  gtk_file_filter_add_mime_type (images, "image/jpeg");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), images);

  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  static const char *authors[] = { "The Hyatt Studio authors", NULL };
  GtkApplication *app = GTK_APPLICATION (user_data);

  gtk_show_about_dialog (gtk_application_get_active_window (app),
                         "program-name", _("Hyatt Studio"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Find and correct anatomical landmarks on X-ray images"),
                         "website", "https://github.com/hyattstudio/hyatt-studio",
                         "copyright", "© 2026 The Hyatt Studio authors",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         /* Translators: your names, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

/* Closes the windows instead of quitting outright, so each one saves its
 * state and can later refuse to close with unsaved work. */
static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GList *windows = g_list_copy (gtk_application_get_windows (app));

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
  g_list_free (windows);
}

/* SIGTERM or SIGINT (logout, kill, Ctrl+C in a terminal): quit as the menu
 * does, so that the windows save the last corrections first. */
static gboolean
on_quit_signal (gpointer user_data)
{
  quit_activated (NULL, NULL, user_data);
  return G_SOURCE_CONTINUE;
}

static const GActionEntry app_actions[] = {
  { .name = "open", .activate = open_activated },
  { .name = "about", .activate = about_activated },
  { .name = "quit", .activate = quit_activated },
};

static void
hy_application_startup (GApplication *app)
{
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.open", { "<Primary>o", NULL } },
    { "app.quit", { "<Primary>q", NULL } },
    { "win.close", { "<Primary>w", NULL } },
    { "win.open-folder", { "<Primary><Shift>o", NULL } },
    { "win.undo", { "<Primary>z", NULL } },
    { "win.redo", { "<Primary><Shift>z", "<Primary>y", NULL } },
    { "win.next-image", { "Page_Down", NULL } },
    { "win.previous-image", { "Page_Up", NULL } },
    { "win.next-to-review", { "<Primary>Page_Down", NULL } },
    { "win.accept-all", { "<Primary>Return", NULL } },
    { "win.all-heatmaps", { "h", NULL } },
  };
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  g_autofree char *css_path = NULL;

  G_APPLICATION_CLASS (hy_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);

  /* GTK 4 itself (unlike libadwaita) does not load style.css automatically. */
  css_path = g_strconcat (g_application_get_resource_base_path (app), "/style.css", NULL);
  gtk_css_provider_load_from_resource (css, css_path);
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  gtk_window_set_default_icon_name (APP_ID);
  g_unix_signal_add (SIGTERM, on_quit_signal, app);
  g_unix_signal_add (SIGINT, on_quit_signal, app);
}

static void
hy_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (hy_window_new (GTK_APPLICATION (app)));
  gtk_window_present (window);
}

/* An empty active window takes the first file; every other file gets a new
 * window. A folder opens as a review queue. */
static void
hy_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  for (int i = 0; i < n_files; i++)
    {
      GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));
      HyWindow *window;

      if (HY_IS_WINDOW (active) && hy_window_is_empty (HY_WINDOW (active)))
        window = HY_WINDOW (active);
      else
        window = hy_window_new (GTK_APPLICATION (app));
      if (g_file_query_file_type (files[i], G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
        hy_window_open_folder (window, files[i]);
      else
        hy_window_open (window, files[i]);
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
hy_application_dispose (GObject *object)
{
  HyApplication *self = HY_APPLICATION (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  G_OBJECT_CLASS (hy_application_parent_class)->dispose (object);
}

static void
hy_application_class_init (HyApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = hy_application_dispose;
  app_class->startup = hy_application_startup;
  app_class->activate = hy_application_activate;
  app_class->open = hy_application_open;
}

static void
hy_application_init (HyApplication *self)
{
}
