#include "exchange-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "image.h"
#include "spacing.h"

G_DEFINE_QUARK(hy-exchange-error-quark, hy_exchange_error)

static const struct {
  const char *name, *extension;
  gboolean many;
} formats[] = {
  [HY_EXCHANGE_SLICER] = {"slicer", ".mrk.json", FALSE},
  [HY_EXCHANGE_COCO] = {"coco", ".json", TRUE},
  [HY_EXCHANGE_CSV] = {"csv", ".csv", TRUE},
  [HY_EXCHANGE_ISBI] = {"isbi", ".txt", FALSE},
};

gboolean hy_exchange_format_from_string(const char *name, HyExchangeFormat *format) {
  for (guint i = 0; i < G_N_ELEMENTS(formats); i++)
    if (!g_strcmp0(name, formats[i].name)) {
      *format = (HyExchangeFormat)i;
      return TRUE;
    }
  return FALSE;
}

const char *hy_exchange_format_extension(HyExchangeFormat format) {
  g_return_val_if_fail(format <= HY_EXCHANGE_ISBI, NULL);
  return formats[format].extension;
}

gboolean hy_exchange_format_holds_many(HyExchangeFormat format) {
  g_return_val_if_fail(format <= HY_EXCHANGE_ISBI, FALSE);
  return formats[format].many;
}

char *hy_exchange_write(HyExchangeFormat format, HyAnnotation *const *annotations, int n,
                        HyLandmarkSet *set, double spacing, GError **error) {
  g_return_val_if_fail(format <= HY_EXCHANGE_ISBI, NULL);
  g_return_val_if_fail(annotations && n >= 1, NULL);
  g_return_val_if_fail(HY_IS_LANDMARK_SET(set), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  if (n > 1 && !formats[format].many) {
    g_set_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED,
                _("the %s format holds one image per file, not %d"), formats[format].name, n);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    if (annotations[i]->n_points != hy_landmark_set_get_count(set) ||
        g_strcmp0(annotations[i]->landmark_set, hy_landmark_set_get_name(set))) {
      g_set_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED,
                  _("%s: its %d landmarks of set '%s' are not those of the set '%s'"),
                  annotations[i]->image_file, annotations[i]->n_points,
                  annotations[i]->landmark_set, hy_landmark_set_get_name(set));
      return NULL;
    }
  switch (format) {
  case HY_EXCHANGE_SLICER: return hy_format_slicer_write(annotations[0], set, spacing, error);
  case HY_EXCHANGE_COCO: return hy_format_coco_write(annotations, n, set, spacing, error);
  case HY_EXCHANGE_CSV: return hy_format_csv_write(annotations, n, set, spacing, error);
  case HY_EXCHANGE_ISBI: return hy_format_isbi_write(annotations[0], error);
  }
  g_return_val_if_reached(NULL);
}

/* One coordinate as the annotation loader takes it: within one image size
 * of the image, or of the largest image when the size is not known yet. */
static gboolean coordinate_ok(double v, int size) {
  double s = size > 0 ? size : HY_IMAGE_MAX_SIDE;
  return isnan(v) || (v >= -0.5 - s && v <= 2 * s - 0.5);
}

/* What the annotation loader would refuse once the import is saved. */
static GPtrArray *checked(GPtrArray *all, const char *origin, GError **error) {
  for (guint i = 0; all && i < all->len; i++) {
    HyAnnotation *a = g_ptr_array_index(all, i);
    for (int k = 0; k < a->n_points; k++) {
      const HyAnnotationPoint *p = &a->points[k];
      if (coordinate_ok(p->x, a->width) && coordinate_ok(p->y, a->height)) continue;
      /* by position: names come from the file, and may hold line breaks */
      g_autofree char *field = g_strdup_printf(_("image %u, landmark %d"), i + 1, k + 1);
      g_autofree char *what = g_strdup_printf(_("(%g, %g) is far outside the image"), p->x, p->y);
      hy_format_fail(error, origin, field, what);
      g_ptr_array_unref(all);
      return NULL;
    }
    if (a->spacing_mm > HY_SPACING_MAX_MM) {
      g_autofree char *what = g_strdup_printf(_("a pixel spacing of %g mm is absurd"), a->spacing_mm);
      g_autofree char *field = g_strdup_printf(_("image %u"), i + 1);
      hy_format_fail(error, origin, field, what);
      g_ptr_array_unref(all);
      return NULL;
    }
  }
  return all;
}

GPtrArray *hy_exchange_read(HyExchangeFormat format, const char *data, gsize len,
                            const char *origin, HyLandmarkSet *set, double spacing,
                            GError **error) {
  g_return_val_if_fail(format <= HY_EXCHANGE_ISBI, NULL);
  g_return_val_if_fail(data && origin, NULL);
  g_return_val_if_fail(HY_IS_LANDMARK_SET(set), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  if (len > HY_EXCHANGE_MAX_BYTES) {
    hy_format_fail(error, origin, "/", _("larger than 64 MiB"));
    return NULL;
  }
  switch (format) {
  case HY_EXCHANGE_SLICER:
    return checked(hy_format_slicer_read(data, len, origin, set, spacing, error), origin, error);
  case HY_EXCHANGE_COCO: return checked(hy_format_coco_read(data, len, origin, set, error), origin, error);
  case HY_EXCHANGE_CSV: return checked(hy_format_csv_read(data, len, origin, set, error), origin, error);
  case HY_EXCHANGE_ISBI: return checked(hy_format_isbi_read(data, len, origin, set, error), origin, error);
  }
  g_return_val_if_reached(NULL);
}

void hy_format_number(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.3f", v);
  char *end = buf + strlen(buf);
  while (end > buf && end[-1] == '0') *--end = '\0';
  if (end > buf && end[-1] == '.') *--end = '\0';
  g_string_append(out, strcmp(buf, "-0") == 0 ? "0" : buf);
}

HyAnnotation *hy_format_new_annotation(const char *image, HyLandmarkSet *set) {
  int n = hy_landmark_set_get_count(set);
  HyAnnotation *a = hy_annotation_new(image, 0, 0, hy_landmark_set_get_name(set), n);
  for (int i = 0; i < n; i++) {
    g_free(a->points[i].name);
    a->points[i].name = g_strdup(hy_landmark_set_get_landmark_name(set, i));
    a->points[i].state = HY_LANDMARK_ABSENT;
  }
  return a;
}

char *hy_format_json_text(JsonNode *root) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  return g_strconcat(text, "\n", NULL);
}

void hy_format_fail(GError **error, const char *origin, const char *field, const char *what) {
  g_set_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_INVALID, "%s: %s: %s", origin, field,
              what);
}
