#include "finetune_panel.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "annotation.h"
#include "finetune_job.h"

struct _HyFinetunePanel
{
  GtkBox parent_instance;

  HyModelStore *store;        /* owned ref, or NULL */
  GStrv corrected;            /* owned: the annotations with a corrected landmark */
  int corrected_at_last_round;
  int steps;                  /* 0: core's default */
  double lr;                  /* 0: core's default */
  GCancellable *cancellable;  /* owned while a round runs */

  /* template children, borrowed */
  GtkLabel *available_label;
  GtkButton *improve_button;
  GtkButton *stop_button;
  GtkCheckButton *auto_check;
  GtkSpinButton *auto_spin;
  GtkProgressBar *progress_bar;
  GtkLabel *result_label;
  GtkListBox *history_list;
};

G_DEFINE_FINAL_TYPE (HyFinetunePanel, hy_finetune_panel, GTK_TYPE_BOX)

enum { MODEL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static int
corrected_count (HyFinetunePanel *self)
{
  return self->corrected ? (int) g_strv_length (self->corrected) : 0;
}

static void
update_state (HyFinetunePanel *self)
{
  int n = corrected_count (self);
  int held = hy_finetune_held_out_count (n);
  g_autofree char *text = g_strdup_printf (ngettext ("%d corrected image, %d held out to check the new model",
                                                     "%d corrected images, %d held out to check the new model",
                                                     n),
                                           n, held);
  gtk_label_set_text (self->available_label, text);
  gboolean running = self->cancellable != NULL;
  gtk_widget_set_sensitive (GTK_WIDGET (self->improve_button), !running && self->store && n >= 2);
  gtk_widget_set_visible (GTK_WIDGET (self->stop_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), running);
}

static void restore_clicked (GtkButton *button, HyFinetunePanel *self);

static void
update_history (HyFinetunePanel *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list))))
    gtk_list_box_remove (self->history_list, child);
  if (!self->store)
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = hy_model_store_list (self->store, &error);
  g_autoptr(HyModelRecord) current = hy_model_store_current (self->store, NULL);
  if (!list)
    {
      gtk_label_set_text (self->result_label, error->message);
      return;
    }
  /* newest first */
  for (guint i = list->len; i-- > 0;)
    {
      HyModelRecord *r = g_ptr_array_index (list, i);
      gboolean is_current = current && g_strcmp0 (current->id, r->id) == 0;
      g_autofree char *what = NULL;
      if (r->shipped)
        what = g_strdup_printf (_("Shipped model %s"), r->id);
      else if (isfinite (r->after_mm))
        what = g_strdup_printf (ngettext ("%s: tuned on %u image, held-out MRE %.2f mm",
                                          "%s: tuned on %u images, held-out MRE %.2f mm",
                                          g_strv_length (r->samples)),
                                r->id, g_strv_length (r->samples), r->after_mm);
      else
        what = g_strdup_printf (_("Model %s"), r->id);
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      gtk_widget_set_margin_start (row, 6);
      gtk_widget_set_margin_end (row, 6);
      gtk_widget_set_margin_top (row, 4);
      gtk_widget_set_margin_bottom (row, 4);
      GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      gtk_widget_set_hexpand (labels, TRUE);
      GtkWidget *title = gtk_label_new (what);
      gtk_label_set_xalign (GTK_LABEL (title), 0);
      gtk_label_set_wrap (GTK_LABEL (title), TRUE);
      GtkWidget *when = gtk_label_new (r->created);
      gtk_label_set_xalign (GTK_LABEL (when), 0);
      gtk_widget_add_css_class (when, "dim-label");
      gtk_box_append (GTK_BOX (labels), title);
      gtk_box_append (GTK_BOX (labels), when);
      gtk_box_append (GTK_BOX (row), labels);
      if (is_current)
        {
          GtkWidget *mark = gtk_label_new (_("Current"));
          gtk_widget_add_css_class (mark, "accent");
          gtk_box_append (GTK_BOX (row), mark);
        }
      else
        {
          GtkWidget *restore = gtk_button_new_with_label (_("Restore"));
          gtk_widget_set_valign (restore, GTK_ALIGN_CENTER);
          gtk_widget_set_tooltip_text (restore, _("Make this model the current one"));
          g_object_set_data_full (G_OBJECT (restore), "model-id", g_strdup (r->id), g_free);
          g_signal_connect (restore, "clicked", G_CALLBACK (restore_clicked), self);
          gtk_box_append (GTK_BOX (row), restore);
        }
      gtk_list_box_append (self->history_list, row);
    }
}

