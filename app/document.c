#include "document.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* What a command changes of one landmark. */
typedef struct values {
  double x, y;
  HyLandmarkState state;
  double predicted_x, predicted_y, confidence;
} values;

typedef struct change {
  int index;
  values before, after;
} change;

typedef struct command {
  const char *label;  /* static, translated on use */
  GArray *changes;    /* owned, of change */
  char *model_before; /* owned: the annotation's model before and after */
  char *model_after;  /* owned */
  gboolean spacing;   /* whether it changes the spacing, from before to after */
  double spacing_before, spacing_after;
  HySpacingSource source_before, source_after;
  gboolean open;      /* a drag still going on: its moves merge here */
} command;

struct _HyDocument {
  GObject parent_instance;

  char *image_path;       /* owned */
  char *annotation_path;  /* owned */
  hy_image *image;        /* owned */
  HyLandmarkSet *set;     /* owned reference */
  HyAnnotation *annotation; /* owned */
  HyPredictResult *prediction; /* owned: the last one applied, or NULL */
  GPtrArray *undo;        /* owned, of command: done steps, oldest first */
  GPtrArray *redo;        /* owned, of command: undone steps, latest undone last */
  gboolean dirty;
  guint autosave_ms;
  guint autosave_id;      /* pending autosave source, or 0 */
};

G_DEFINE_FINAL_TYPE(HyDocument, hy_document, G_TYPE_OBJECT)

enum { PROP_0, PROP_DIRTY, PROP_CAN_UNDO, PROP_CAN_REDO, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_CHANGED, SIGNAL_SAVE_FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void command_free(command *c) {
  g_array_unref(c->changes);
  g_free(c->model_before);
  g_free(c->model_after);
  g_free(c);
}

static command *command_new(const char *label) {
  command *c = g_new0(command, 1);
  c->label = label;
  c->changes = g_array_new(FALSE, FALSE, sizeof(change));
  return c;
}

static values values_of(const HyAnnotationPoint *p) {
  return (values){p->x, p->y, p->state, p->predicted_x, p->predicted_y, p->confidence};
}

static void set_values(HyAnnotationPoint *p, const values *v) {
  p->x = v->x;
  p->y = v->y;
  p->state = v->state;
  p->predicted_x = v->predicted_x;
  p->predicted_y = v->predicted_y;
  p->confidence = v->confidence;
}

static gboolean same_number(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static gboolean same_values(const values *a, const values *b) {
  return a->state == b->state && same_number(a->x, b->x) && same_number(a->y, b->y) &&
         same_number(a->predicted_x, b->predicted_x) &&
         same_number(a->predicted_y, b->predicted_y) &&
         same_number(a->confidence, b->confidence);
}

/* ---- saving -------------------------------------------------------------- */

gboolean hy_document_save(HyDocument *self, GError **error) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  g_autoptr(GError) local = NULL;
  g_clear_handle_id(&self->autosave_id, g_source_remove);
  if (!hy_annotation_save(self->annotation, self->annotation_path, &local)) {
    g_signal_emit(self, signals[SIGNAL_SAVE_FAILED], 0, local);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (self->dirty) {
    self->dirty = FALSE;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DIRTY]);
  }
  return TRUE;
}

static gboolean autosave(gpointer data) {
  HyDocument *self = data;
  self->autosave_id = 0;
  hy_document_save(self, NULL); /* "save-failed" tells the user */
  return G_SOURCE_REMOVE;
}

static void touch(HyDocument *self) {
  g_clear_handle_id(&self->autosave_id, g_source_remove);
  self->autosave_id = g_timeout_add(self->autosave_ms, autosave, self);
  if (!self->dirty) {
    self->dirty = TRUE;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DIRTY]);
  }
}

/* ---- the undo stack ------------------------------------------------------ */

static void emit_changed(HyDocument *self, const command *c) {
  int index = c->changes->len == 1 ? g_array_index(c->changes, change, 0).index : -1;
  g_signal_emit(self, signals[SIGNAL_CHANGED], 0, index);
}

static void apply(HyDocument *self, const command *c, gboolean forward) {
  for (guint i = 0; i < c->changes->len; i++) {
    const change *ch = &g_array_index(c->changes, change, i);
    set_values(&self->annotation->points[ch->index], forward ? &ch->after : &ch->before);
  }
  if (c->model_after) {
    g_free(self->annotation->model);
    self->annotation->model = g_strdup(forward ? c->model_after : c->model_before);
  }
  if (c->spacing) {
    self->annotation->spacing_mm = forward ? c->spacing_after : c->spacing_before;
    self->annotation->spacing_source = forward ? c->source_after : c->source_before;
  }
  touch(self);
  emit_changed(self, c);
}

