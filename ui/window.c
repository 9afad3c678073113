/* HyWindow: loading an image and its annotation off the main thread into a
 * HyDocument, predicting in a HyPredictJob, keeping the canvas, the
 * landmark list, the queue and the title in step with the document, the
 * error banner, actions, and settings (window size, last folder, overlay
 * opacity, model). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "finetune_panel.h"
#include "folder_spacing.h"
#include "image_file.h"
#include "measurement_panel.h"
#include "model.h"
#include "predict_job.h"
#include "queue_sidebar.h"
#include "window.h"

#define FALLBACK_SET "isbi2015"

struct _HyWindow
{
  GtkApplicationWindow parent_instance;

  /* Template widgets */
  GtkLabel         *title_label;
  GtkLabel         *subtitle_label;
  GtkSpinner       *spinner;
  GtkStack         *stack;
  HyLandmarkCanvas *canvas;
  GtkWidget        *queue_box;
  HyQueueSidebar   *queue_sidebar;
  GtkWidget        *side_panel;
  GtkStack         *side_stack;
  HyLandmarkList   *landmark_list;
  GtkAdjustment    *level_adjustment;
  GtkAdjustment    *window_adjustment;
  GtkAdjustment    *opacity_adjustment;

  /* Side pages, borrowed (the side stack owns them) */
  HyMeasurementPanel *measurement_panel;
  HyFinetunePanel    *finetune_panel;
  GtkRevealer      *error_revealer;
  GtkImage         *error_icon;
  GtkLabel         *error_label;

  /* Owned references */
  GSettings            *settings;     /* NULL when the schema is not installed */
  GCancellable         *cancellable;  /* of the load in flight, or NULL */
  GCancellable         *predicting;   /* of the prediction in flight, or NULL */
  GFile                *file;         /* of the image shown, or NULL */
  HyDocument           *document;     /* of the image shown, or NULL */
  HyLandmarkSet        *set;          /* the model's, once an image was opened */
  HyReviewQueue        *queue;
  HyPredictJob         *job;          /* NULL until the first prediction */
  GtkFileChooserNative *chooser;      /* a folder or model dialog shown, or NULL */
  HyModelStore         *store;        /* fine-tuned models, or NULL without a shipped one */
  char                 *chosen_model; /* without settings: the user's model, or NULL */

  gboolean all_heatmaps;
  gboolean close_anyway;              /* saving failed once: the next close discards */
};

G_DEFINE_FINAL_TYPE (HyWindow, hy_window, GTK_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_ALL_HEATMAPS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void start_prediction (HyWindow *self);
static int  next_to_check    (HyWindow *self,
                              int       after);

/* ---- banner -------------------------------------------------------------- */

static void
show_banner (HyWindow   *self,
             const char *icon,
             const char *text)
{
  gtk_image_set_from_icon_name (self->error_icon, icon);
  gtk_label_set_text (self->error_label, text);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
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
  show_banner (self, "dialog-error-symbolic", text);
}

static void
on_error_dismissed (HyWindow *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

/* ---- keeping the views in step with the document -------------------------- */

static void
update_title (HyWindow *self)
{
  g_autofree char *name = NULL, *display = NULL, *title = NULL;

  if (self->document == NULL)
    return;
  name = g_path_get_basename (hy_document_get_image_path (self->document));
  display = g_filename_display_name (name);
  /* Translators: the title of a window with unsaved changes */
  title = hy_document_get_dirty (self->document) ? g_strdup_printf (_("*%s"), display)
                                                 : g_strdup (display);
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_label_set_text (self->title_label, title);
}

static void
update_actions (HyWindow *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  gboolean doc = self->document != NULL;
  int position = doc ? hy_review_queue_find (self->queue, hy_document_get_image_path (self->document)) : -1;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->queue));

  gtk_widget_action_set_enabled (w, "win.undo", doc && hy_document_can_undo (self->document));
  gtk_widget_action_set_enabled (w, "win.redo", doc && hy_document_can_redo (self->document));
  gtk_widget_action_set_enabled (w, "win.accept-all", doc);
  gtk_widget_action_set_enabled (w, "win.predict", doc && self->predicting == NULL);
  gtk_widget_action_set_enabled (w, "win.previous-image", position > 0);
  gtk_widget_action_set_enabled (w, "win.next-image", position >= 0 && (guint) position + 1 < n);
  gtk_widget_action_set_enabled (w, "win.next-to-review",
                                 hy_review_queue_next_to_review (self->queue, doc ? hy_document_get_image_path (self->document) : NULL) != NULL);
}

