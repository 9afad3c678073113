/* HyDocument: one image being reviewed: the image, its landmark set, its
 * annotation (per landmark the position, state, prediction and confidence),
 * the heatmaps of the last prediction, a dirty flag and an undo/redo stack.
 *
 * Every edit is a command (move, place, confirm, mark absent, accept all,
 * predict) that can be undone and redone; the moves of one drag (finished
 * FALSE until the last) merge into one step. "changed" (landmark index, -1
 * for all) is emitted on every change, during a drag too, so that other
 * views follow live. A few seconds after the last change the annotation is
 * saved atomically beside the image (`<image>.hyatt.json`); a dirty
 * document is also saved when it is finalised.
 *
 * On open an existing annotation file is what the user sees: a prediction
 * applied later only renews the predicted positions and confidences, and
 * moves the points still in the "predicted" state. A damaged file is set
 * aside (hy_annotation_keep_aside) and reported, never overwritten. */
#pragma once

#include <glib-object.h>

#include "annotation.h"
#include "image.h"
#include "landmark_set.h"
#include "predict_job.h"

G_BEGIN_DECLS

#define HY_DOCUMENT_AUTOSAVE_MS 3000

#define HY_TYPE_DOCUMENT (hy_document_get_type())
G_DECLARE_FINAL_TYPE(HyDocument, hy_document, HY, DOCUMENT, GObject)

/* A document for the image at image_path, already decoded in image (taken:
 * allocated with g_new0, freed with hy_image_free and g_free), with landmark
 * set `set`, or the installed set an existing annotation names. Loads the
 * annotation beside the image when there is one; a damaged one is set aside
 * and *notice (may be NULL) receives a one-line message saying so. Fails
 * when the annotation cannot be read (e.g. permissions) or set aside. */
HyDocument *hy_document_new(const char *image_path, hy_image *image, HyLandmarkSet *set,
                            char **notice, GError **error);

const char *hy_document_get_image_path(HyDocument *self);
const char *hy_document_get_annotation_path(HyDocument *self);
const hy_image *hy_document_get_image(HyDocument *self);
HyLandmarkSet *hy_document_get_landmark_set(HyDocument *self);
/* Borrowed; changes with every command. */
const HyAnnotation *hy_document_get_annotation(HyDocument *self);
int hy_document_get_n_landmarks(HyDocument *self);
/* mm per pixel: the annotation's, else the set's default, else 0. */
double hy_document_get_spacing(HyDocument *self);
/* How far landmark index is from its prediction, in mm (pixels when the
 * spacing is unknown); NAN without both positions. */
double hy_document_get_distance_moved(HyDocument *self, int index);
/* The mean confidence of the predicted landmarks, NAN when never predicted. */
double hy_document_get_mean_confidence(HyDocument *self);
/* Whether every landmark is confirmed or absent. */
gboolean hy_document_is_done(HyDocument *self);
/* Whether no landmark has a position yet: the document waits for a prediction. */
gboolean hy_document_needs_prediction(HyDocument *self);

/* The last prediction's heatmap of landmark index ([map_h][map_w], borrowed)
 * and its affine to image px (as hy_landmark_canvas_set_heatmap takes it),
 * or NULL when there is none. */
const float *hy_document_get_heatmap(HyDocument *self, int index, int *map_w, int *map_h,
                                     double map_to_image[6]);

/* ---- commands ------------------------------------------------------------ */

/* Moves landmark index to (x, y), state moved. With finished FALSE the move
 * stays open: further moves of the same landmark join the same undo step
 * until one with finished TRUE. */
void hy_document_move(HyDocument *self, int index, double x, double y, gboolean finished);
/* Confirms a landmark that has a position. */
void hy_document_confirm(HyDocument *self, int index);
void hy_document_mark_absent(HyDocument *self, int index);
/* Confirms every predicted or moved landmark that has a position. */
void hy_document_accept_all(HyDocument *self);
/* Applies a prediction as described above, taking it (also on failure: the
 * heatmaps are large); refuses one of another landmark count, landmark set or image size.
 * The model's spacing is taken (HY_SPACING_MODEL) only over none or another model's. */
gboolean hy_document_apply_prediction(HyDocument *self, HyPredictResult *prediction,
                                      GError **error);
/* Sets the pixel spacing (mm per pixel, > 0) and where it came from, as an
 * undoable step: the user's entry for this image (HY_SPACING_USER) or for
 * its folder (HY_SPACING_FOLDER). */
void hy_document_set_spacing(HyDocument *self, double mm, HySpacingSource source);
/* On opening: what the image file (DICOM header) or its folder
 * (folder_spacing.h) says, taken when hy_spacing_source_overrides the
 * annotation's source or the annotation has none. Not an undoable step: it
 * is how the image is. FALSE when it changed nothing. */
gboolean hy_document_adopt_spacing(HyDocument *self, double mm, HySpacingSource source);

gboolean hy_document_can_undo(HyDocument *self);
gboolean hy_document_can_redo(HyDocument *self);
/* The translated name of the step undo / redo would take, or NULL. */
const char *hy_document_get_undo_label(HyDocument *self);
const char *hy_document_get_redo_label(HyDocument *self);
void hy_document_undo(HyDocument *self);
void hy_document_redo(HyDocument *self);

/* ---- saving -------------------------------------------------------------- */

gboolean hy_document_get_dirty(HyDocument *self);
/* Milliseconds from a change to its autosave (default HY_DOCUMENT_AUTOSAVE_MS). */
void hy_document_set_autosave_delay(HyDocument *self, guint ms);
/* Saves now (atomically); a failure also emits "save-failed". */
gboolean hy_document_save(HyDocument *self, GError **error);

G_END_DECLS