static void
emit_current (HyFinetunePanel *self)
{
  g_autoptr(HyModelRecord) current = hy_model_store_current (self->store, NULL);
  if (current)
    g_signal_emit (self, signals[MODEL_CHANGED], 0, current->path);
}

static void
restore_clicked (GtkButton *button, HyFinetunePanel *self)
{
  const char *id = g_object_get_data (G_OBJECT (button), "model-id");
  g_autoptr(GError) error = NULL;
  if (!hy_model_store_set_current (self->store, id, &error))
    {
      gtk_label_set_text (self->result_label, error->message);
      return;
    }
  g_autofree char *text = g_strdup_printf (_("Restored model %s."), id);
  gtk_label_set_text (self->result_label, text);
  update_history (self);
  emit_current (self);
}

static void
on_progress (int step, int steps, double eta, gpointer user_data)
{
  HyFinetunePanel *self = user_data;
  if (!self->cancellable)
    return;
  gtk_progress_bar_set_fraction (self->progress_bar, (double) step / steps);
  g_autofree char *text = g_strdup_printf (_("Step %d of %d, %.0f s left"), step, steps, eta);
  gtk_progress_bar_set_text (self->progress_bar, text);
}

static void
round_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(HyFinetunePanel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(HyFinetuneReport) r = hy_finetune_job_run_finish (HY_MODEL_STORE (source), result, &error);
  g_clear_object (&self->cancellable);
  update_state (self);
  if (!r)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->result_label, _("Stopped; the current model is unchanged."));
      else
        gtk_label_set_text (self->result_label, error->message);
      return;
    }
  g_autofree char *text = NULL;
  if (r->kept)
    text = g_strdup_printf (_("Held-out MRE %.2f mm → %.2f mm: the new model %s is now current."),
                            r->before_mm, r->after_mm, r->new_id);
  else
    text = g_strdup_printf (_("Held-out MRE %.2f mm → %.2f mm: discarded, %s."),
                            r->before_mm, r->after_mm, r->reason);
  gtk_label_set_text (self->result_label, text);
  update_history (self);
  if (r->kept)
    emit_current (self);
}

gboolean
hy_finetune_panel_improve (HyFinetunePanel *self)
{
  g_return_val_if_fail (HY_IS_FINETUNE_PANEL (self), FALSE);
  if (self->cancellable || !self->store || corrected_count (self) < 2)
    return FALSE;
  self->cancellable = g_cancellable_new ();
  self->corrected_at_last_round = corrected_count (self);
  HyFinetuneSettings settings = { .steps = self->steps, .lr = self->lr, .threads = 1 };
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
  gtk_label_set_text (self->result_label, "");
  update_state (self);
  hy_finetune_job_run_async (self->store, (const char *const *) self->corrected, &settings,
                             self->cancellable, on_progress, self, round_done, g_object_ref (self));
  return TRUE;
}

static void
on_improve_clicked (HyFinetunePanel *self)
{
  hy_finetune_panel_improve (self);
}