static void notify_stacks(HyDocument *self, gboolean could_undo, gboolean could_redo) {
  if (could_undo != hy_document_can_undo(self))
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAN_UNDO]);
  if (could_redo != hy_document_can_redo(self))
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAN_REDO]);
}

static command *top(HyDocument *self) {
  return self->undo->len ? g_ptr_array_index(self->undo, self->undo->len - 1) : NULL;
}

/* Closes a drag that never saw its last move, so it cannot swallow the next
 * one. */
static void close_open(HyDocument *self) {
  command *c = top(self);
  if (c) c->open = FALSE;
}

/* Runs c and pushes it (taking it); a command that changes nothing is
 * dropped (FALSE). */
static gboolean push(HyDocument *self, command *c) {
  for (guint i = 0; i < c->changes->len;) {
    change *ch = &g_array_index(c->changes, change, i);
    if (same_values(&ch->before, &ch->after))
      g_array_remove_index(c->changes, i);
    else
      i++;
  }
  if (c->spacing && c->spacing_before == c->spacing_after && c->source_before == c->source_after)
    c->spacing = FALSE;
  if (c->changes->len == 0 && g_strcmp0(c->model_before, c->model_after) == 0 && !c->spacing) {
    command_free(c);
    return FALSE;
  }
  gboolean could_undo = hy_document_can_undo(self), could_redo = hy_document_can_redo(self);
  close_open(self);
  g_ptr_array_set_size(self->redo, 0);
  g_ptr_array_add(self->undo, c);
  apply(self, c, TRUE);
  notify_stacks(self, could_undo, could_redo);
  return TRUE;
}

static void add_change(command *c, const HyAnnotation *a, int index, const values *after) {
  change ch = {index, values_of(&a->points[index]), *after};
  g_array_append_val(c->changes, ch);
}

static void add_spacing_change(command *c, const HyAnnotation *a, double mm,
                               HySpacingSource source) {
  c->spacing = TRUE;
  c->spacing_before = a->spacing_mm;
  c->source_before = a->spacing_source;
  c->spacing_after = mm;
  c->source_after = source;
}

gboolean hy_document_can_undo(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  return self->undo->len > 0;
}

gboolean hy_document_can_redo(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  return self->redo->len > 0;
}

const char *hy_document_get_undo_label(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  command *c = top(self);
  return c ? _(c->label) : NULL;
}

const char *hy_document_get_redo_label(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  return self->redo->len ? _(((command *)g_ptr_array_index(self->redo, self->redo->len - 1))->label)
                         : NULL;
}

void hy_document_undo(HyDocument *self) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  if (!self->undo->len) return;
  gboolean could_redo = hy_document_can_redo(self);
  command *c = g_ptr_array_steal_index(self->undo, self->undo->len - 1);
  c->open = FALSE;
  g_ptr_array_add(self->redo, c);
  apply(self, c, FALSE);
  notify_stacks(self, TRUE, could_redo);
}

void hy_document_redo(HyDocument *self) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  if (!self->redo->len) return;
  gboolean could_undo = hy_document_can_undo(self);
  command *c = g_ptr_array_steal_index(self->redo, self->redo->len - 1);
  g_ptr_array_add(self->undo, c);
  apply(self, c, TRUE);
  notify_stacks(self, could_undo, TRUE);
}

/* ---- commands ------------------------------------------------------------ */

static gboolean valid_index(HyDocument *self, int index) {
  return index >= 0 && index < self->annotation->n_points;
}

void hy_document_move(HyDocument *self, int index, double x, double y, gboolean finished) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  g_return_if_fail(valid_index(self, index) && isfinite(x) && isfinite(y));
  HyAnnotationPoint *p = &self->annotation->points[index];
  values after = values_of(p);
  after.x = x;
  after.y = y;
  after.state = HY_LANDMARK_MOVED;
  command *open = top(self);
  if (open && open->open && open->changes->len == 1 &&
      g_array_index(open->changes, change, 0).index == index) {
    /* the drag goes on: the same step, only its end changes */
    g_array_index(open->changes, change, 0).after = after;
    open->open = !finished;
    set_values(p, &after);
    touch(self);
    emit_changed(self, open);
    return;
  }
  command *c = command_new(N_("Move Landmark"));
  add_change(c, self->annotation, index, &after);
  /* push closed the previous step; this one stays open for the drag */
  if (push(self, c)) c->open = !finished;
}

