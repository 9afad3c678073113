#include "config.h"

#include "measurement_panel.h"

#include <glib/gi18n.h>

#include "analysis.h"
#include "annotation.h"

enum { COL_NAME, COL_VALUE, COL_NORMAL, COL_CLASS, N_COLS };

struct _HyMeasurementPanel
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkWidget      *box;
  GtkWidget      *spacing_box;
  GtkLabel       *spacing_label;
  GtkPopover     *spacing_popover;
  GtkSpinButton  *spacing_spin;
  GtkCheckButton *folder_check;
  GtkWidget      *apply_button;
  GtkGrid        *grid;
  GtkLabel       *empty_label;

  /* Owned references */
  HyLandmarkSet *set; /* the set the grid's rows are for, or NULL */

  /* Borrowed references: the grid's labels, [n_rows][N_COLS] */
  GPtrArray *cells;
  int        n_rows;

  double     spacing; /* of the points shown, mm per pixel; 0 when unknown */
};

G_DEFINE_FINAL_TYPE (HyMeasurementPanel, hy_measurement_panel, GTK_TYPE_WIDGET)

enum { SIGNAL_SPACING_ENTERED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The entry starts at the spacing in use, so that a small correction is
 * a small edit. */
static void
on_spacing_popover_show (HyMeasurementPanel *self)
{
  gtk_spin_button_set_value (self->spacing_spin, self->spacing > 0 ? self->spacing : 0.1);
  gtk_widget_grab_focus (GTK_WIDGET (self->spacing_spin));
}

static void
on_spacing_apply (HyMeasurementPanel *self)
{
  /* a value typed but not yet committed with Enter counts too */
  gtk_spin_button_update (self->spacing_spin);
  gtk_popover_popdown (self->spacing_popover);
  g_signal_emit (self, signals[SIGNAL_SPACING_ENTERED], 0,
                 gtk_spin_button_get_value (self->spacing_spin),
                 gtk_check_button_get_active (self->folder_check));
}

static GtkLabel *
cell (HyMeasurementPanel *self,
      int                 row,
      int                 col)
{
  return g_ptr_array_index (self->cells, row * N_COLS + col);
}

static GtkWidget *
new_label (const char *text,
           gboolean    dim)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (dim)
    gtk_widget_add_css_class (label, "dim-label");
  return label;
}

/* One row per measurement of set, under a heading row. */
static void
rebuild_rows (HyMeasurementPanel *self,
              HyLandmarkSet      *set)
{
  static const char *const heads[N_COLS] = {
    N_("Measurement"), N_("Value"), N_("Normal"), N_("Class"),
  };
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->grid))) != NULL)
    gtk_grid_remove (self->grid, child);
  g_ptr_array_set_size (self->cells, 0);
  g_set_object (&self->set, set);
  self->n_rows = set ? hy_landmark_set_get_n_measurements (set) : 0;

  for (int c = 0; c < N_COLS; c++)
    {
      GtkWidget *head = new_label (_(heads[c]), FALSE);

      gtk_widget_add_css_class (head, "heading");
      gtk_grid_attach (self->grid, head, c, 0, 1, 1);
    }
  for (int r = 0; r < self->n_rows; r++)
    {
      const HyMeasurementDef *def = hy_landmark_set_get_measurement (set, r);

      for (int c = 0; c < N_COLS; c++)
        {
          GtkWidget *label = new_label (c == COL_NAME ? def->m.id : "", c == COL_NORMAL);

          if (c == COL_NAME)
            gtk_widget_set_tooltip_text (label, def->definition ? def->definition : def->name);
          if (c == COL_VALUE)
            gtk_widget_add_css_class (label, "numeric");
          if (c == COL_CLASS)
            {
              gtk_label_set_wrap (GTK_LABEL (label), TRUE);
              gtk_widget_set_hexpand (label, TRUE);
            }
          gtk_grid_attach (self->grid, label, c, r + 1, 1, 1);
          g_ptr_array_add (self->cells, label);
        }
    }
}

