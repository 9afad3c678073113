/* The landmark text parsers on arbitrary bytes: the CSV table, and the ISBI
 * text with no expected count and with the 19 of ISBI 2015. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "landmarks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void csv(const char *text, size_t size) {
  hy_landmark_table t;
  hy_error err = {0};
  hy_status st = hy_landmark_csv_parse(&t, text, size, "fuzz.csv", &err);
  fuzz_check_refusal(st, &err);
  if (st != HY_OK) {
    if (t.images || t.points || t.splits || t.n_rows) __builtin_trap();
    return;
  }
  if (t.n_rows <= 0 || t.n_landmarks <= 0) __builtin_trap();
  for (int r = 0; r < t.n_rows; r++) {
    if (!t.images[r][0] || (t.splits && !t.splits[r])) __builtin_trap();
    if (hy_landmark_table_find(&t, t.images[r]) != r) __builtin_trap(); /* names are unique */
    const hy_point *p = hy_landmark_table_row(&t, r);
    for (int k = 0; k < t.n_landmarks; k++)
      if (!isfinite(p[k].x) || !isfinite(p[k].y)) __builtin_trap();
  }
  hy_landmark_table_free(&t);
}

static void text(const char *s, size_t size, int expect) {
  hy_point *pts = NULL;
  int n = -1;
  hy_error err = {0};
  hy_status st = hy_landmark_text_parse(&pts, &n, s, size, "fuzz.txt", expect, &err);
  fuzz_check_refusal(st, &err);
  if (st != HY_OK) {
    if (pts || n != 0) __builtin_trap();
    return;
  }
  if (n <= 0 || n > HY_LANDMARKS_MAX || (expect && n != expect)) __builtin_trap();
  for (int k = 0; k < n; k++)
    if (!isfinite(pts[k].x) || !isfinite(pts[k].y)) __builtin_trap();
  free(pts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  csv(s, size);
  text(s, size, 0);
  text(s, size, 19);
  return 0;
}