void hy_document_confirm(HyDocument *self, int index) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  g_return_if_fail(valid_index(self, index));
  HyAnnotationPoint *p = &self->annotation->points[index];
  if (isnan(p->x)) return;
  values after = values_of(p);
  after.state = HY_LANDMARK_CONFIRMED;
  command *c = command_new(N_("Confirm Landmark"));
  add_change(c, self->annotation, index, &after);
  push(self, c);
}

void hy_document_mark_absent(HyDocument *self, int index) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  g_return_if_fail(valid_index(self, index));
  values after = values_of(&self->annotation->points[index]);
  after.state = HY_LANDMARK_ABSENT;
  after.x = after.y = NAN;
  command *c = command_new(N_("Mark Landmark Absent"));
  add_change(c, self->annotation, index, &after);
  push(self, c);
}

void hy_document_accept_all(HyDocument *self) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  command *c = command_new(N_("Accept All Landmarks"));
  for (int i = 0; i < self->annotation->n_points; i++) {
    values after = values_of(&self->annotation->points[i]);
    if (isnan(after.x) || after.state == HY_LANDMARK_ABSENT) continue;
    after.state = HY_LANDMARK_CONFIRMED;
    add_change(c, self->annotation, i, &after);
  }
  push(self, c);
}

gboolean hy_document_apply_prediction(HyDocument *self, HyPredictResult *prediction,
                                      GError **error) {
  g_autoptr(HyPredictResult) r = prediction;
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  g_return_val_if_fail(r, FALSE);
  HyAnnotation *a = self->annotation;
  if (r->K != a->n_points) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("the model predicts %d landmarks, the image has %d"), r->K, a->n_points);
    return FALSE;
  }
  if (r->landmark_set && g_strcmp0(r->landmark_set, a->landmark_set)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("the model is for the landmark set '%s', the image's annotation for '%s'"),
                r->landmark_set, a->landmark_set);
    return FALSE;
  }
  if (r->image_w != a->width || r->image_h != a->height) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("the prediction is for a %d × %d image, this one is %d × %d"), r->image_w,
                r->image_h, a->width, a->height);
    return FALSE;
  }
  command *c = command_new(N_("Predict Landmarks"));
  c->model_before = g_strdup(a->model);
  c->model_after = g_strdup(r->model_id);
  for (int i = 0; i < a->n_points; i++) {
    values after = values_of(&a->points[i]);
    after.predicted_x = r->points[i].x;
    after.predicted_y = r->points[i].y;
    after.confidence = r->confidence[i];
    if (after.state == HY_LANDMARK_PREDICTED) {
      after.x = r->points[i].x;
      after.y = r->points[i].y;
    }
    add_change(c, a, i, &after);
  }
  /* the model's spacing only where nothing better is known: one the user
   * entered, or the DICOM header's, stays through re-predictions */
  if (r->spacing_mm > 0 &&
      (a->spacing_mm <= 0 || hy_spacing_source_overrides(HY_SPACING_MODEL, a->spacing_source)))
    add_spacing_change(c, a, r->spacing_mm, HY_SPACING_MODEL);
  /* heatmaps are not part of the annotation: they stay through undo */
  hy_predict_result_free(self->prediction);
  self->prediction = g_steal_pointer(&r);
  push(self, c);
  return TRUE;
}

void hy_document_set_spacing(HyDocument *self, double mm, HySpacingSource source) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  g_return_if_fail(mm > 0 && isfinite(mm));
  command *c = command_new(N_("Set Pixel Spacing"));
  add_spacing_change(c, self->annotation, mm, source);
  push(self, c);
}

gboolean hy_document_adopt_spacing(HyDocument *self, double mm, HySpacingSource source) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  HyAnnotation *a = self->annotation;
  if (!(mm > 0 && isfinite(mm))) return FALSE;
  if (a->spacing_mm > 0 && !hy_spacing_source_overrides(source, a->spacing_source)) return FALSE;
  if (a->spacing_mm == mm && a->spacing_source == source) return FALSE;
  a->spacing_mm = mm;
  a->spacing_source = source;
  /* an image still to be predicted is saved with its prediction; this
   * spacing is found again on the next opening anyway */
  if (!hy_document_needs_prediction(self)) touch(self);
  g_signal_emit(self, signals[SIGNAL_CHANGED], 0, -1);
  return TRUE;
}

/* ---- queries ------------------------------------------------------------- */

const char *hy_document_get_image_path(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  return self->image_path;
}

const char *hy_document_get_annotation_path(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  return self->annotation_path;
}

const hy_image *hy_document_get_image(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  return self->image;
}

HyLandmarkSet *hy_document_get_landmark_set(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  return self->set;
}

const HyAnnotation *hy_document_get_annotation(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  return self->annotation;
}

