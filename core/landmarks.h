/* Landmark coordinates from the two plain-text layouts of DESIGN §4.3, in
 * pixels of the original image (origin top-left, x right, y down).
 *
 * CSV, one row per image, a header line first:
 *   image,l1_x,l1_y,...,lN_x,lN_y          (e.g. the hand data set)
 *   image,split,l1_x,l1_y,...,lN_x,lN_y    (ISBI 2015: split = train|test1)
 * The split column is recognised by its header name. Header names are
 * matched case-insensitively; fields are trimmed of blanks and of one pair
 * of enclosing double quotes (quoted fields may not contain commas or
 * quotes). Blank lines, a UTF-8 byte order mark, CRLF line ends and a
 * missing final newline are accepted.
 *
 * ISBI text, one image per file: one "x,y" line per landmark.
 *
 * Numbers are plain decimals ([+-]digits[.digits][e[+-]digits]), read the
 * same whatever the process locale; NaN, Inf, hex and out-of-range values
 * are refused. Every error names the file and line, and the column where
 * one is at fault. */
#pragma once

#include <stddef.h>

#include "error.h"

#define HY_LANDMARKS_MAX 4096                          /* per image */
#define HY_LANDMARK_FILE_MAX ((size_t)256 * 1024 * 1024) /* bytes read at most */

typedef struct hy_point {
  double x, y;
} hy_point;

typedef struct hy_landmark_table {
  int n_landmarks;
  int n_rows;
  char **images;    /* owned, n_rows: the first column, e.g. "001" */
  char **splits;    /* owned, n_rows; NULL when the file has no split column */
  hy_point *points; /* owned, [n_rows][n_landmarks] */
} hy_landmark_table;

/* Loads a CSV. Refuses: an empty file or one with no data rows, a header
 * not of the layout above (first column `image`, then coordinate columns
 * lK_x,lK_y for K = 1..N in order; an odd count of them), a row whose field
 * count differs from the header's, an empty image name, a bad number, an
 * image name seen before. On failure *out is left empty (all zero). */
hy_status hy_landmark_csv_load(hy_landmark_table *out, const char *path,
                               hy_error *err);

/* The same for len bytes of text in memory (borrowed; no NUL needed);
 * messages name `name` (NULL: "landmark text"). */
hy_status hy_landmark_csv_parse(hy_landmark_table *out, const char *text, size_t len,
                                const char *name, hy_error *err);

/* The row of `image` (exact match), or -1. */
int hy_landmark_table_find(const hy_landmark_table *t, const char *image);

/* The landmarks of row r: n_landmarks points. */
const hy_point *hy_landmark_table_row(const hy_landmark_table *t, int r);

/* Frees the members and zeroes *t; safe on a zeroed or freed table. */
void hy_landmark_table_free(hy_landmark_table *t);

/* Loads an ISBI text file into a new array (free() it) of *n points.
 * expect = 0: every non-blank line must be "x,y"; *n is their count.
 * expect > 0: the file must start with exactly `expect` "x,y" lines (blank
 * lines aside); from the first line after them that is not "x,y" on, the
 * rest is ignored, as the original ISBI 2015 files carry class labels
 * there. A further "x,y" line before that is an error (more points than
 * expected), as is a file with fewer. */
hy_status hy_landmark_text_load(hy_point **out, int *n, const char *path,
                                int expect, hy_error *err);

/* The same for len bytes of text in memory, as hy_landmark_csv_parse. */
hy_status hy_landmark_text_parse(hy_point **out, int *n, const char *text, size_t len,
                                 const char *name, int expect, hy_error *err);
