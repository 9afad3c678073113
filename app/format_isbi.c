/* ISBI 2015 text (exchange.h): one "x,y" line per landmark, pixels. */
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>

#include "exchange-private.h"
#include "landmark_source.h"
#include "landmarks.h"

char *hy_format_isbi_write(const HyAnnotation *a, GError **error) {
  GString *out = g_string_new(NULL);
  for (int i = 0; i < a->n_points; i++) {
    const HyAnnotationPoint *p = &a->points[i];
    if (p->state == HY_LANDMARK_ABSENT || !isfinite(p->x) || !isfinite(p->y)) {
      g_set_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED,
                  _("%s: landmark %d (%s) is not placed, and ISBI text cannot say so"),
                  a->image_file, i + 1, p->name);
      g_string_free(out, TRUE);
      return NULL;
    }
    hy_format_number(out, p->x);
    g_string_append_c(out, ',');
    hy_format_number(out, p->y);
    g_string_append_c(out, '\n');
  }
  return g_string_free(out, FALSE);
}

GPtrArray *hy_format_isbi_read(const char *data, gsize len, const char *origin,
                               HyLandmarkSet *set, GError **error) {
  hy_point *pts = NULL;
  int n = 0;
  hy_error err = {0};
  int count = hy_landmark_set_get_count(set);
  if (hy_landmark_text_parse(&pts, &n, data, len, origin, count, &err) != HY_OK) {
    g_set_error_literal(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_INVALID, err.msg);
    return NULL;
  }
  g_autofree char *stem = hy_landmark_source_stem(origin);
  HyAnnotation *a = hy_format_new_annotation(stem, set);
  for (int i = 0; i < n; i++) {
    a->points[i].x = pts[i].x;
    a->points[i].y = pts[i].y;
    a->points[i].state = HY_LANDMARK_CONFIRMED;
  }
  free(pts);
  GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)hy_annotation_free);
  g_ptr_array_add(all, a);
  return all;
}