int hy_document_get_n_landmarks(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), 0);
  return self->annotation->n_points;
}

gboolean hy_document_get_dirty(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  return self->dirty;
}

void hy_document_set_autosave_delay(HyDocument *self, guint ms) {
  g_return_if_fail(HY_IS_DOCUMENT(self));
  self->autosave_ms = ms;
}

double hy_document_get_spacing(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), 0);
  const HyAnnotation *a = self->annotation;
  if (a->spacing_mm > 0) return a->spacing_mm;
  g_autofree hy_point *points = g_new(hy_point, a->n_points);
  for (int i = 0; i < a->n_points; i++) points[i] = (hy_point){a->points[i].x, a->points[i].y};
  double spacing = 0;
  const char *source = NULL;
  if (hy_landmark_set_default_spacing(self->set, points, a->n_points, &spacing, &source))
    return spacing;
  return 0;
}

double hy_document_get_distance_moved(HyDocument *self, int index) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NAN);
  g_return_val_if_fail(valid_index(self, index), NAN);
  const HyAnnotationPoint *p = &self->annotation->points[index];
  double d = hypot(p->x - p->predicted_x, p->y - p->predicted_y);
  double spacing = hy_document_get_spacing(self);
  return spacing > 0 ? d * spacing : d;
}

double hy_document_get_mean_confidence(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NAN);
  return hy_annotation_mean_confidence(self->annotation);
}

gboolean hy_document_is_done(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  return hy_annotation_is_reviewed(self->annotation);
}

gboolean hy_document_needs_prediction(HyDocument *self) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), FALSE);
  for (int i = 0; i < self->annotation->n_points; i++) {
    const HyAnnotationPoint *p = &self->annotation->points[i];
    if (!isnan(p->x) || !isnan(p->predicted_x) || p->state == HY_LANDMARK_ABSENT) return FALSE;
  }
  return TRUE;
}

const float *hy_document_get_heatmap(HyDocument *self, int index, int *map_w, int *map_h,
                                     double map_to_image[6]) {
  g_return_val_if_fail(HY_IS_DOCUMENT(self), NULL);
  const HyPredictResult *r = self->prediction;
  if (!r || index < 0 || index >= r->K) return NULL;
  *map_w = r->map_w;
  *map_h = r->map_h;
  memcpy(map_to_image, r->map_to_image, sizeof r->map_to_image);
  return r->heatmaps + (gsize)index * r->map_w * r->map_h;
}

/* ---- opening ------------------------------------------------------------- */

static HyAnnotation *new_annotation(const char *image_path, const hy_image *image,
                                    HyLandmarkSet *set, GError **error) {
  g_autofree char *base = g_path_get_basename(image_path);
  g_autofree char *base_utf8 = g_filename_display_name(base);
  int n = hy_landmark_set_get_count(set);
  g_autoptr(HyAnnotation) a =
      hy_annotation_new(base_utf8, image->width, image->height, hy_landmark_set_get_name(set), n);
  for (int i = 0; i < n; i++) {
    g_free(a->points[i].name);
    a->points[i].name = g_strdup(hy_landmark_set_get_landmark_name(set, i));
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(image_path, &data, &len, error)) return NULL;
  a->sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
  return g_steal_pointer(&a);
}

/* The set an annotation file names, when that is not `set` but is found:
 * corrections made with another set are not damaged. NULL otherwise. */
static HyLandmarkSet *other_set(const char *path, HyLandmarkSet *set) {
  g_autoptr(HyAnnotation) a = hy_annotation_load(path, NULL, NULL);
  if (!a || !g_strcmp0(a->landmark_set, hy_landmark_set_get_name(set))) return NULL;
  return hy_landmark_set_new_named(a->landmark_set, NULL);
}

/* The annotation at path checked against *set (which may become the set
 * the file names), or NULL when it is not usable for this image: then it is
 * set aside and *notice says so. */