static void
sync_canvas (HyWindow *self)
{
  const HyAnnotation *a = hy_document_get_annotation (self->document);
  HyLandmarkSet *set = hy_document_get_landmark_set (self->document);
  g_autofree HyCanvasLandmark *marks = g_new0 (HyCanvasLandmark, a->n_points);

  for (int i = 0; i < a->n_points; i++)
    {
      const HyAnnotationPoint *p = &a->points[i];

      marks[i] = (HyCanvasLandmark) {
        .x = p->x, .y = p->y, .state = p->state,
        .predicted_x = p->predicted_x, .predicted_y = p->predicted_y,
        .label = hy_landmark_set_get_abbreviation (set, i),
      };
    }
  hy_landmark_canvas_set_landmarks (self->canvas, marks, (guint) a->n_points);
  hy_landmark_canvas_set_spacing (self->canvas, hy_document_get_spacing (self->document));
}

/* The selected landmark's heatmap, or the maximum over all of them. */
static void
update_heatmap (HyWindow *self)
{
  int selected = hy_landmark_canvas_get_selected (self->canvas);
  int n, w = 0, h = 0;
  double affine[6];
  const float *map;

  if (self->document == NULL)
    {
      hy_landmark_canvas_set_heatmap (self->canvas, NULL, 0, 0, NULL);
      return;
    }
  if (!self->all_heatmaps)
    {
      map = hy_document_get_heatmap (self->document, selected, &w, &h, affine);
      hy_landmark_canvas_set_heatmap (self->canvas, map, w, h, affine);
      return;
    }
  n = hy_document_get_n_landmarks (self->document);
  map = hy_document_get_heatmap (self->document, 0, &w, &h, affine);
  if (map == NULL)
    {
      hy_landmark_canvas_set_heatmap (self->canvas, NULL, 0, 0, NULL);
      return;
    }
  {
    g_autofree float *max = g_memdup2 (map, sizeof (float) * (gsize) w * h);

    for (int k = 1; k < n; k++)
      {
        map = hy_document_get_heatmap (self->document, k, &w, &h, affine);
        for (gsize i = 0; i < (gsize) w * h; i++)
          max[i] = MAX (max[i], map[i]);
      }
    hy_landmark_canvas_set_heatmap (self->canvas, max, w, h, affine);
  }
}

static void
on_document_changed (HyDocument *document,
                     int         index,
                     HyWindow   *self)
{
  sync_canvas (self);
  hy_measurement_panel_set_points (self->measurement_panel, hy_document_get_annotation (document),
                                   hy_document_get_landmark_set (document));
  hy_review_queue_update (self->queue, hy_document_get_image_path (document),
                          hy_document_get_mean_confidence (document),
                          hy_document_is_done (document));
  update_actions (self);
}

static void
on_save_failed (HyDocument *document,
                GError     *error,
                HyWindow   *self)
{
  /* Translators: why the corrections could not be saved */
  g_autofree char *text = g_strdup_printf (_("Could not save the corrections: %s"), error->message);

  show_banner (self, "dialog-error-symbolic", text);
}

/* The corrected images the fine-tuning panel counts: those of the folder
 * shown, re-read after every save (a round may then start by itself). */
static void
update_finetune_folder (HyWindow *self)
{
  g_autofree char *folder = NULL;

  if (self->document == NULL || hy_document_get_dirty (self->document))
    return;
  folder = g_path_get_dirname (hy_document_get_annotation_path (self->document));
  hy_finetune_panel_set_folder (self->finetune_panel, folder);
}

