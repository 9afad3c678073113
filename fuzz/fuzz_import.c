/* One import format (app/exchange.h; FUZZ_FORMAT is set per target by
 * fuzz/build) on arbitrary bytes, for the ISBI 2015 set: a refusal is one
 * line; what is accepted has the set's landmarks, each absent or at finite
 * x and y, confidences in [0, 1], a finite spacing; and it writes back in
 * the same format (or is refused as unsupported there) and reads again. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exchange.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static HyLandmarkSet *set;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  GError *error = NULL;
  set = hy_landmark_set_new_from_file(HY_SOURCE_DIR "/data/landmarks/isbi2015.json", &error);
  if (!set) g_error("%s", error->message);
  return 0;
}

static void check_refusal(GError *error) {
  if (!error || !error->message[0] || strchr(error->message, '\n')) __builtin_trap();
  g_error_free(error);
}

static void check(const HyAnnotation *a) {
  if (a->n_points != hy_landmark_set_get_count(set) || !a->image_file) __builtin_trap();
  if (!isfinite(a->spacing_mm) || a->spacing_mm < 0 || a->width < 0 || a->height < 0)
    __builtin_trap();
  for (int k = 0; k < a->n_points; k++) {
    const HyAnnotationPoint *p = &a->points[k];
    if (p->state > HY_LANDMARK_ABSENT || isnan(p->x) != isnan(p->y) || isinf(p->x) || isinf(p->y))
      __builtin_trap();
    if (p->state == HY_LANDMARK_ABSENT && !isnan(p->x)) __builtin_trap();
    if ((p->state == HY_LANDMARK_MOVED || p->state == HY_LANDMARK_CONFIRMED) && isnan(p->x))
      __builtin_trap();
    if (!isnan(p->confidence) && !(p->confidence >= 0 && p->confidence <= 1)) __builtin_trap();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  GError *error = NULL;
  GPtrArray *all = hy_exchange_read(FUZZ_FORMAT, (const char *)data, size, "fuzz.txt", set, 0.1,
                                    &error);
  if (!all) {
    check_refusal(error);
    return 0;
  }
  if (error || all->len == 0) __builtin_trap();
  for (guint i = 0; i < all->len; i++) check(all->pdata[i]);
  /* one file per image for Slicer and ISBI text */
  int n = hy_exchange_format_holds_many(FUZZ_FORMAT) ? (int)all->len : 1;
  char *text = hy_exchange_write(FUZZ_FORMAT, (HyAnnotation **)all->pdata, n, set, 0, &error);
  if (!text) {
    if (!g_error_matches(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED)) __builtin_trap();
    check_refusal(error);
  } else {
    GPtrArray *again = hy_exchange_read(FUZZ_FORMAT, text, strlen(text), "fuzz.txt", set, 0.1,
                                        &error);
    if (!again || (int)again->len != n) __builtin_trap();
    g_ptr_array_unref(again);
    g_free(text);
  }
  g_ptr_array_unref(all);
  return 0;
}