static HyAnnotation *load_existing(const char *path, const hy_image *image, HyLandmarkSet **set,
                                   char **notice, GError **error) {
  g_autoptr(GError) local = NULL;
  HyLandmarkSet *other = other_set(path, *set);
  if (other) {
    g_object_unref(*set);
    *set = other;
  }
  g_autoptr(HyAnnotation) a = hy_annotation_load(path, *set, &local);
  if (!a && !g_error_matches(local, HY_ANNOTATION_ERROR, HY_ANNOTATION_ERROR_INVALID)) {
    g_propagate_error(error, g_steal_pointer(&local));
    return NULL;
  }
  if (a && (a->width != image->width || a->height != image->height)) {
    g_autofree char *disp = g_filename_display_name(path);
    g_set_error(&local, HY_ANNOTATION_ERROR, HY_ANNOTATION_ERROR_INVALID,
                _("%s: for a %d × %d image, this one is %d × %d"), disp, a->width, a->height,
                image->width, image->height);
    g_clear_pointer(&a, hy_annotation_free);
  }
  if (a) return g_steal_pointer(&a);
  g_autofree char *aside = NULL;
  if (!hy_annotation_keep_aside(path, &aside, error)) return NULL;
  g_autofree char *aside_disp = g_filename_display_name(aside);
  if (notice)
    /* Translators: why the annotation could not be used, then the new name */
    *notice = g_strdup_printf(_("%s. It was kept as %s."), local->message, aside_disp);
  return NULL;
}

HyDocument *hy_document_new(const char *image_path, hy_image *image, HyLandmarkSet *set,
                            char **notice, GError **error) {
  g_return_val_if_fail(image_path && image && image->pixels, NULL);
  g_return_val_if_fail(HY_IS_LANDMARK_SET(set), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  g_autofree char *annotation_path = hy_annotation_path_for_image(image_path);
  g_autoptr(HyAnnotation) a = NULL;
  g_autoptr(HyLandmarkSet) used = g_object_ref(set);
  GError *local = NULL;
  if (g_file_test(annotation_path, G_FILE_TEST_EXISTS)) {
    a = load_existing(annotation_path, image, &used, notice, &local);
    if (local) {
      g_propagate_error(error, local);
      hy_image_free(image);
      g_free(image);
      return NULL;
    }
  }
  if (!a) {
    g_set_object(&used, set);
    a = new_annotation(image_path, image, set, &local);
  }
  if (!a) {
    g_propagate_error(error, local);
    hy_image_free(image);
    g_free(image);
    return NULL;
  }
  HyDocument *self = g_object_new(HY_TYPE_DOCUMENT, NULL);
  self->image_path = g_strdup(image_path);
  self->annotation_path = g_steal_pointer(&annotation_path);
  self->image = image;
  self->set = g_steal_pointer(&used);
  self->annotation = g_steal_pointer(&a);
  return self;
}

/* ---- GObject ------------------------------------------------------------- */

static void hy_document_get_property(GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec) {
  HyDocument *self = HY_DOCUMENT(object);
  switch (prop_id) {
  case PROP_DIRTY: g_value_set_boolean(value, self->dirty); break;
  case PROP_CAN_UNDO: g_value_set_boolean(value, hy_document_can_undo(self)); break;
  case PROP_CAN_REDO: g_value_set_boolean(value, hy_document_can_redo(self)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void hy_document_dispose(GObject *object) {
  HyDocument *self = HY_DOCUMENT(object);
  /* nothing lost: a pending autosave happens now */
  if (self->autosave_id) {
    g_autoptr(GError) error = NULL;
    if (!hy_document_save(self, &error)) g_warning("%s", error->message);
  }
  g_clear_object(&self->set);
  G_OBJECT_CLASS(hy_document_parent_class)->dispose(object);
}

static void hy_document_finalize(GObject *object) {
  HyDocument *self = HY_DOCUMENT(object);
  g_ptr_array_unref(self->undo);
  g_ptr_array_unref(self->redo);
  hy_annotation_free(self->annotation);
  hy_predict_result_free(self->prediction);
  if (self->image) hy_image_free(self->image);
  g_free(self->image);
  g_free(self->image_path);
  g_free(self->annotation_path);
  G_OBJECT_CLASS(hy_document_parent_class)->finalize(object);
}

static void hy_document_class_init(HyDocumentClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = hy_document_get_property;
  object_class->dispose = hy_document_dispose;
  object_class->finalize = hy_document_finalize;

  props[PROP_DIRTY] = g_param_spec_boolean("dirty", NULL, NULL, FALSE,
                                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_UNDO] = g_param_spec_boolean("can-undo", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_REDO] = g_param_spec_boolean("can-redo", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  /* (int index): the landmark that changed, -1 when several did */
  signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* (GError *error): an autosave or save that did not happen */
  signals[SIGNAL_SAVE_FAILED] = g_signal_new("save-failed", G_TYPE_FROM_CLASS(klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                             1, G_TYPE_ERROR);
}

static void hy_document_init(HyDocument *self) {
  self->undo = g_ptr_array_new_with_free_func((GDestroyNotify)command_free);
  self->redo = g_ptr_array_new_with_free_func((GDestroyNotify)command_free);
  self->autosave_ms = HY_DOCUMENT_AUTOSAVE_MS;
}