static void
set_document (HyWindow   *self,
              GFile      *file,
              HyDocument *document)
{
  const hy_image *image = hy_document_get_image (document);
  g_autofree char *details = NULL;

  if (self->predicting != NULL)
    g_cancellable_cancel (self->predicting);
  g_clear_object (&self->predicting);
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  if (self->document != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->document, self);
      g_clear_object (&self->document);
    }
  self->document = g_object_ref (document);
  self->close_anyway = FALSE;
  g_set_object (&self->file, file);
  g_signal_connect (document, "changed", G_CALLBACK (on_document_changed), self);
  g_signal_connect_swapped (document, "notify::dirty", G_CALLBACK (update_title), self);
  g_signal_connect_swapped (document, "notify::dirty", G_CALLBACK (update_finetune_folder), self);
  g_signal_connect_swapped (document, "notify::can-undo", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (document, "notify::can-redo", G_CALLBACK (update_actions), self);
  g_signal_connect (document, "save-failed", G_CALLBACK (on_save_failed), self);

  /* Translators: image width × height in pixels, then bits per sample */
  details = g_strdup_printf (_("%d × %d pixels, %d-bit"),
                             image->width, image->height, image->bit_depth);
  hy_landmark_canvas_set_landmarks (self->canvas, NULL, 0);
  hy_landmark_canvas_set_grey (self->canvas, HY_GREY_FLOAT, image->pixels,
                               image->width, image->height, sizeof (float) * (gsize) image->width);
  sync_canvas (self);
  /* ready for Enter: the first landmark still to check */
  hy_landmark_canvas_set_selected (self->canvas, next_to_check (self, -1));
  hy_landmark_list_set_document (self->landmark_list, document);
  hy_landmark_list_set_selected (self->landmark_list, hy_landmark_canvas_get_selected (self->canvas));
  update_heatmap (self);
  hy_queue_sidebar_set_current (self->queue_sidebar, hy_document_get_image_path (document));
  hy_measurement_panel_set_points (self->measurement_panel, hy_document_get_annotation (document),
                                   hy_document_get_landmark_set (document));
  update_finetune_folder (self);

  gtk_widget_grab_focus (GTK_WIDGET (self->canvas));
  gtk_stack_set_visible_child_name (self->stack, "image");
  gtk_widget_set_visible (self->side_panel, TRUE);
  gtk_label_set_text (self->subtitle_label, details);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), TRUE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->title_label), g_file_peek_path (file));
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
  update_title (self);
  update_actions (self);

  if (hy_document_needs_prediction (document))
    start_prediction (self);
}

/* ---- prediction ----------------------------------------------------------- */

static char *
model_path (HyWindow *self)
{
  g_autofree char *chosen = self->settings != NULL
    ? g_settings_get_string (self->settings, "default-model")
    : g_strdup (self->chosen_model);

  if (chosen != NULL && *chosen != '\0')
    return g_steal_pointer (&chosen);
  if (self->store != NULL)
    {
      g_autoptr(HyModelRecord) current = hy_model_store_current (self->store, NULL);

      if (current != NULL)
        return g_strdup (current->path);
    }
  return hy_predict_job_find_default_model ();
}

typedef struct
{
  HyWindow   *window;   /* owned reference */
  HyDocument *document; /* owned reference: the one predicted */
} Prediction;

static void
prediction_free (Prediction *p)
{
  g_object_unref (p->window);
  g_object_unref (p->document);
  g_free (p);
}

