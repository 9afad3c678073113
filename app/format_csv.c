/* CSV, one row per image (exchange.h). Read by column name: image, split
 * (ignored), spacing_mm, spacing_source, lK_x, lK_y, lK_state. */
#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange-private.h"

/* Image names are written bare: a field with a comma, quote or line break
 * would need quoting that the data sets' readers do not do. */
static gboolean plain_field(const char *s) {
  return !strpbrk(s, ",\"\r\n");
}

char *hy_format_csv_write(HyAnnotation *const *a, int n, HyLandmarkSet *set, double spacing,
                          GError **error) {
  int count = hy_landmark_set_get_count(set);
  GString *out = g_string_new("image");
  for (int k = 1; k <= count; k++) g_string_append_printf(out, ",l%d_x,l%d_y", k, k);
  g_string_append(out, ",spacing_mm,spacing_source");
  for (int k = 1; k <= count; k++) g_string_append_printf(out, ",l%d_state", k);
  g_string_append_c(out, '\n');
  for (int r = 0; r < n; r++) {
    const HyAnnotation *an = a[r];
    if (!plain_field(an->image_file)) {
      g_set_error(error, HY_EXCHANGE_ERROR, HY_EXCHANGE_ERROR_UNSUPPORTED,
                  _("%s: an image name with a comma, quote or line break cannot go in a CSV"),
                  an->image_file);
      g_string_free(out, TRUE);
      return NULL;
    }
    g_string_append(out, an->image_file);
    for (int k = 0; k < count; k++) {
      const HyAnnotationPoint *p = &an->points[k];
      g_string_append_c(out, ',');
      if (p->state != HY_LANDMARK_ABSENT && isfinite(p->x)) hy_format_number(out, p->x);
      g_string_append_c(out, ',');
      if (p->state != HY_LANDMARK_ABSENT && isfinite(p->y)) hy_format_number(out, p->y);
    }
    double s = spacing > 0 ? spacing : an->spacing_mm;
    HySpacingSource src = spacing > 0 ? HY_SPACING_USER : an->spacing_source;
    g_string_append_c(out, ',');
    if (s > 0) g_string_append_printf(out, "%.9g", s);
    g_string_append_printf(out, ",%s", hy_spacing_source_to_string(s > 0 ? src : HY_SPACING_UNKNOWN));
    for (int k = 0; k < count; k++)
      g_string_append_printf(out, ",%s", hy_landmark_state_to_string(an->points[k].state));
    g_string_append_c(out, '\n');
  }
  return g_string_free(out, FALSE);
}

typedef enum { COL_IGNORED, COL_IMAGE, COL_SPACING, COL_SOURCE, COL_X, COL_Y, COL_STATE } column_kind;

typedef struct column {
  column_kind kind;
  int landmark; /* 0-based, for COL_X/Y/STATE */
} column;

static char *field_text(const char *s) {
  char *t = g_strstrip(g_strdup(s));
  size_t n = strlen(t);
  if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
    memmove(t, t + 1, n - 2);
    t[n - 2] = '\0';
  }
  return t;
}

static gboolean parse_column(const char *name, int count, column *c) {
  int k = 0;
  char what[8] = {0}, extra = 0;
  if (!g_ascii_strcasecmp(name, "image")) c->kind = COL_IMAGE;
  else if (!g_ascii_strcasecmp(name, "split")) c->kind = COL_IGNORED;
  else if (!g_ascii_strcasecmp(name, "spacing_mm")) c->kind = COL_SPACING;
  else if (!g_ascii_strcasecmp(name, "spacing_source")) c->kind = COL_SOURCE;
  else if ((name[0] == 'l' || name[0] == 'L') && sscanf(name + 1, "%d_%6[a-zA-Z]%c", &k, what, &extra) == 2 &&
           k >= 1 && k <= count) {
    c->landmark = k - 1;
    if (!g_ascii_strcasecmp(what, "x")) c->kind = COL_X;
    else if (!g_ascii_strcasecmp(what, "y")) c->kind = COL_Y;
    else if (!g_ascii_strcasecmp(what, "state")) c->kind = COL_STATE;
    else return FALSE;
  } else
    return FALSE;
  return TRUE;
}

static gboolean parse_number(const char *s, double *v) {
  char *end = NULL;
  errno = 0;
  *v = g_ascii_strtod(s, &end);
  return *s && !errno && end && !*end && isfinite(*v) && !g_str_has_prefix(s, "0x");
}

