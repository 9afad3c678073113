/* HyReviewQueue: the images (PNG, JPEG) of a folder as a GListModel of
 * HyReviewItem in review order: images still to review before those done
 * (every landmark confirmed or absent); among them the least confident
 * first, never predicted ones before all, then by name. What each image's
 * `.hyatt.json` says is read when the folder is set; a damaged or foreign
 * one counts as never predicted (the document reports it when opened). The
 * order is made then and kept while the images are reviewed, so that rows
 * do not jump away under the user; reading the folder again reorders. */
#pragma once

#include <gio/gio.h>

#include "landmark_set.h"
#include "review_item.h"

G_BEGIN_DECLS

#define HY_TYPE_REVIEW_QUEUE (hy_review_queue_get_type())
G_DECLARE_FINAL_TYPE(HyReviewQueue, hy_review_queue, HY, REVIEW_QUEUE, GObject)

/* set (may be NULL) checks the annotations' landmark count and set. */
HyReviewQueue *hy_review_queue_new(HyLandmarkSet *set);

/* Reads the folder; on failure the queue is left as it was. */
gboolean hy_review_queue_set_folder(HyReviewQueue *self, const char *folder, GError **error);
const char *hy_review_queue_get_folder(HyReviewQueue *self); /* NULL before */

guint hy_review_queue_get_n_done(HyReviewQueue *self);
guint hy_review_queue_get_n_to_review(HyReviewQueue *self);

/* The position of the image at path, or -1. */
int hy_review_queue_find(HyReviewQueue *self, const char *path);
/* A new confidence / done state of the image at path (if it is in the
 * queue); it keeps its place. */
void hy_review_queue_update(HyReviewQueue *self, const char *path, double confidence,
                            gboolean done);
/* The first image to review other than path (may be NULL), or NULL. */
HyReviewItem *hy_review_queue_next_to_review(HyReviewQueue *self, const char *path);

G_END_DECLS
