/* HyReviewItem: one image of a review queue: its file, the mean confidence
 * of its landmarks and whether every landmark is confirmed or absent. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define HY_TYPE_REVIEW_ITEM (hy_review_item_get_type())
G_DECLARE_FINAL_TYPE(HyReviewItem, hy_review_item, HY, REVIEW_ITEM, GObject)

HyReviewItem *hy_review_item_new(const char *path, double confidence, gboolean done);
const char *hy_review_item_get_path(HyReviewItem *self);
/* The file's base name for display (UTF-8). */
const char *hy_review_item_get_name(HyReviewItem *self);
/* NAN when never predicted. */
double hy_review_item_get_confidence(HyReviewItem *self);
gboolean hy_review_item_get_done(HyReviewItem *self);
/* Notifies "confidence" / "done" when they change. */
void hy_review_item_update(HyReviewItem *self, double confidence, gboolean done);

G_END_DECLS
