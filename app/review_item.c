#include "review_item.h"

#include <math.h>

struct _HyReviewItem {
  GObject parent_instance;

  char *path; /* owned */
  char *name; /* owned */
  double confidence;
  gboolean done;
};

G_DEFINE_FINAL_TYPE(HyReviewItem, hy_review_item, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_CONFIDENCE, PROP_DONE, N_PROPS };
static GParamSpec *props[N_PROPS];

HyReviewItem *hy_review_item_new(const char *path, double confidence, gboolean done) {
  g_return_val_if_fail(path, NULL);
  HyReviewItem *self = g_object_new(HY_TYPE_REVIEW_ITEM, NULL);
  g_autofree char *base = g_path_get_basename(path);
  self->path = g_strdup(path);
  self->name = g_filename_display_name(base);
  self->confidence = confidence;
  self->done = done;
  return self;
}

const char *hy_review_item_get_path(HyReviewItem *self) {
  g_return_val_if_fail(HY_IS_REVIEW_ITEM(self), NULL);
  return self->path;
}

const char *hy_review_item_get_name(HyReviewItem *self) {
  g_return_val_if_fail(HY_IS_REVIEW_ITEM(self), NULL);
  return self->name;
}

double hy_review_item_get_confidence(HyReviewItem *self) {
  g_return_val_if_fail(HY_IS_REVIEW_ITEM(self), NAN);
  return self->confidence;
}

gboolean hy_review_item_get_done(HyReviewItem *self) {
  g_return_val_if_fail(HY_IS_REVIEW_ITEM(self), FALSE);
  return self->done;
}

void hy_review_item_update(HyReviewItem *self, double confidence, gboolean done) {
  g_return_if_fail(HY_IS_REVIEW_ITEM(self));
  if (!(isnan(confidence) && isnan(self->confidence)) && confidence != self->confidence) {
    self->confidence = confidence;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CONFIDENCE]);
  }
  if (done != self->done) {
    self->done = done;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DONE]);
  }
}

static void hy_review_item_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec) {
  HyReviewItem *self = HY_REVIEW_ITEM(object);
  switch (prop_id) {
  case PROP_NAME: g_value_set_string(value, self->name); break;
  case PROP_CONFIDENCE: g_value_set_double(value, self->confidence); break;
  case PROP_DONE: g_value_set_boolean(value, self->done); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void hy_review_item_finalize(GObject *object) {
  HyReviewItem *self = HY_REVIEW_ITEM(object);
  g_free(self->path);
  g_free(self->name);
  G_OBJECT_CLASS(hy_review_item_parent_class)->finalize(object);
}

static void hy_review_item_class_init(HyReviewItemClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = hy_review_item_get_property;
  object_class->finalize = hy_review_item_finalize;
  props[PROP_NAME] =
      g_param_spec_string("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CONFIDENCE] = g_param_spec_double("confidence", NULL, NULL, -G_MAXDOUBLE,
                                               G_MAXDOUBLE, 0,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_DONE] = g_param_spec_boolean("done", NULL, NULL, FALSE,
                                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void hy_review_item_init(HyReviewItem *self) { self->confidence = NAN; }
