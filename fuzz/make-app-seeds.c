/* Writes the seeds of the import targets, one folder per format under
 * argv[1] (import_slicer, import_coco, import_csv, import_isbi): generated
 * ISBI 2015 annotations, with every landmark state, exported with the
 * project's own writers (app/exchange.h). fuzz/make-corpus adds the
 * hand-written files of tests/data/exchange and the DICOM seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "fileio.h"

static HyAnnotation *annotation(HyLandmarkSet *set, int seed, double spacing) {
  g_autofree char *name = g_strdup_printf("%03d.bmp", seed);
  HyAnnotation *a = hy_annotation_new(name, 1935, 2400, "isbi2015", 19);
  for (int k = 0; k < 19; k++) {
    HyAnnotationPoint *p = &a->points[k];
    g_free(p->name);
    p->name = g_strdup(hy_landmark_set_get_landmark_name(set, k));
    p->x = p->predicted_x = 300 + 61.5 * k + seed;
    p->y = p->predicted_y = 500 + 73.25 * ((k * 7 + seed) % 19);
    p->confidence = (k % 10) / 10.0;
    p->state = (HyLandmarkState)((k + seed) % 3);
  }
  if (seed % 2) {
    a->points[seed % 19].state = HY_LANDMARK_ABSENT;
    a->points[seed % 19].x = a->points[seed % 19].y = NAN;
  }
  a->spacing_mm = spacing;
  a->spacing_source = spacing > 0 ? HY_SPACING_DICOM : HY_SPACING_UNKNOWN;
  return a;
}

static void write_seed(const char *root, const char *format, int i, const char *text) {
  g_autofree char *dir = g_strdup_printf("%s/import_%s", root, format);
  g_mkdir_with_parents(dir, 0755);
  g_autofree char *path = g_strdup_printf("%s/seed-%d", dir, i);
  hy_error err = {0};
  if (hy_write_file_atomic(path, text, strlen(text), &err) != HY_OK) {
    fprintf(stderr, "make-app-seeds: %s\n", err.msg);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: make-app-seeds OUT LANDMARKS_DIR\n");
    return 2;
  }
  GError *error = NULL;
  g_autofree char *path = g_build_filename(argv[2], "isbi2015.json", NULL);
  HyLandmarkSet *set = hy_landmark_set_new_from_file(path, &error);
  if (!set) g_error("%s", error->message);
  HyAnnotation *as[3] = {annotation(set, 0, 0.1), annotation(set, 1, 0.125), annotation(set, 2, 0)};
  static const char *names[] = {"slicer", "coco", "csv", "isbi"};
  for (int f = HY_EXCHANGE_SLICER; f <= HY_EXCHANGE_ISBI; f++) {
    int n = hy_exchange_format_holds_many(f) ? 3 : 1;
    for (int i = 0; i < 3; i++) {
      char *text = hy_exchange_write(f, &as[i], hy_exchange_format_holds_many(f) ? n - i : 1, set,
                                     f == HY_EXCHANGE_SLICER && i == 2 ? 0.1 : 0, &error);
      if (!text) {
        g_clear_error(&error); /* e.g. ISBI text cannot hold an absent landmark */
        continue;
      }
      write_seed(argv[1], names[f], i, text);
      g_free(text);
    }
  }
  for (int i = 0; i < 3; i++) hy_annotation_free(as[i]);
  g_object_unref(set);
  return 0;
}