void
hy_measurement_panel_set_points (HyMeasurementPanel  *self,
                                 const HyAnnotation  *annotation,
                                 const HyLandmarkSet *const_set)
{
  /* the set is only read; its getters take a plain pointer */
  HyLandmarkSet *set = (HyLandmarkSet *) const_set;
  g_autoptr(HyAnalysis) analysis = NULL;
  g_autofree char *spacing = NULL;

  g_return_if_fail (HY_IS_MEASUREMENT_PANEL (self));
  g_return_if_fail (set == NULL || HY_IS_LANDMARK_SET (set));
  g_return_if_fail (annotation == NULL || set == NULL ||
                    annotation->n_points == hy_landmark_set_get_count (set));

  if (annotation == NULL || set == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->grid), FALSE);
      gtk_widget_set_visible (self->spacing_box, FALSE);
      self->spacing = 0;
      gtk_label_set_label (self->empty_label, _("No landmarks to measure."));
      gtk_widget_set_visible (GTK_WIDGET (self->empty_label), TRUE);
      return;
    }
  if (set != self->set)
    rebuild_rows (self, set);

  analysis = hy_analysis_new (set, annotation);
  spacing = hy_analysis_format_spacing (analysis);
  gtk_label_set_label (self->spacing_label, spacing);
  gtk_widget_set_visible (self->spacing_box, TRUE);
  self->spacing = analysis->spacing;
  gtk_widget_set_visible (GTK_WIDGET (self->grid), self->n_rows > 0);
  gtk_label_set_label (self->empty_label, _("This landmark set defines no measurements."));
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), self->n_rows == 0);

  for (int r = 0; r < self->n_rows; r++)
    {
      const HyAnalysisRow *row = &analysis->rows[r];
      g_autofree char *value = hy_analysis_format_value (row);
      g_autofree char *normal = hy_analysis_format_normal (row);
      g_autofree char *klass = hy_analysis_format_class (row);
      gboolean outside = row->normal && row->klass && row->klass != row->normal;
      GtkWidget *class_label = GTK_WIDGET (cell (self, r, COL_CLASS));

      gtk_label_set_label (cell (self, r, COL_VALUE), value);
      gtk_label_set_label (cell (self, r, COL_NORMAL), normal);
      gtk_label_set_label (GTK_LABEL (class_label), klass);
      if (outside)
        gtk_widget_add_css_class (class_label, "error");
      else
        gtk_widget_remove_css_class (class_label, "error");
    }
}

static void
hy_measurement_panel_dispose (GObject *object)
{
  HyMeasurementPanel *self = HY_MEASUREMENT_PANEL (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->set);
  g_clear_pointer (&self->cells, g_ptr_array_unref);

  G_OBJECT_CLASS (hy_measurement_panel_parent_class)->dispose (object);
}

static void
hy_measurement_panel_class_init (HyMeasurementPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hy_measurement_panel_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hyattstudio/HyattStudio/measurement_panel.ui");
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, box);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, spacing_box);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, spacing_label);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, spacing_popover);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, spacing_spin);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, folder_check);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, apply_button);
  /* not kept, only named for gtk_widget_get_template_child (the tests) */
  gtk_widget_class_bind_template_child_full (widget_class, "spacing_button", FALSE, 0);
  gtk_widget_class_bind_template_child_full (widget_class, "this_image_check", FALSE, 0);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, grid);
  gtk_widget_class_bind_template_child (widget_class, HyMeasurementPanel, empty_label);
  gtk_widget_class_bind_template_callback (widget_class, on_spacing_popover_show);
  gtk_widget_class_bind_template_callback (widget_class, on_spacing_apply);

  /* (double mm, gboolean whole_folder): the user entered a pixel spacing
   * for the image shown or for every image of its folder */
  signals[SIGNAL_SPACING_ENTERED] =
    g_signal_new ("spacing-entered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_BOOLEAN);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "measurementpanel");
}

static void
hy_measurement_panel_init (HyMeasurementPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cells = g_ptr_array_new ();
  gtk_widget_set_visible (GTK_WIDGET (self->grid), FALSE);
  gtk_widget_set_visible (self->spacing_box, FALSE);
  gtk_popover_set_default_widget (self->spacing_popover, self->apply_button);
  /* Enter in the entry applies (GtkSpinButton has no activates-default in 4.8) */
  gtk_text_set_activates_default (GTK_TEXT (gtk_editable_get_delegate (GTK_EDITABLE (self->spacing_spin))),
                                  TRUE);
}

GtkWidget *
hy_measurement_panel_new (void)
{
  return g_object_new (HY_TYPE_MEASUREMENT_PANEL, NULL);
}
