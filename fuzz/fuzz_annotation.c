/* The annotation loader (app/annotation.c, json-glib) on arbitrary bytes,
 * without a landmark set and with a 3-landmark one. A refusal must come as
 * one line; an accepted file must hold only what the loader promises
 * (finite or NaN-paired coordinates near the image, confidences in [0, 1],
 * moved and confirmed landmarks placed), and saving it must give text that
 * loads again to the same annotation. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "annotation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static HyLandmarkSet *tri;

static void check_error(const GError *error) {
  if (!error || !error->message[0] || strchr(error->message, '\n')) __builtin_trap();
}

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_point(const HyAnnotation *a, const HyAnnotationPoint *p) {
  if (!p->name || isnan(p->x) != isnan(p->y)) __builtin_trap();
  if ((p->state == HY_LANDMARK_MOVED || p->state == HY_LANDMARK_CONFIRMED) && isnan(p->x))
    __builtin_trap();
  if (!isnan(p->confidence) && (p->confidence < 0 || p->confidence > 1)) __builtin_trap();
  const double v[] = {p->x, p->y, p->predicted_x, p->predicted_y};
  const int size[] = {a->width, a->height, a->width, a->height};
  for (int i = 0; i < 4; i++)
    if (!isnan(v[i]) && (!isfinite(v[i]) || v[i] < -0.5 - size[i] || v[i] > 2.0 * size[i]))
      __builtin_trap();
}

static void check_equal(const HyAnnotation *a, const HyAnnotation *b) {
  if (a->n_points != b->n_points || a->width != b->width || a->height != b->height ||
      g_strcmp0(a->image_file, b->image_file) || g_strcmp0(a->sha256, b->sha256) ||
      g_strcmp0(a->landmark_set, b->landmark_set) || g_strcmp0(a->model, b->model) ||
      !same(a->spacing_mm, b->spacing_mm))
    __builtin_trap();
  for (int i = 0; i < a->n_points; i++) {
    const HyAnnotationPoint *p = &a->points[i], *q = &b->points[i];
    if (p->state != q->state || g_strcmp0(p->name, q->name) || g_strcmp0(p->model, q->model) ||
        !same(p->x, q->x) || !same(p->y, q->y) || !same(p->predicted_x, q->predicted_x) ||
        !same(p->predicted_y, q->predicted_y) || !same(p->confidence, q->confidence))
      __builtin_trap();
  }
}

static void load(const char *text, size_t size, HyLandmarkSet *set) {
  GError *error = NULL;
  HyAnnotation *a = hy_annotation_load_from_data(text, size, "fuzz.json", set, &error);
  if (!a) {
    check_error(error);
    g_error_free(error);
    return;
  }
  if (error || a->n_points < 1 || a->width < 1 || a->height < 1 || a->spacing_mm < 0)
    __builtin_trap();
  if (set && a->n_points != hy_landmark_set_get_count(set)) __builtin_trap();
  for (int i = 0; i < a->n_points; i++) check_point(a, &a->points[i]);
  char *again = hy_annotation_to_data(a);
  HyAnnotation *b = hy_annotation_load_from_data(again, strlen(again), "again.json", set, &error);
  if (!b) __builtin_trap();
  check_equal(a, b);
  hy_annotation_free(b);
  g_free(again);
  hy_annotation_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!tri) {
    static const char json[] =
        "{\"format_version\": 1, \"name\": \"tri\", \"version\": 1, \"count\": 3,"
        " \"landmarks\": ["
        "  {\"index\": 1, \"name\": \"One\", \"abbreviation\": \"P1\", \"colour\": \"#e69f00\"},"
        "  {\"index\": 2, \"name\": \"Two\", \"abbreviation\": \"P2\", \"colour\": \"#56b4e9\"},"
        "  {\"index\": 3, \"name\": \"Three\", \"abbreviation\": \"P3\", \"colour\": \"#009e73\"}]}";
    tri = hy_landmark_set_new_from_data(json, -1, "tri.json", NULL);
    if (!tri) __builtin_trap();
  }
  load((const char *)data, size, NULL);
  load((const char *)data, size, tri);
  return 0;
}
