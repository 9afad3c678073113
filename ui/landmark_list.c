/* HyLandmarkList: rows made once per document, their labels refreshed on
 * every change. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "landmark_list.h"

struct _HyLandmarkList
{
  GtkBox parent_instance;

  /* Template widgets */
  GtkListBox *list;
  GtkLabel   *details;

  /* Owned references */
  HyDocument *document;  /* or NULL */

  gulong   changed_id;
  int      selected;
  gboolean selecting;    /* selecting a row from code: no signal */
};

G_DEFINE_FINAL_TYPE (HyLandmarkList, hy_landmark_list, GTK_TYPE_BOX)

enum
{
  SIGNAL_LANDMARK_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
state_icon (HyLandmarkState state)
{
  switch (state)
    {
    case HY_LANDMARK_MOVED:
      return "document-edit-symbolic";
    case HY_LANDMARK_CONFIRMED:
      return "emblem-ok-symbolic";
    case HY_LANDMARK_ABSENT:
      return "action-unavailable-symbolic";
    case HY_LANDMARK_PREDICTED:
    default:
      return "media-record-symbolic";
    }
}

static const char *
state_text (HyLandmarkState state)
{
  switch (state)
    {
    case HY_LANDMARK_MOVED:
      return _("Moved");
    case HY_LANDMARK_CONFIRMED:
      return _("Confirmed");
    case HY_LANDMARK_ABSENT:
      return _("Absent");
    case HY_LANDMARK_PREDICTED:
    default:
      return _("Predicted");
    }
}

static char *
confidence_text (double confidence)
{
  return isnan (confidence) ? g_strdup ("–") : g_strdup_printf ("%.2f", confidence);
}

static char *
distance_text (HyDocument *document,
               int         index)
{
  double d = hy_document_get_distance_moved (document, index);

  if (isnan (d))
    return g_strdup ("–");
  if (hy_document_get_spacing (document) > 0)
    /* Translators: a distance in millimetres */
    return g_strdup_printf (_("%.1f mm"), d);
  /* Translators: a distance in image pixels */
  return g_strdup_printf (_("%.0f px"), d);
}

/* The row's children: icon, name, confidence, distance. */
typedef struct
{
  GtkImage *icon;
  GtkLabel *name;
  GtkLabel *confidence;
  GtkLabel *distance;
} RowWidgets;

static void
update_row (HyLandmarkList *self,
            int             index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->list, index);
  RowWidgets *w = g_object_get_data (G_OBJECT (row), "widgets");
  const HyAnnotationPoint *p = &hy_document_get_annotation (self->document)->points[index];
  g_autofree char *confidence = confidence_text (p->confidence);
  g_autofree char *distance = distance_text (self->document, index);

  gtk_image_set_from_icon_name (w->icon, state_icon (p->state));
  gtk_widget_set_tooltip_text (GTK_WIDGET (w->icon), state_text (p->state));
  gtk_label_set_text (w->confidence, confidence);
  gtk_label_set_text (w->distance, distance);
}

static void
update_details (HyLandmarkList *self)
{
  const HyAnnotationPoint *p;
  HyLandmarkSet *set;
  GString *text;
  g_autofree char *confidence = NULL, *distance = NULL;

  if (self->document == NULL || self->selected < 0)
    {
      gtk_label_set_text (self->details, _("No landmark selected."));
      return;
    }
  set = hy_document_get_landmark_set (self->document);
  p = &hy_document_get_annotation (self->document)->points[self->selected];
  confidence = confidence_text (p->confidence);
  distance = distance_text (self->document, self->selected);
  text = g_string_new (NULL);
  g_string_append_printf (text, "%d. %s (%s)\n", self->selected + 1,
                          hy_landmark_set_get_landmark_name (set, self->selected),
                          hy_landmark_set_get_abbreviation (set, self->selected));
  /* Translators: the landmark's state, e.g. Moved */
  g_string_append_printf (text, _("State: %s"), state_text (p->state));
  g_string_append_c (text, '\n');
  if (!isnan (p->x))
    /* Translators: image coordinates in pixels */
    g_string_append_printf (text, _("Position: %.1f, %.1f px"), p->x, p->y);
  else
    g_string_append (text, _("Position: none"));
  g_string_append_c (text, '\n');
  if (!isnan (p->predicted_x))
    {
      g_string_append_printf (text, _("Predicted: %.1f, %.1f px"), p->predicted_x, p->predicted_y);
      g_string_append_c (text, '\n');
    }
  g_string_append_printf (text, _("Confidence: %s · Moved by: %s"), confidence, distance);
  gtk_label_set_text (self->details, text->str);
  g_string_free (text, TRUE);
}

static void
on_document_changed (HyDocument     *document,
                     int             index,
                     HyLandmarkList *self)
{
  int n = hy_document_get_n_landmarks (document);

  if (index >= 0)
    update_row (self, index);
  else
    for (int i = 0; i < n; i++)
      update_row (self, i);
  update_details (self);
}

