/* HyAnnotation: the annotation file of one image, `<image>.hyatt.json`
 * (DESIGN §4.2), as a plain struct:
 *
 *   {"format": "hyatt-annotation", "version": 1,
 *    "image": {"file", "width", "height", "sha256", "spacing_mm" (or null),
 *              "spacing_source" (spacing.h; optional, "unknown" when missing)},
 *    "landmark_set", "model" (or null), "created", "modified",
 *    "landmarks": [{"index" (1-based, in order), "name", "x", "y" (null when
 *                   not placed), "state", "predicted_x", "predicted_y",
 *                   "confidence" (null when never predicted), "model"}, …]}
 *
 * Coordinates are original-image pixels, pixel centres at integers. Loading
 * validates everything and refuses with one line naming the file and the
 * field; saving is atomic (temporary file in the same folder, fsync,
 * rename). A file that fails to load is never overwritten by the callers:
 * they set it aside with hy_annotation_keep_aside first. */
#pragma once

#include <glib.h>

#include "landmark_set.h"
#include "spacing.h"

G_BEGIN_DECLS

#define HY_ANNOTATION_FORMAT "hyatt-annotation"
#define HY_ANNOTATION_FORMAT_VERSION 1
#define HY_ANNOTATION_MAX_BYTES (16 * 1024 * 1024)
#define HY_ANNOTATION_SUFFIX ".hyatt.json"

#define HY_ANNOTATION_ERROR (hy_annotation_error_quark())
GQuark hy_annotation_error_quark(void);

typedef enum {
  HY_ANNOTATION_ERROR_INVALID, /* not JSON, wrong format or a bad field */
} HyAnnotationError;

typedef enum {
  HY_LANDMARK_PREDICTED = 0, /* placed by a model (or not placed yet) */
  HY_LANDMARK_MOVED,         /* moved by the user */
  HY_LANDMARK_CONFIRMED,     /* checked by the user */
  HY_LANDMARK_ABSENT,        /* not visible on this image */
} HyLandmarkState;

/* "predicted", "moved", "confirmed", "absent". */
const char *hy_landmark_state_to_string(HyLandmarkState state);
/* FALSE for anything else. */
gboolean hy_landmark_state_from_string(const char *s, HyLandmarkState *state);

typedef struct HyAnnotationPoint {
  char *name;            /* owned, never NULL */
  double x, y;           /* NAN when not placed */
  HyLandmarkState state;
  double predicted_x, predicted_y; /* NAN when never predicted */
  double confidence;     /* in [0, 1]; NAN when never predicted */
  char *model;           /* owned; the model that predicted it, or NULL */
} HyAnnotationPoint;

typedef struct HyAnnotation {
  char *image_file;      /* owned: the image's base name (UTF-8) */
  int width, height;     /* of the image, pixels */
  char *sha256;          /* owned: of the image file's bytes, or NULL */
  double spacing_mm;     /* mm per pixel, 0 when unknown */
  HySpacingSource spacing_source; /* where spacing_mm came from */
  char *landmark_set;    /* owned: the set's name */
  char *model;           /* owned: the model of the last prediction, or NULL */
  char *created;         /* owned: ISO 8601 UTC, or NULL before the first save */
  char *modified;        /* owned: ISO 8601 UTC, or NULL before the first save */
  int n_points;
  HyAnnotationPoint *points; /* owned, [n_points], landmark i at i (0-based) */
} HyAnnotation;

/* An annotation of n_points unplaced, never predicted landmarks named "" */
HyAnnotation *hy_annotation_new(const char *image_file, int width, int height,
                                const char *landmark_set, int n_points);
HyAnnotation *hy_annotation_copy(const HyAnnotation *a);
void hy_annotation_free(HyAnnotation *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HyAnnotation, hy_annotation_free)

/* Whether every landmark is confirmed or absent. */
gboolean hy_annotation_is_reviewed(const HyAnnotation *a);
/* The mean confidence of the landmarks that have one, NAN if none has. */
double hy_annotation_mean_confidence(const HyAnnotation *a);

/* `<image_path>.hyatt.json` (free with g_free). */
char *hy_annotation_path_for_image(const char *image_path);

/* Reads and validates path. With a set, the landmark count and the set's
 * name must match it. Refuses (HY_ANNOTATION_ERROR_INVALID) other formats
 * or versions, unknown states, non-numbers, non-finite values, confidences
 * outside [0, 1] and coordinates far (more than the image's size) outside
 * the image; read errors come as G_FILE_ERROR. */
HyAnnotation *hy_annotation_load(const char *path, HyLandmarkSet *set, GError **error);

/* The same from memory (data need not end in NUL); origin names it in
 * messages. */
HyAnnotation *hy_annotation_load_from_data(const char *data, gsize len, const char *origin,
                                           HyLandmarkSet *set, GError **error);

/* Sets a->modified (and a->created if NULL) to now, then writes a to path
 * atomically (hy_write_file_atomic): the old file stays intact when that
 * fails (G_IO_ERROR_FAILED, one line naming the file). */
gboolean hy_annotation_save(HyAnnotation *a, const char *path, GError **error);

/* The JSON text of a, ending in a newline (free with g_free). */
char *hy_annotation_to_data(const HyAnnotation *a);

/* Renames a damaged path to `<path>.damaged-<UTC timestamp>` so that a new
 * annotation can be written without losing it; *new_path (may be NULL)
 * receives the new name. */
gboolean hy_annotation_keep_aside(const char *path, char **new_path, GError **error);

G_END_DECLS
