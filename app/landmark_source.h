/* Landmarks named on the command line as FILE[:ROW]: a landmark CSV and
 * one of its rows, or an ISBI text file (core/landmarks.h). Used by
 * `hyatt show` and `hyatt measure`, which word their own errors. */
#pragma once

#include <glib.h>

#include "landmarks.h"

G_BEGIN_DECLS

/* Splits FILE or FILE:ROW (*row = NULL when there is none; g_free both);
 * a path that exists as given is never split, so file names with colons
 * still work. */
void hy_landmark_source_split(const char *spec, char **file, char **row);

/* A CSV by its extension, or by a first line that starts like its header
 * ("image,"); anything else is read as ISBI text. */
gboolean hy_landmark_source_is_csv(const char *path);

/* The file name of path without its extension: .../001.jpg -> 001. */
char *hy_landmark_source_stem(const char *path);

/* The row of t named `row`; without one, the row named after image (its
 * stem, else its file name); without either, the only row. -1 if none. */
int hy_landmark_source_find_row(const hy_landmark_table *t, const char *row, const char *image);

/* hy_landmark_text_load into memory to g_free. */
hy_status hy_landmark_source_text(hy_point **out, int *n, const char *path, int expect,
                                  hy_error *err);

G_END_DECLS