static GtkWidget *
make_row (HyLandmarkList *self,
          int             index)
{
  HyLandmarkSet *set = hy_document_get_landmark_set (self->document);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  RowWidgets *w = g_new0 (RowWidgets, 1);
  g_autofree char *name = g_strdup_printf ("%s  %s", hy_landmark_set_get_abbreviation (set, index),
                                           hy_landmark_set_get_landmark_name (set, index));

  w->icon = GTK_IMAGE (gtk_image_new ());
  w->name = GTK_LABEL (gtk_label_new (name));
  gtk_label_set_xalign (w->name, 0);
  gtk_label_set_ellipsize (w->name, PANGO_ELLIPSIZE_END);
  /* the canvas, not the panel, takes the window's width */
  gtk_label_set_max_width_chars (w->name, 18);
  gtk_widget_set_hexpand (GTK_WIDGET (w->name), TRUE);
  w->confidence = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_tooltip_text (GTK_WIDGET (w->confidence), _("Confidence"));
  w->distance = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_width_chars (w->distance, 7);
  gtk_label_set_xalign (w->distance, 1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (w->distance), _("Distance moved from the prediction"));
  gtk_widget_add_css_class (GTK_WIDGET (w->confidence), "numeric");
  gtk_widget_add_css_class (GTK_WIDGET (w->distance), "numeric");
  gtk_widget_add_css_class (GTK_WIDGET (w->confidence), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (w->icon));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (w->name));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (w->confidence));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (w->distance));
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "widgets", w, g_free);
  return row;
}

void
hy_landmark_list_set_document (HyLandmarkList *self,
                               HyDocument     *document)
{
  GtkWidget *child;

  g_return_if_fail (HY_IS_LANDMARK_LIST (self));
  g_return_if_fail (document == NULL || HY_IS_DOCUMENT (document));

  if (self->document != NULL)
    g_clear_signal_handler (&self->changed_id, self->document);
  g_set_object (&self->document, document);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  self->selected = -1;
  if (document != NULL)
    {
      for (int i = 0; i < hy_document_get_n_landmarks (document); i++)
        {
          gtk_list_box_append (self->list, make_row (self, i));
          update_row (self, i);
        }
      self->changed_id = g_signal_connect (document, "changed",
                                           G_CALLBACK (on_document_changed), self);
    }
  update_details (self);
}

void
hy_landmark_list_set_selected (HyLandmarkList *self,
                               int             index)
{
  g_return_if_fail (HY_IS_LANDMARK_LIST (self));

  self->selecting = TRUE;
  self->selected = self->document != NULL ? index : -1;
  if (self->selected < 0)
    gtk_list_box_unselect_all (self->list);
  else
    gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, index));
  self->selecting = FALSE;
  update_details (self);
}

char *
hy_landmark_list_describe_row (HyLandmarkList *self,
                               int             index)
{
  GtkListBoxRow *row;
  RowWidgets *w;

  g_return_val_if_fail (HY_IS_LANDMARK_LIST (self), NULL);

  row = gtk_list_box_get_row_at_index (self->list, index);
  if (row == NULL)
    return NULL;
  w = g_object_get_data (G_OBJECT (row), "widgets");
  return g_strdup_printf ("%s %s %s", gtk_widget_get_tooltip_text (GTK_WIDGET (w->icon)),
                          gtk_label_get_text (w->confidence), gtk_label_get_text (w->distance));
}

static void
on_row_activated (HyLandmarkList *self,
                  GtkListBoxRow  *row)
{
  if (self->selecting)
    return;
  self->selected = gtk_list_box_row_get_index (row);
  update_details (self);
  g_signal_emit (self, signals[SIGNAL_LANDMARK_ACTIVATED], 0, self->selected);
}

static void
hy_landmark_list_dispose (GObject *object)
{
  HyLandmarkList *self = HY_LANDMARK_LIST (object);

  if (self->document != NULL)
    g_clear_signal_handler (&self->changed_id, self->document);
  g_clear_object (&self->document);
  gtk_widget_dispose_template (GTK_WIDGET (self), HY_TYPE_LANDMARK_LIST);

  G_OBJECT_CLASS (hy_landmark_list_parent_class)->dispose (object);
}

static void
hy_landmark_list_class_init (HyLandmarkListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hy_landmark_list_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hyattstudio/HyattStudio/landmark_list.ui");
  gtk_widget_class_bind_template_child (widget_class, HyLandmarkList, list);
  gtk_widget_class_bind_template_child (widget_class, HyLandmarkList, details);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);

  /* (int index): the user picked a landmark in the list */
  signals[SIGNAL_LANDMARK_ACTIVATED] =
    g_signal_new ("landmark-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
hy_landmark_list_init (HyLandmarkList *self)
{
  self->selected = -1;
  gtk_widget_init_template (GTK_WIDGET (self));
  /* a single click picks a landmark */
  gtk_list_box_set_activate_on_single_click (self->list, TRUE);
}
