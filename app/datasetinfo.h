/* Data set descriptors: the JSON files of data/datasets/ (built into the
 * executable as a GResource) or a dataset.json in the data set folder,
 * read into core's hy_dataset_spec (core/dataset.h). They say what the
 * files do not: pixel spacing, annotator files, landmark names.
 *
 *   { "name": "isbi2015", "landmark_set": "isbi2015", "images": "images",
 *     "spacing_mm": 0.1,
 *     "spacing_from_landmarks": { "landmarks": [2, 6], "distance_mm": 50 },
 *     "annotators": [ { "name": "senior", "file": "senior_px.csv" }, ... ],
 *     "landmarks": [ "sella", ... ] }
 *
 * Every member is optional; unknown members (e.g. "description") are
 * ignored. */
#pragma once

#include <glib.h>

#include "dataset.h"

G_BEGIN_DECLS

/* Parses one descriptor; `where` names it in errors. */
gboolean hy_dataset_spec_parse(hy_dataset_spec *spec, const char *json, gssize length,
                               const char *where, GError **error);

/* The descriptor of the data set folder dir: the file `descriptor` when not
 * NULL, else dir/dataset.json when it exists, else the built-in one named
 * like the folder (e.g. isbi2015), else an empty spec (everything
 * detected, no spacing). *source (may be NULL) receives a description of
 * where it came from, e.g. "built-in isbi2015.json". */
gboolean hy_dataset_spec_for(hy_dataset_spec *spec, const char *dir, const char *descriptor,
                             char **source, GError **error);

/* The same for the --dataset-info and --spacing options of `hyatt train`
 * and `hyatt eval`: spacing_mm > 0 replaces the descriptor's spacing, which
 * is then not derived from landmarks either; 0 keeps it. */
gboolean hy_dataset_spec_from_options(hy_dataset_spec *spec, const char *dir,
                                      const char *descriptor, double spacing_mm, char **source,
                                      GError **error);

G_END_DECLS
