#include "review_queue.h"

#include <math.h>

#include "annotation.h"

struct _HyReviewQueue {
  GObject parent_instance;

  HyLandmarkSet *set; /* owned reference, or NULL */
  char *folder;       /* owned, or NULL */
  GPtrArray *items;   /* owned, of HyReviewItem, in review order */
};

static void list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(HyReviewQueue, hy_review_queue, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, list_model_init))

enum { PROP_0, PROP_N_DONE, PROP_N_TO_REVIEW, N_PROPS };
static GParamSpec *props[N_PROPS];

static GType get_item_type(GListModel *model) { return HY_TYPE_REVIEW_ITEM; }

static guint get_n_items(GListModel *model) { return HY_REVIEW_QUEUE(model)->items->len; }

static gpointer get_item(GListModel *model, guint position) {
  HyReviewQueue *self = HY_REVIEW_QUEUE(model);
  return position < self->items->len ? g_object_ref(g_ptr_array_index(self->items, position))
                                     : NULL;
}

static void list_model_init(GListModelInterface *iface) {
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* To review before done; NAN (never predicted) before any confidence, low
 * before high; then by name. */
static int compare(gconstpointer a, gconstpointer b) {
  HyReviewItem *x = *(HyReviewItem *const *)a, *y = *(HyReviewItem *const *)b;
  gboolean dx = hy_review_item_get_done(x), dy = hy_review_item_get_done(y);
  if (dx != dy) return dx ? 1 : -1;
  double cx = hy_review_item_get_confidence(x), cy = hy_review_item_get_confidence(y);
  if (isnan(cx) != isnan(cy)) return isnan(cx) ? -1 : 1;
  if (!isnan(cx) && cx != cy) return cx < cy ? -1 : 1;
  return g_utf8_collate(hy_review_item_get_name(x), hy_review_item_get_name(y));
}

static gboolean is_image_name(const char *name) {
  g_autofree char *lower = g_ascii_strdown(name, -1);
  return g_str_has_suffix(lower, ".png") || g_str_has_suffix(lower, ".jpg") ||
         g_str_has_suffix(lower, ".jpeg");
}

static HyReviewItem *item_for(HyReviewQueue *self, const char *path) {
  g_autofree char *json = hy_annotation_path_for_image(path);
  g_autoptr(HyAnnotation) a = hy_annotation_load(json, self->set, NULL);
  if (!a) return hy_review_item_new(path, NAN, FALSE);
  return hy_review_item_new(path, hy_annotation_mean_confidence(a), hy_annotation_is_reviewed(a));
}

HyReviewQueue *hy_review_queue_new(HyLandmarkSet *set) {
  g_return_val_if_fail(set == NULL || HY_IS_LANDMARK_SET(set), NULL);
  HyReviewQueue *self = g_object_new(HY_TYPE_REVIEW_QUEUE, NULL);
  if (set) self->set = g_object_ref(set);
  return self;
}

static void notify_counts(HyReviewQueue *self) {
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_N_DONE]);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_N_TO_REVIEW]);
}

gboolean hy_review_queue_set_folder(HyReviewQueue *self, const char *folder, GError **error) {
  g_return_val_if_fail(HY_IS_REVIEW_QUEUE(self), FALSE);
  g_return_val_if_fail(folder, FALSE);
  g_autoptr(GDir) dir = g_dir_open(folder, 0, error);
  if (!dir) return FALSE;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
  for (const char *name; (name = g_dir_read_name(dir));) {
    if (!is_image_name(name)) continue;
    g_autofree char *path = g_build_filename(folder, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) g_ptr_array_add(items, item_for(self, path));
  }
  g_ptr_array_sort(items, compare);
  guint removed = self->items->len;
  g_ptr_array_unref(self->items);
  self->items = g_steal_pointer(&items);
  g_free(self->folder);
  self->folder = g_strdup(folder);
  g_list_model_items_changed(G_LIST_MODEL(self), 0, removed, self->items->len);
  notify_counts(self);
  return TRUE;
}

const char *hy_review_queue_get_folder(HyReviewQueue *self) {
  g_return_val_if_fail(HY_IS_REVIEW_QUEUE(self), NULL);
  return self->folder;
}

guint hy_review_queue_get_n_done(HyReviewQueue *self) {
  g_return_val_if_fail(HY_IS_REVIEW_QUEUE(self), 0);
  guint n = 0;
  for (guint i = 0; i < self->items->len; i++)
    n += hy_review_item_get_done(g_ptr_array_index(self->items, i));
  return n;
}

guint hy_review_queue_get_n_to_review(HyReviewQueue *self) {
  g_return_val_if_fail(HY_IS_REVIEW_QUEUE(self), 0);
  return self->items->len - hy_review_queue_get_n_done(self);
}

int hy_review_queue_find(HyReviewQueue *self, const char *path) {
  g_return_val_if_fail(HY_IS_REVIEW_QUEUE(self), -1);
  for (guint i = 0; path && i < self->items->len; i++)
    if (!g_strcmp0(hy_review_item_get_path(g_ptr_array_index(self->items, i)), path))
      return (int)i;
  return -1;
}

void hy_review_queue_update(HyReviewQueue *self, const char *path, double confidence,
                            gboolean done) {
  g_return_if_fail(HY_IS_REVIEW_QUEUE(self));
  int position = hy_review_queue_find(self, path);
  if (position < 0) return;
  HyReviewItem *item = g_ptr_array_index(self->items, (guint)position);
  gboolean was_done = hy_review_item_get_done(item);
  hy_review_item_update(item, confidence, done);
  /* it stays where it is: views redraw its row */
  g_list_model_items_changed(G_LIST_MODEL(self), (guint)position, 1, 1);
  if (was_done != done) notify_counts(self);
}

HyReviewItem *hy_review_queue_next_to_review(HyReviewQueue *self, const char *path) {
  g_return_val_if_fail(HY_IS_REVIEW_QUEUE(self), NULL);
  for (guint i = 0; i < self->items->len; i++) {
    HyReviewItem *item = g_ptr_array_index(self->items, i);
    if (!hy_review_item_get_done(item) && g_strcmp0(hy_review_item_get_path(item), path))
      return item;
  }
  return NULL;
}

static void hy_review_queue_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec) {
  HyReviewQueue *self = HY_REVIEW_QUEUE(object);
  switch (prop_id) {
  case PROP_N_DONE: g_value_set_uint(value, hy_review_queue_get_n_done(self)); break;
  case PROP_N_TO_REVIEW: g_value_set_uint(value, hy_review_queue_get_n_to_review(self)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void hy_review_queue_finalize(GObject *object) {
  HyReviewQueue *self = HY_REVIEW_QUEUE(object);
  g_clear_object(&self->set);
  g_ptr_array_unref(self->items);
  g_free(self->folder);
  G_OBJECT_CLASS(hy_review_queue_parent_class)->finalize(object);
}

static void hy_review_queue_class_init(HyReviewQueueClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = hy_review_queue_get_property;
  object_class->finalize = hy_review_queue_finalize;
  props[PROP_N_DONE] = g_param_spec_uint("n-done", NULL, NULL, 0, G_MAXUINT, 0,
                                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_N_TO_REVIEW] = g_param_spec_uint("n-to-review", NULL, NULL, 0, G_MAXUINT, 0,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void hy_review_queue_init(HyReviewQueue *self) {
  self->items = g_ptr_array_new_with_free_func(g_object_unref);
}
