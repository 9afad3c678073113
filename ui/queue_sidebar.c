/* HyQueueSidebar: a GtkListBox bound to the queue; rows are remade when the
 * queue reorders. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "queue_sidebar.h"

struct _HyQueueSidebar
{
  GtkBox parent_instance;

  /* Template widgets */
  GtkLabel   *counts;
  GtkListBox *list;

  /* Owned references */
  HyReviewQueue *queue;   /* or NULL */
  char          *current; /* path of the image shown, or NULL */

  gboolean selecting;
};

G_DEFINE_FINAL_TYPE (HyQueueSidebar, hy_queue_sidebar, GTK_TYPE_BOX)

enum
{
  SIGNAL_IMAGE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GtkWidget *
make_row (gpointer item,
          gpointer user_data)
{
  HyReviewItem *image = item;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *name = gtk_label_new (hy_review_item_get_name (image));
  double c = hy_review_item_get_confidence (image);
  g_autofree char *confidence = isnan (c) ? g_strdup ("–") : g_strdup_printf ("%.2f", c);
  GtkWidget *value = gtk_label_new (confidence);
  GtkWidget *icon = gtk_image_new_from_icon_name (hy_review_item_get_done (image)
                                                  ? "emblem-ok-symbolic" : "find-location-symbolic");

  gtk_widget_set_tooltip_text (icon, hy_review_item_get_done (image) ? _("Reviewed") : _("To review"));
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_widget_set_tooltip_text (value, _("Mean confidence"));
  gtk_widget_add_css_class (value, "numeric");
  gtk_widget_add_css_class (value, "dim-label");
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), value);
  return box;
}

static void
update_counts (HyQueueSidebar *self)
{
  g_autofree char *text = NULL;

  if (self->queue == NULL)
    {
      gtk_label_set_text (self->counts, "");
      return;
    }
  /* Translators: numbers of images still to review and done */
  text = g_strdup_printf (_("To review: %u · Done: %u"),
                          hy_review_queue_get_n_to_review (self->queue),
                          hy_review_queue_get_n_done (self->queue));
  gtk_label_set_text (self->counts, text);
}

static void
select_current (HyQueueSidebar *self)
{
  int position = self->queue != NULL ? hy_review_queue_find (self->queue, self->current) : -1;

  self->selecting = TRUE;
  if (position < 0)
    gtk_list_box_unselect_all (self->list);
  else
    gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, position));
  self->selecting = FALSE;
}

static void
on_items_changed (GListModel     *model,
                  guint           position,
                  guint           removed,
                  guint           added,
                  HyQueueSidebar *self)
{
  /* the list box has remade the rows already (it connected first) */
  select_current (self);
}

void
hy_queue_sidebar_set_queue (HyQueueSidebar *self,
                            HyReviewQueue  *queue)
{
  g_return_if_fail (HY_IS_QUEUE_SIDEBAR (self));
  g_return_if_fail (queue == NULL || HY_IS_REVIEW_QUEUE (queue));

  if (self->queue != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->queue, self);
    }
  g_set_object (&self->queue, queue);
  gtk_list_box_bind_model (self->list, G_LIST_MODEL (queue), queue ? make_row : NULL, NULL, NULL);
  if (queue != NULL)
    {
      g_signal_connect (queue, "items-changed", G_CALLBACK (on_items_changed), self);
      g_signal_connect_swapped (queue, "notify::n-done", G_CALLBACK (update_counts), self);
      g_signal_connect_swapped (queue, "notify::n-to-review", G_CALLBACK (update_counts), self);
    }
  update_counts (self);
  select_current (self);
}

void
hy_queue_sidebar_set_current (HyQueueSidebar *self,
                              const char     *path)
{
  g_return_if_fail (HY_IS_QUEUE_SIDEBAR (self));

  g_free (self->current);
  self->current = g_strdup (path);
  select_current (self);
}

static void
on_row_activated (HyQueueSidebar *self,
                  GtkListBoxRow  *row)
{
  g_autoptr(HyReviewItem) item = NULL;

  if (self->selecting || self->queue == NULL)
    return;
  item = g_list_model_get_item (G_LIST_MODEL (self->queue), (guint) gtk_list_box_row_get_index (row));
  if (item != NULL)
    g_signal_emit (self, signals[SIGNAL_IMAGE_ACTIVATED], 0, hy_review_item_get_path (item));
}

static void
hy_queue_sidebar_dispose (GObject *object)
{
  HyQueueSidebar *self = HY_QUEUE_SIDEBAR (object);

  if (self->queue != NULL)
    g_signal_handlers_disconnect_by_data (self->queue, self);
  g_clear_object (&self->queue);
  g_clear_pointer (&self->current, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), HY_TYPE_QUEUE_SIDEBAR);

  G_OBJECT_CLASS (hy_queue_sidebar_parent_class)->dispose (object);
}

static void
hy_queue_sidebar_class_init (HyQueueSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hy_queue_sidebar_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hyattstudio/HyattStudio/queue_sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, HyQueueSidebar, counts);
  gtk_widget_class_bind_template_child (widget_class, HyQueueSidebar, list);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);

  /* (const char *path): the user picked an image */
  signals[SIGNAL_IMAGE_ACTIVATED] =
    g_signal_new ("image-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
hy_queue_sidebar_init (HyQueueSidebar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_activate_on_single_click (self->list, TRUE);
}