static void
on_predicted (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Prediction *p = user_data;
  HyWindow *self = p->window;
  g_autoptr(GError) error = NULL;
  HyPredictResult *r = hy_predict_job_run_finish (HY_PREDICT_JOB (source_object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || p->document != self->document)
    {
      hy_predict_result_free (r);
      prediction_free (p);
      return;
    }
  g_clear_object (&self->predicting);
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  if (r == NULL || !hy_document_apply_prediction (self->document, r, &error))
    {
      /* Translators: why landmarks could not be predicted */
      g_autofree char *text = g_strdup_printf (_("Could not predict the landmarks: %s"), error->message);

      show_banner (self, "dialog-error-symbolic", text);
    }
  else
    {
      if (hy_landmark_canvas_get_selected (self->canvas) < 0)
        hy_landmark_canvas_set_selected (self->canvas, next_to_check (self, -1));
      update_heatmap (self);
    }
  update_actions (self);
  prediction_free (p);
}

static void
start_prediction (HyWindow *self)
{
  g_autofree char *path = model_path (self);
  Prediction *p;

  if (path == NULL)
    {
      show_banner (self, "dialog-error-symbolic",
                   _("Could not predict the landmarks: no model found; choose one in the main menu"));
      return;
    }
  if (self->job == NULL || strcmp (hy_predict_job_get_model_path (self->job), path) != 0)
    {
      g_clear_object (&self->job);
      self->job = hy_predict_job_new (path, (int) MIN (g_get_num_processors (), 8));
    }
  if (self->predicting != NULL)
    g_cancellable_cancel (self->predicting);
  g_clear_object (&self->predicting);
  self->predicting = g_cancellable_new ();
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  p = g_new0 (Prediction, 1);
  p->window = g_object_ref (self);
  p->document = g_object_ref (self->document);
  hy_predict_job_run_async (self->job, hy_document_get_image (self->document),
                            self->predicting, on_predicted, p);
  update_actions (self);
}

/* ---- loading -------------------------------------------------------------- */

typedef struct
{
  GFile         *file;       /* owned */
  char          *model_path; /* owned, or NULL */
  HyLandmarkSet *set;        /* owned reference, or NULL: the thread finds it */
} LoadData;

typedef struct
{
  HyDocument    *document;   /* owned */
  HyLandmarkSet *set;        /* owned reference */
  char          *notice;     /* owned, or NULL */
  HyImageMeta    meta;       /* what the file says besides pixels (DICOM) */
  double         folder_spacing; /* entered for the image's folder, 0 if none */
  GError        *folder_error;   /* owned: why the folder's settings could not be read, or NULL */
} Loaded;

static void
load_data_free (LoadData *d)
{
  g_object_unref (d->file);
  g_free (d->model_path);
  g_clear_object (&d->set);
  g_free (d);
}

static void
loaded_free (Loaded *l)
{
  g_clear_object (&l->document);
  g_clear_object (&l->set);
  g_free (l->notice);
  g_clear_error (&l->folder_error);
  g_free (l);
}

/* The landmark set of the model, so that predictions fit the document; the
 * ISBI 2015 set when there is no usable model yet. */
static HyLandmarkSet *
set_for_model (const char  *model_path,
               GError     **error)
{
  g_autofree hy_model_info *info = g_new0 (hy_model_info, 1);
  hy_net_config cfg;
  hy_error err;

  hy_error_clear (&err);
  if (model_path != NULL && hy_model_inspect (&cfg, info, model_path, &err) == HY_OK)
    return hy_landmark_set_new_named (info->landmark_set, error);
  return hy_landmark_set_new_named (FALLBACK_SET, error);
}

/* Runs in a worker thread: libhyatt, app/ and the task, no widgets. */
static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *d = task_data;
  hy_image *image = g_new0 (hy_image, 1);
  Loaded *l = g_new0 (Loaded, 1);
  GError *error = NULL;

  if (!hy_image_file_load (g_file_peek_path (d->file), image, &l->meta, &error))
    {
      g_free (image);
      loaded_free (l);
      g_task_return_error (task, error);
      return;
    }
  l->set = d->set != NULL ? g_object_ref (d->set) : set_for_model (d->model_path, &error);
  if (l->set != NULL)
    l->document = hy_document_new (g_file_peek_path (d->file), image, l->set, &l->notice, &error);
  else
    {
      hy_image_free (image);
      g_free (image);
    }
  if (l->document == NULL)
    {
      loaded_free (l);
      g_task_return_error (task, error);
      return;
    }
  {
    g_autofree char *folder = g_path_get_dirname (g_file_peek_path (d->file));

    hy_folder_spacing_load (folder, &l->folder_spacing, &l->folder_error);
  }
  g_task_return_pointer (task, l, (GDestroyNotify) loaded_free);
}