/* One data row into a (fresh from hy_format_new_annotation). */
static gboolean read_row(char **fields, const column *cols, int n_cols, HyAnnotation *a,
                         const char *origin, int line, GError **error) {
  gboolean has_state = FALSE;
  for (int c = 0; c < n_cols; c++) has_state |= cols[c].kind == COL_STATE;
  for (int c = 0; c < n_cols; c++) {
    g_autofree char *f = field_text(fields[c]);
    g_autofree char *where = g_strdup_printf(_("line %d, column %d"), line, c + 1);
    HyAnnotationPoint *p = cols[c].kind >= COL_X ? &a->points[cols[c].landmark] : NULL;
    double v;
    switch (cols[c].kind) {
    case COL_IGNORED: break;
    case COL_IMAGE:
      if (!*f) return hy_format_fail(error, origin, where, _("empty image name")), FALSE;
      g_free(a->image_file);
      a->image_file = g_steal_pointer(&f);
      break;
    case COL_SPACING:
      if (!*f) break;
      if (!parse_number(f, &v) || v <= 0)
        return hy_format_fail(error, origin, where, _("not a positive number")), FALSE;
      a->spacing_mm = v;
      if (a->spacing_source == HY_SPACING_UNKNOWN) a->spacing_source = HY_SPACING_FILE;
      break;
    case COL_SOURCE:
      if (*f && !hy_spacing_source_from_string(f, &a->spacing_source))
        return hy_format_fail(error, origin, where, _("unknown spacing source")), FALSE;
      break;
    case COL_X:
    case COL_Y:
      if (!*f) break;
      if (!parse_number(f, &v)) return hy_format_fail(error, origin, where, _("not a number")), FALSE;
      if (cols[c].kind == COL_X) p->x = v; else p->y = v;
      if (!has_state) p->state = HY_LANDMARK_CONFIRMED;
      break;
    case COL_STATE:
      if (!hy_landmark_state_from_string(f, &p->state))
        return hy_format_fail(error, origin, where, _("unknown landmark state")), FALSE;
      break;
    }
  }
  for (int k = 0; k < a->n_points; k++) {
    HyAnnotationPoint *p = &a->points[k];
    g_autofree char *where = g_strdup_printf(_("line %d, landmark %d"), line, k + 1);
    if (isnan(p->x) != isnan(p->y))
      return hy_format_fail(error, origin, where, _("x and y must both be empty or numbers")), FALSE;
    if (p->state == HY_LANDMARK_ABSENT) p->x = p->y = NAN;
    else if (isnan(p->x))
      return hy_format_fail(error, origin, where, _("a placed landmark needs x and y")), FALSE;
  }
  if (a->spacing_mm <= 0) a->spacing_source = HY_SPACING_UNKNOWN;
  return TRUE;
}

GPtrArray *hy_format_csv_read(const char *data, gsize len, const char *origin,
                              HyLandmarkSet *set, GError **error) {
  if (memchr(data, '\0', len))
    return hy_format_fail(error, origin, _("line 1"), _("not text (a NUL byte)")), NULL;
  g_autofree char *text = g_strndup(data, len);
  const char *start = g_str_has_prefix(text, "\xEF\xBB\xBF") ? text + 3 : text;
  g_auto(GStrv) lines = g_strsplit(start, "\n", -1);
  int count = hy_landmark_set_get_count(set);
  g_auto(GStrv) header = g_strsplit(lines[0] ? lines[0] : "", ",", -1);
  int n_cols = (int)g_strv_length(header);
  g_autofree column *cols = g_new0(column, MAX(n_cols, 1));
  g_autofree guint8 *seen = g_new0(guint8, (gsize)count * 3 + 8);
  gboolean has_image = FALSE;
  for (int c = 0; c < n_cols; c++) {
    g_autofree char *name = field_text(header[c]);
    g_autofree char *where = g_strdup_printf(_("line 1, column %d"), c + 1);
    if (!parse_column(name, count, &cols[c])) {
      g_autofree char *what = g_strdup_printf(_("unknown column '%s' (for %d landmarks)"), name, count);
      return hy_format_fail(error, origin, where, what), NULL;
    }
    int kind = (int)cols[c].kind;
    int slot = kind >= COL_X ? 8 + cols[c].landmark * 3 + (kind - COL_X) : kind;
    if (cols[c].kind != COL_IGNORED && seen[slot]++)
      return hy_format_fail(error, origin, where, _("a repeated column")), NULL;
    has_image |= cols[c].kind == COL_IMAGE;
  }
  for (int k = 0; k < count; k++)
    if (!seen[8 + k * 3] || !seen[8 + k * 3 + 1]) {
      g_autofree char *what = g_strdup_printf(_("no columns l%d_x and l%d_y"), k + 1, k + 1);
      return hy_format_fail(error, origin, _("line 1"), what), NULL;
    }
  if (!has_image) return hy_format_fail(error, origin, _("line 1"), _("no column 'image'")), NULL;
  GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)hy_annotation_free);
  for (int l = 1; lines[l]; l++) {
    g_strchomp(lines[l]);
    if (!lines[l][0]) continue;
    g_auto(GStrv) fields = g_strsplit(lines[l], ",", -1);
    if ((int)g_strv_length(fields) != n_cols) {
      g_autofree char *where = g_strdup_printf(_("line %d"), l + 1);
      g_autofree char *what = g_strdup_printf(_("%u fields, the header has %d"),
                                              g_strv_length(fields), n_cols);
      hy_format_fail(error, origin, where, what);
      g_ptr_array_unref(all);
      return NULL;
    }
    HyAnnotation *a = hy_format_new_annotation("", set);
    g_ptr_array_add(all, a);
    if (!read_row(fields, cols, n_cols, a, origin, l + 1, error)) {
      g_ptr_array_unref(all);
      return NULL;
    }
  }
  if (all->len == 0) {
    hy_format_fail(error, origin, "/", _("no data rows"));
    g_ptr_array_unref(all);
    return NULL;
  }
  return all;
}
