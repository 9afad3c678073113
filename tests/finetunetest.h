/* Shared by the fine-tuning suites of app/ and ui/: a tiny model of 3
 * landmarks and corrected images for it (96×64, a bright blob at each
 * landmark, the same layout on every image, the annotation beside it). */
#pragma once

#include <glib.h>

#include "hyatt.h"

#define FT_K 3

/* <tu_tmpdir()>/name: an untrained tiny model (g_free the path). */
char *ft_tiny_model(const char *name);

/* Where every image has its landmarks' blobs (original px). */
extern const hy_point ft_layout[FT_K];

/* dir/<name>.png, without an annotation; returns its path. */
char *ft_image(const char *dir, const char *name);

/* dir/<name>.png and its annotation with the points moved by (dx, dy), all
 * user-placed; returns the annotation's path. */
char *ft_corrected_image(const char *dir, const char *name, double dx, double dy);

/* n corrected images named <tag>N appended to all (a new array when NULL;
 * NULL-terminated); those held out of the whole set keep the right
 * points, the others are moved by (dx, dy). */
GPtrArray *ft_corrected_set(const char *dir, const char *tag, int n, GPtrArray *all, double dx,
                            double dy);
