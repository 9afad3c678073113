/* Checked access to parsed JSON for the JSON formats (format_coco.c,
 * format_slicer.c): each getter fails with "origin: path: what". Below
 * them, the JsonBuilder members that every JSON writer of app/ shares. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct HyJsonReader {
  const char *origin; /* borrowed: names the data in messages */
  GError **error;
} HyJsonReader;

/* The root of data (owned by parser), an object; NULL after an error. */
JsonObject *hy_json_parse_object(HyJsonReader *r, JsonParser *parser, const char *data,
                                 gsize len);
/* Member `name` of o, of the given kind; NULL when missing and optional. */
JsonObject *hy_json_object(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                           gboolean optional, gboolean *ok);
JsonArray *hy_json_array(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                         gboolean optional, gboolean *ok);
/* A string (borrowed), or NULL when missing and optional. */
const char *hy_json_string(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                           gboolean optional, gboolean *ok);
/* A finite number; `fallback` when missing (or null) and optional. */
double hy_json_number(HyJsonReader *r, JsonObject *o, const char *path, const char *name,
                      gboolean optional, double fallback, gboolean *ok);
/* A finite number as array element i. */
double hy_json_element_number(HyJsonReader *r, JsonArray *a, const char *path, guint i,
                              gboolean *ok);

/* Member `name` = v; a NULL string or a non-finite number is written null. */
void hy_json_add_string(JsonBuilder *b, const char *name, const char *v);
void hy_json_add_number(JsonBuilder *b, const char *name, double v);
void hy_json_add_int(JsonBuilder *b, const char *name, gint64 v);
void hy_json_add_bool(JsonBuilder *b, const char *name, gboolean v);

G_END_DECLS