static void
on_load_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  HyWindow *self = HY_WINDOW (source_object);
  LoadData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  Loaded *l = g_task_propagate_pointer (G_TASK (result), &error);

  /* A newer load replaced this one (and owns self->cancellable now), or the
   * window is going away. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->cancellable);
  if (l == NULL)
    {
      show_error (self, d->file, error->message);
      return;
    }
  /* nothing lost: the image shown stays if its corrections cannot be saved
   * ("save-failed" has put the reason in the banner) */
  if (self->document != NULL && hy_document_get_dirty (self->document) &&
      !hy_document_save (self->document, NULL))
    {
      loaded_free (l);
      return;
    }
  g_set_object (&self->set, l->set);
  /* what the file and its folder say about the spacing; the annotation's
   * own entry, if any, wins (spacing.h) */
  hy_document_adopt_spacing (l->document, l->meta.spacing_mm, l->meta.spacing_source);
  hy_document_adopt_spacing (l->document, l->folder_spacing, HY_SPACING_FOLDER);
  set_document (self, d->file, l->document);
  /* a DICOM file's own window/level, else the whole range */
  g_object_set (self->canvas,
                "window-centre", l->meta.window_width > 0 ? l->meta.window_center : 0.5,
                "window-width", l->meta.window_width > 0 ? l->meta.window_width : 1.0,
                NULL);
  if (l->notice != NULL)
    show_banner (self, "dialog-warning-symbolic", l->notice);
  else if (l->folder_error != NULL)
    {
      /* Translators: why the folder's hyatt-folder.json could not be read */
      g_autofree char *text = g_strdup_printf (_("The folder’s pixel spacing is not used: %s"),
                                               l->folder_error->message);

      show_banner (self, "dialog-warning-symbolic", text);
    }
  loaded_free (l);
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
  LoadData *d;

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

  d = g_new0 (LoadData, 1);
  d->file = g_object_ref (file);
  d->model_path = model_path (self);
  d->set = self->set != NULL ? g_object_ref (self->set) : NULL;
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, on_load_done, NULL);
  g_task_set_name (task, "hy_window_open");
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
}

void
hy_window_open_folder (HyWindow *self,
                       GFile    *folder)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HyReviewItem) first = NULL;

  g_return_if_fail (HY_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (folder));

  if (g_file_peek_path (folder) == NULL ||
      !hy_review_queue_set_folder (self->queue, g_file_peek_path (folder), &error))
    {
      show_error (self, folder, error != NULL ? error->message
                                              : _("only folders on this computer can be opened"));
      return;
    }
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-folder", g_file_peek_path (folder));
  gtk_widget_set_visible (self->queue_box, TRUE);
  /* the first to review, else (all done) the first of all */
  first = hy_review_queue_next_to_review (self->queue, NULL);
  if (first != NULL)
    g_object_ref (first);
  else
    first = g_list_model_get_item (G_LIST_MODEL (self->queue), 0);
  if (first != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (hy_review_item_get_path (first));

      hy_window_open (self, file);
    }
  else
    show_error (self, folder, _("the folder holds no PNG or JPEG images"));
  update_actions (self);
}

static void
on_queue_image_activated (HyWindow   *self,
                          const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  hy_window_open (self, file);
}

gboolean
hy_window_is_empty (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), FALSE);

  return self->file == NULL && self->cancellable == NULL;
}

gboolean
hy_window_is_predicting (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), FALSE);

  return self->predicting != NULL;
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

HyLandmarkList *
hy_window_get_landmark_list (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->landmark_list;
}

HyFinetunePanel *
hy_window_get_finetune_panel (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->finetune_panel;
}

HyDocument *
hy_window_get_document (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->document;
}

HyMeasurementPanel *
hy_window_get_measurement_panel (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->measurement_panel;
}

HyReviewQueue *
hy_window_get_queue (HyWindow *self)
{
  g_return_val_if_fail (HY_IS_WINDOW (self), NULL);

  return self->queue;
}

void
hy_window_add_side_page (HyWindow   *self,
                         GtkWidget  *page,
                         const char *name,
                         const char *title)
{
  g_return_if_fail (HY_IS_WINDOW (self));
  g_return_if_fail (GTK_IS_WIDGET (page));
  g_return_if_fail (name != NULL && title != NULL);

  GtkWidget *scroller = gtk_scrolled_window_new ();

  /* scrolled and not expanding (whatever its labels do), so that a page
   * never takes width from the canvas */
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), page);
  gtk_widget_set_hexpand (scroller, FALSE);
  gtk_stack_add_titled (self->side_stack, scroller, name, title);
}

/* ---- the canvas and the list ---------------------------------------------- */

static void
on_point_moved (HyWindow *self,
                guint     index,
                double    x,
                double    y,
                gboolean  finished)
{
  if (self->document != NULL)
    hy_document_move (self->document, (int) index, x, y, finished);
}

static void
on_selection_changed (HyWindow *self,
                      int       index)
{
  hy_landmark_list_set_selected (self->landmark_list, index);
  update_heatmap (self);
}

/* The first landmark after `after` (wrapping round; -1: from the first)
 * still to check: predicted or moved, with a position. -1 if none. */
