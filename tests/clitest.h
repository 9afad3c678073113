/* Helpers of the suites that run the `hyatt` executable (path in
 * $HYATT_BIN): running it, checking what it said, and images for it. */
#pragma once

#include <glib.h>

typedef struct ct_result {
  int status; /* exit status, or -1 if killed */
  char *out;
  char *err;
} ct_result;

void ct_result_clear(ct_result *r);

/* $HYATT_BIN; fails the test when it is not set. */
const char *ct_hyatt_bin(void);

/* Runs hyatt with the NULL-terminated arguments, in this process's
 * environment with LC_ALL=C.UTF-8. */
ct_result ct_run(const char *first, ...);

/* Fails the test, showing stdout and stderr, unless hyatt exited with status. */
void ct_assert_status(const ct_result *r, int status);

/* stderr is exactly one line that starts with prefix and contains words. */
void ct_assert_one_line_error(const ct_result *r, const char *prefix, const char *words);

/* Waits until the file at path has at least `lines` lines (a running
 * hyatt's log), or seconds have passed; the caller checks what follows. */
void ct_wait_for_lines(const char *path, int lines, int seconds);

/* A w x h grey gradient (0.2 at the left, 0.7 at the right), plus `checker`
 * on every other 8 x 8 square, as an 8-bit PNG <tu_tmpdir()>/name; returns
 * that path (g_free it). */
char *ct_write_png(const char *name, int w, int h, float checker);
