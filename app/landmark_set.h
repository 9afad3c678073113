/* HyLandmarkSet: a landmark set definition (DESIGN §4.4), read from a JSON
 * file such as data/landmarks/isbi2015.json, installed in
 * $datadir/hyatt-studio/landmarks/.
 *
 *   format_version  1 (files of another version are refused)
 *   name            the set's name, [a-z0-9_-]+, e.g. "isbi2015"
 *   version         revision of the definition, an integer >= 1
 *   title, description   optional text
 *   count           number of landmarks
 *   landmarks       count objects {index (1-based), name, abbreviation,
 *                   colour "#rrggbb"}; indices 1..count each once,
 *                   abbreviations unique
 *   spacing         optional default pixel spacing with its "source" (text):
 *                   {"mm_per_pixel": 0.1} or a reference distance
 *                   {"reference": {"from": L, "to": L, "mm": 50}}
 *   facing          optional {"posterior": L, "anterior": L}: the profile
 *                   faces the side `anterior` lies on (measure.h, signs);
 *                   without it profiles are taken to face right
 *   measurements    optional, each {id, name, group, definition, source,
 *                   classes} and either "kind" + "points" (+ "weight") or
 *                   "terms": [{kind, points, weight}, ...] (measure.h);
 *                   points are landmark references L: an abbreviation
 *                   string or a 1-based index; classes [{class, label, and
 *                   bounds min/max (included) or above/below (excluded)}]
 *
 * Unknown keys are refused, so that a misspelt bound cannot silently
 * widen a class. Every error names the file and the field, e.g.
 * "isbi2015.json: landmarks[3].colour: '#12345' is not a colour #rrggbb". */
#pragma once

#include <glib-object.h>

#include "landmarks.h"
#include "measure.h"

G_BEGIN_DECLS

#define HY_LANDMARK_SET_FORMAT_VERSION 1
#define HY_LANDMARK_SET_MAX_BYTES (4 * 1024 * 1024)

#define HY_LANDMARK_SET_ERROR (hy_landmark_set_error_quark())
GQuark hy_landmark_set_error_quark(void);

typedef enum {
  HY_LANDMARK_SET_ERROR_NOT_FOUND, /* no definition file of that name */
  HY_LANDMARK_SET_ERROR_INVALID,   /* unreadable, not JSON, or a bad field */
} HyLandmarkSetError;

/* A measurement with its texts. */
typedef struct HyMeasurementDef {
  hy_measurement m;       /* m.id and class labels point into the set */
  const char *name;       /* borrowed, never NULL */
  const char *group;      /* borrowed, NULL when none */
  const char *definition; /* borrowed, NULL when none */
  const char *source;     /* borrowed, NULL when none */
} HyMeasurementDef;

#define HY_TYPE_LANDMARK_SET (hy_landmark_set_get_type())
G_DECLARE_FINAL_TYPE(HyLandmarkSet, hy_landmark_set, HY, LANDMARK_SET, GObject)

/* Reads and validates a definition file (at most HY_LANDMARK_SET_MAX_BYTES). */
HyLandmarkSet *hy_landmark_set_new_from_file(const char *path, GError **error);

/* The same from memory; `origin` names the data in messages. */
HyLandmarkSet *hy_landmark_set_new_from_data(const char *data, gssize length,
                                             const char *origin, GError **error);

/* Finds <name>.json in the search folders, in order: $HYATT_LANDMARKS_DIR,
 * then hy_data_dirs("landmarks"), and loads the first; its "name" must be
 * `name`. */
HyLandmarkSet *hy_landmark_set_new_named(const char *name, GError **error);

/* A set as users give it: a definition file when spec has a folder in it
 * or ends in .json (any case), else a name for hy_landmark_set_new_named. */
HyLandmarkSet *hy_landmark_set_new_from_spec(const char *spec, GError **error);

/* Those folders, most important first (free with g_strfreev). */
char **hy_landmark_set_search_dirs(void);

const char *hy_landmark_set_get_name(HyLandmarkSet *self);
const char *hy_landmark_set_get_title(HyLandmarkSet *self);       /* name if none */
const char *hy_landmark_set_get_description(HyLandmarkSet *self); /* NULL if none */
const char *hy_landmark_set_get_origin(HyLandmarkSet *self); /* file or origin */
int hy_landmark_set_get_version(HyLandmarkSet *self);
int hy_landmark_set_get_count(HyLandmarkSet *self);

/* Landmark `index` is 0-based here (the file's index minus one). */
const char *hy_landmark_set_get_landmark_name(HyLandmarkSet *self, int index);
const char *hy_landmark_set_get_abbreviation(HyLandmarkSet *self, int index);
const char *hy_landmark_set_get_colour(HyLandmarkSet *self, int index); /* "#rrggbb" */
/* The colour as r, g, b in [0, 1]. */
void hy_landmark_set_get_rgb(HyLandmarkSet *self, int index, double rgb[3]);
/* The 0-based index of the landmark with that abbreviation, or -1. */
int hy_landmark_set_find(HyLandmarkSet *self, const char *abbreviation);

/* The set's default spacing (mm per pixel) for these points, and the text
 * saying where it comes from; FALSE when the set has none, or its reference
 * landmarks are missing, not finite or coincide. */
gboolean hy_landmark_set_default_spacing(HyLandmarkSet *self,
                                         const hy_point *points, /* [n_points] */
                                         int n_points, double *spacing,
                                         const char **source);

/* Whether the set says which landmarks give a profile's facing. */
gboolean hy_landmark_set_has_facing(HyLandmarkSet *self);

/* +1 or -1 (measure.h): from the "facing" landmarks when the set has them
 * and they are finite, else +1. */
int hy_landmark_set_facing(HyLandmarkSet *self,
                           const hy_point *points, /* [n_points] */
                           int n_points);

int hy_landmark_set_get_n_measurements(HyLandmarkSet *self);
const HyMeasurementDef *hy_landmark_set_get_measurement(HyLandmarkSet *self, int i);

G_END_DECLS