static int
next_to_check (HyWindow *self,
               int       after)
{
  const HyAnnotation *a = hy_document_get_annotation (self->document);

  for (int step = 1; step <= a->n_points; step++)
    {
      int i = (after + step + a->n_points) % a->n_points;
      const HyAnnotationPoint *p = &a->points[i];

      if (i != after && !isnan (p->x) &&
          (p->state == HY_LANDMARK_PREDICTED || p->state == HY_LANDMARK_MOVED))
        return i;
    }
  return -1;
}

/* Confirms, then goes on to the next landmark still to check. */
static void
on_confirm (HyWindow *self,
            guint     index)
{
  int next;

  if (self->document == NULL)
    return;
  hy_document_confirm (self->document, (int) index);
  next = next_to_check (self, (int) index);
  if (next >= 0)
    hy_landmark_canvas_set_selected (self->canvas, next);
}

static void
on_mark_absent (HyWindow *self,
                guint     index)
{
  if (self->document != NULL)
    hy_document_mark_absent (self->document, (int) index);
}

static void
on_landmark_activated (HyWindow *self,
                       int       index)
{
  const HyAnnotationPoint *p;

  hy_landmark_canvas_set_selected (self->canvas, index);
  p = &hy_document_get_annotation (self->document)->points[index];
  if (!isnan (p->x))
    hy_landmark_canvas_centre_on (self->canvas, p->x, p->y);
  gtk_widget_grab_focus (GTK_WIDGET (self->canvas));
}

/* ---- actions -------------------------------------------------------------- */

static void
undo_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  HyWindow *self = HY_WINDOW (widget);

  if (self->document != NULL)
    hy_document_undo (self->document);
}

static void
redo_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  HyWindow *self = HY_WINDOW (widget);

  if (self->document != NULL)
    hy_document_redo (self->document);
}

static void
accept_all_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  HyWindow *self = HY_WINDOW (widget);

  if (self->document != NULL)
    hy_document_accept_all (self->document);
}

/* For the image: an undoable step of its document. For the folder: saved in
 * the folder first (for the images opened later), then this image takes it
 * unless it has its own; a folder that cannot be written is reported and
 * the image still gets the spacing, so that nothing entered is lost. Undo
 * takes back this image's step only: the folder's entry is changed by
 * entering another. */
static void
on_spacing_entered (HyWindow *self,
                    double    mm,
                    gboolean  whole_folder)
{
  g_autofree char *folder = NULL;
  g_autoptr(GError) error = NULL;
  const HyAnnotation *a;

  if (self->document == NULL)
    return;
  if (!whole_folder)
    {
      hy_document_set_spacing (self->document, mm, HY_SPACING_USER);
      return;
    }
  folder = g_path_get_dirname (hy_document_get_image_path (self->document));
  a = hy_document_get_annotation (self->document);
  if (!hy_folder_spacing_save (folder, mm, &error))
    {
      /* Translators: why the spacing could not be saved for the whole folder */
      g_autofree char *text = g_strdup_printf (_("Could not save the pixel spacing for the folder; "
                                                 "it is set for this image only: %s"),
                                               error->message);

      hy_document_set_spacing (self->document, mm, HY_SPACING_USER);
      show_banner (self, "dialog-error-symbolic", text);
      return;
    }
  if (a->spacing_mm > 0 && !hy_spacing_source_overrides (HY_SPACING_FOLDER, a->spacing_source))
    {
      /* Translators: the folder's spacing was saved; the image shown has its own, e.g. "from the DICOM header" */
      g_autofree char *text = g_strdup_printf (_("The pixel spacing is set for the folder; this image keeps its own, %s."),
                                               hy_spacing_source_describe (a->spacing_source));

      show_banner (self, "dialog-information-symbolic", text);
      return;
    }
  hy_document_set_spacing (self->document, mm, HY_SPACING_FOLDER);
}

/* A round was kept or a model restored: it is the model from now on, and
 * the image shown is predicted again with it (its corrections stay). */
static void
on_model_changed (HyWindow   *self,
                  const char *path)
{
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "default-model", "");
  g_clear_pointer (&self->chosen_model, g_free);
  if (self->document != NULL)
    start_prediction (self);
}

static void
predict_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  HyWindow *self = HY_WINDOW (widget);

  if (self->document != NULL)
    start_prediction (self);
}

static void
open_queue_item (HyWindow     *self,
                 HyReviewItem *item)
{
  g_autoptr(GFile) file = NULL;

  if (item == NULL)
    return;
  file = g_file_new_for_path (hy_review_item_get_path (item));
  hy_window_open (self, file);
}

