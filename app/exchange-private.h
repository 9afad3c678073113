/* What the format files (format_*.c) share with exchange.c. */
#pragma once

#include <json-glib/json-glib.h>

#include "exchange.h"

G_BEGIN_DECLS

/* One format's writer and reader; arguments as hy_exchange_write/read, with
 * spacing already resolved per annotation by the caller for writing. */
char *hy_format_slicer_write(const HyAnnotation *a, HyLandmarkSet *set, double spacing,
                             GError **error);
GPtrArray *hy_format_slicer_read(const char *data, gsize len, const char *origin,
                                 HyLandmarkSet *set, double spacing, GError **error);
char *hy_format_coco_write(HyAnnotation *const *a, int n, HyLandmarkSet *set, double spacing,
                           GError **error);
GPtrArray *hy_format_coco_read(const char *data, gsize len, const char *origin,
                               HyLandmarkSet *set, GError **error);
char *hy_format_csv_write(HyAnnotation *const *a, int n, HyLandmarkSet *set, double spacing,
                          GError **error);
GPtrArray *hy_format_csv_read(const char *data, gsize len, const char *origin,
                              HyLandmarkSet *set, GError **error);
char *hy_format_isbi_write(const HyAnnotation *a, GError **error);
GPtrArray *hy_format_isbi_read(const char *data, gsize len, const char *origin,
                               HyLandmarkSet *set, GError **error);

/* A number for text formats: at most 3 decimals, no trailing zeros, C locale. */
void hy_format_number(GString *out, double v);
/* An annotation for set with every landmark absent and named from the set. */
HyAnnotation *hy_format_new_annotation(const char *image, HyLandmarkSet *set);
/* A JSON tree's text with a final newline. */
char *hy_format_json_text(JsonNode *root);
/* Sets a HY_EXCHANGE_ERROR_INVALID "origin: field: what". */
void hy_format_fail(GError **error, const char *origin, const char *field, const char *what);

G_END_DECLS