static void
on_stop_clicked (HyFinetunePanel *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

gboolean
hy_finetune_panel_is_running (HyFinetunePanel *self)
{
  g_return_val_if_fail (HY_IS_FINETUNE_PANEL (self), FALSE);
  return self->cancellable != NULL;
}

void
hy_finetune_panel_set_steps (HyFinetunePanel *self, int steps)
{
  g_return_if_fail (HY_IS_FINETUNE_PANEL (self));
  self->steps = steps;
}

void
hy_finetune_panel_set_learning_rate (HyFinetunePanel *self, double lr)
{
  g_return_if_fail (HY_IS_FINETUNE_PANEL (self));
  g_return_if_fail (lr >= 0 && lr < 1);
  self->lr = lr;
}

void
hy_finetune_panel_set_store (HyFinetunePanel *self, HyModelStore *store)
{
  g_return_if_fail (HY_IS_FINETUNE_PANEL (self));
  g_set_object (&self->store, store);
  update_state (self);
  update_history (self);
}

static gboolean
is_corrected (const char *path)
{
  g_autoptr(HyAnnotation) a = hy_annotation_load (path, NULL, NULL);
  for (int k = 0; a && k < a->n_points; k++)
    if (a->points[k].state == HY_LANDMARK_MOVED || a->points[k].state == HY_LANDMARK_CONFIRMED)
      return TRUE;
  return FALSE;
}

void
hy_finetune_panel_set_annotations (HyFinetunePanel *self, const char *const *paths)
{
  g_return_if_fail (HY_IS_FINETUNE_PANEL (self));
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  for (const char *const *p = paths; p && *p; p++)
    if (is_corrected (*p))
      g_strv_builder_add (b, *p);
  g_strfreev (self->corrected);
  self->corrected = g_strv_builder_end (b);
  update_state (self);
  int fresh = corrected_count (self) - self->corrected_at_last_round;
  if (gtk_check_button_get_active (self->auto_check) &&
      fresh >= gtk_spin_button_get_value_as_int (self->auto_spin))
    hy_finetune_panel_improve (self);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
hy_finetune_panel_set_folder (HyFinetunePanel *self, const char *folder)
{
  g_return_if_fail (HY_IS_FINETUNE_PANEL (self) && folder);
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, HY_ANNOTATION_SUFFIX))
      g_ptr_array_add (paths, g_build_filename (folder, name, NULL));
  /* in name order: a round's samples come in this order, and with them
   * its shuffles, so the same corrections give the same model */
  g_ptr_array_sort (paths, compare_paths);
  g_ptr_array_add (paths, NULL);
  hy_finetune_panel_set_annotations (self, (const char *const *) paths->pdata);
}

static void
hy_finetune_panel_dispose (GObject *object)
{
  HyFinetunePanel *self = HY_FINETUNE_PANEL (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), HY_TYPE_FINETUNE_PANEL);
  G_OBJECT_CLASS (hy_finetune_panel_parent_class)->dispose (object);
}

static void
hy_finetune_panel_finalize (GObject *object)
{
  HyFinetunePanel *self = HY_FINETUNE_PANEL (object);
  g_strfreev (self->corrected);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (hy_finetune_panel_parent_class)->finalize (object);
}

static void
hy_finetune_panel_class_init (HyFinetunePanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = hy_finetune_panel_dispose;
  object_class->finalize = hy_finetune_panel_finalize;

  /* the path of the model that is now current */
  signals[MODEL_CHANGED] =
    g_signal_new ("model-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hyattstudio/HyattStudio/finetune_panel.ui");
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, available_label);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, improve_button);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, stop_button);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, auto_check);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, auto_spin);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, result_label);
  gtk_widget_class_bind_template_child (widget_class, HyFinetunePanel, history_list);
  gtk_widget_class_bind_template_callback (widget_class, on_improve_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_clicked);
}

static void
hy_finetune_panel_init (HyFinetunePanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_state (self);
}

GtkWidget *
hy_finetune_panel_new (void)
{
  return g_object_new (HY_TYPE_FINETUNE_PANEL, NULL);
}