static void
step_image (HyWindow *self,
            int       step)
{
  int position;
  g_autoptr(HyReviewItem) item = NULL;

  if (self->document == NULL)
    return;
  position = hy_review_queue_find (self->queue, hy_document_get_image_path (self->document));
  if (position < 0 || position + step < 0)
    return;
  item = g_list_model_get_item (G_LIST_MODEL (self->queue), (guint) (position + step));
  open_queue_item (self, item);
}

static void
next_image_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  step_image (HY_WINDOW (widget), 1);
}

static void
previous_image_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  step_image (HY_WINDOW (widget), -1);
}

static void
next_to_review_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  HyWindow *self = HY_WINDOW (widget);

  open_queue_item (self, hy_review_queue_next_to_review (self->queue, self->document
                                                         ? hy_document_get_image_path (self->document)
                                                         : NULL));
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     gpointer         user_data)
{
  HyWindow *self = HY_WINDOW (user_data);
  GtkFileChooserAction action = gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog));
  g_autoptr(GFile) file = response == GTK_RESPONSE_ACCEPT
    ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog)) : NULL;

  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;
  if (action == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER)
    hy_window_open_folder (self, file);
  else if (g_file_peek_path (file) != NULL)
    {
      if (self->settings != NULL)
        g_settings_set_string (self->settings, "default-model", g_file_peek_path (file));
      else
        {
          g_free (self->chosen_model);
          self->chosen_model = g_file_get_path (file);
        }
      if (self->document != NULL)
        start_prediction (self);
    }
}

static void
show_chooser (HyWindow             *self,
              const char           *title,
              GtkFileChooserAction  action,
              GtkFileFilter        *filter)
{
  g_autofree char *last = self->settings != NULL
    ? g_settings_get_string (self->settings, "last-folder") : NULL;

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action,
                                               _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  if (filter != NULL)
    gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  if (last != NULL && *last != '\0')
    {
      g_autoptr(GFile) folder = g_file_new_for_path (last);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
    }
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
open_folder_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  show_chooser (HY_WINDOW (widget), _("Open a Folder to Review"),
                GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, NULL);
}

static void
choose_model_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  g_autoptr(GtkFileFilter) models = gtk_file_filter_new ();

  gtk_file_filter_set_name (models, _("Hyatt models"));
  gtk_file_filter_add_pattern (models, "*.hyatt");
  show_chooser (HY_WINDOW (widget), _("Choose a Model"), GTK_FILE_CHOOSER_ACTION_OPEN, models);
}

static void
close_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  gtk_window_close (GTK_WINDOW (widget));
}

/* ---- settings and lifetime ------------------------------------------------ */

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
  g_settings_bind (self->settings, "overlay-opacity", self->opacity_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
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

static void
on_opacity_changed (HyWindow *self)
{
  hy_landmark_canvas_set_heatmap_opacity (self->canvas,
                                          gtk_adjustment_get_value (self->opacity_adjustment));
}

static gboolean
hy_window_close_request (GtkWindow *window)
{
  HyWindow *self = HY_WINDOW (window);
  g_autoptr(GError) error = NULL;

  /* Nothing lost: the corrections are saved now; if that fails the window
   * stays (once) with the reason in the banner. */
  if (self->document != NULL && hy_document_get_dirty (self->document) &&
      !hy_document_save (self->document, &error) && !self->close_anyway)
    {
      self->close_anyway = TRUE;
      return TRUE;
    }
  save_window_state (self);

  return GTK_WINDOW_CLASS (hy_window_parent_class)->close_request (window);
}

static void
hy_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  HyWindow *self = HY_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ALL_HEATMAPS:
      g_value_set_boolean (value, self->all_heatmaps);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hy_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  HyWindow *self = HY_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ALL_HEATMAPS:
      if (self->all_heatmaps == g_value_get_boolean (value))
        return;
      self->all_heatmaps = g_value_get_boolean (value);
      update_heatmap (self);
      g_object_notify_by_pspec (object, pspec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hy_window_dispose (GObject *object)
{
  HyWindow *self = HY_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->predicting != NULL)
    g_cancellable_cancel (self->predicting);
  g_clear_object (&self->predicting);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_object (&self->file);
  g_clear_object (&self->set);
  g_clear_object (&self->queue);
  g_clear_object (&self->job);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->chosen_model, g_free);
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
  object_class->get_property = hy_window_get_property;
  object_class->set_property = hy_window_set_property;
  window_class->close_request = hy_window_close_request;

  properties[PROP_ALL_HEATMAPS] =
    g_param_spec_boolean ("all-heatmaps", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (HY_TYPE_LANDMARK_CANVAS);
  g_type_ensure (HY_TYPE_LANDMARK_LIST);
  g_type_ensure (HY_TYPE_QUEUE_SIDEBAR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hyattstudio/HyattStudio/window.ui");
  gtk_widget_class_bind_template_child (widget_class, HyWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, canvas);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, queue_box);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, queue_sidebar);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, side_panel);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, side_stack);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, landmark_list);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, level_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, window_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, error_icon);
  gtk_widget_class_bind_template_child (widget_class, HyWindow, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_error_dismissed);
  gtk_widget_class_bind_template_callback (widget_class, on_queue_image_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_point_moved);
  gtk_widget_class_bind_template_callback (widget_class, on_selection_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_confirm);
  gtk_widget_class_bind_template_callback (widget_class, on_mark_absent);
  gtk_widget_class_bind_template_callback (widget_class, on_landmark_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_opacity_changed);

  gtk_widget_class_install_action (widget_class, "win.close", NULL, close_activated);
  gtk_widget_class_install_action (widget_class, "win.open-folder", NULL, open_folder_activated);
  gtk_widget_class_install_action (widget_class, "win.choose-model", NULL, choose_model_activated);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_activated);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, redo_activated);
  gtk_widget_class_install_action (widget_class, "win.accept-all", NULL, accept_all_activated);
  gtk_widget_class_install_action (widget_class, "win.predict", NULL, predict_activated);
  gtk_widget_class_install_action (widget_class, "win.next-image", NULL, next_image_activated);
  gtk_widget_class_install_action (widget_class, "win.previous-image", NULL, previous_image_activated);
  gtk_widget_class_install_action (widget_class, "win.next-to-review", NULL, next_to_review_activated);
  gtk_widget_class_install_property_action (widget_class, "win.all-heatmaps", "all-heatmaps");
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
  GFile *file;

  if (files == NULL)
    return FALSE;
  file = G_FILE (files->data);
  if (g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
    hy_window_open_folder (self, file);
  else
    hy_window_open (self, file);
  return TRUE;
}

static void
add_side_pages (HyWindow *self)
{
  g_autofree char *shipped = hy_predict_job_find_default_model ();
  g_autofree char *store_dir = hy_model_store_default_dir ();
  g_autoptr(GError) error = NULL;

  self->measurement_panel = HY_MEASUREMENT_PANEL (hy_measurement_panel_new ());
  /* Translators: short, a tab beside "Landmarks" and "Tuning" */
  hy_window_add_side_page (self, GTK_WIDGET (self->measurement_panel), "measurements",
                           _("Measures"));
  g_signal_connect_swapped (self->measurement_panel, "spacing-entered",
                            G_CALLBACK (on_spacing_entered), self);
  self->finetune_panel = HY_FINETUNE_PANEL (hy_finetune_panel_new ());
  /* Translators: short, a tab: fine-tuning the model */
  hy_window_add_side_page (self, GTK_WIDGET (self->finetune_panel), "finetune", _("Tuning"));
  g_signal_connect_swapped (self->finetune_panel, "model-changed", G_CALLBACK (on_model_changed), self);
  /* the store grows from the shipped model; without one the panel stays empty */
  if (shipped != NULL)
    self->store = hy_model_store_new (store_dir, shipped, &error);
  if (self->store != NULL)
    hy_finetune_panel_set_store (self->finetune_panel, self->store);
  else if (error != NULL)
    g_warning ("%s", error->message);
}

static void
hy_window_init (HyWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  gtk_widget_init_template (GTK_WIDGET (self));
  self->queue = hy_review_queue_new (NULL);
  hy_queue_sidebar_set_queue (self->queue_sidebar, self->queue);
  /* the sliders and the right-button drag set the same window/level */
  g_object_bind_property (self->canvas, "window-centre", self->level_adjustment, "value",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->canvas, "window-width", self->window_adjustment, "value",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);

  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  add_side_pages (self);
  restore_window_state (self);
  on_opacity_changed (self);
  update_actions (self);
}
