#include "report.h"

#include <cairo-pdf.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h: it uses FILE */

#include "analysis.h"
#include "config.h"
#include "fileio.h"
#include "overlay.h"

/* A4 in points, and the page's layout */
#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN 40.0
#define IMAGE_W 250.0
#define IMAGE_H 330.0
#define IMAGE_TOP 96.0
#define IMAGE_PX 1400 /* longer side of the rendered image: ~400 dpi at IMAGE_H */
#define ROW_H 14.0
#define JPEG_QUALITY 90 /* the image goes into the PDF as JPEG: ~20 times smaller than Flate */

static void text(cairo_t *cr, double x, double y, double size, gboolean bold, const char *s) {
  cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, s);
}

/* s shortened with "…" to fit width at the current font (g_free). */
static char *fit(cairo_t *cr, const char *s, double width) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  if (e.x_advance <= width) return g_strdup(s);
  g_autoptr(GString) t = g_string_new(s);
  while (t->len > 0) {
    const char *prev = g_utf8_find_prev_char(t->str, t->str + t->len);
    g_string_truncate(t, prev ? (gsize)(prev - t->str) : 0);
    g_autofree char *shorter = g_strconcat(t->str, "\xE2\x80\xA6", NULL);
    cairo_text_extents(cr, shorter, &e);
    if (e.x_advance <= width) return g_steal_pointer(&shorter);
  }
  return g_strdup("\xE2\x80\xA6");
}

static void fitted(cairo_t *cr, double x, double y, double size, gboolean bold, double width,
                   const char *s) {
  cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  g_autofree char *t = fit(cr, s, width);
  text(cr, x, y, size, bold, t);
}

/* s (RGB24) as a JPEG in memory (free() it), for cairo to embed as is. */
static unsigned char *encode_jpeg(cairo_surface_t *s, unsigned long *len) {
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *data = cairo_image_surface_get_data(s);
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  unsigned char *out = NULL;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &out, len);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, JPEG_QUALITY, TRUE);
  jpeg_start_compress(&c, TRUE);
  g_autofree unsigned char *row = g_malloc((gsize)w * 3);
  while (c.next_scanline < c.image_height) {
    /* cairo's RGB24 is a native-endian 0x00RRGGBB per pixel */
    const guint32 *px = (const guint32 *)(data + (size_t)c.next_scanline * (size_t)stride);
    for (int x = 0; x < w; x++) {
      row[3 * x] = (unsigned char)(px[x] >> 16);
      row[3 * x + 1] = (unsigned char)(px[x] >> 8);
      row[3 * x + 2] = (unsigned char)px[x];
    }
    JSAMPROW rows[1] = {row};
    jpeg_write_scanlines(&c, rows, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return out;
}

/* The image with the landmarks, and the model's points where they were moved. */
static gboolean draw_image(cairo_t *cr, const HyAnnotation *a, const hy_image *img,
                           GError **error) {
  int n = a->n_points;
  g_autofree hy_point *now = g_new(hy_point, (gsize)n);
  g_autofree hy_point *was = g_new(hy_point, (gsize)n);
  gboolean any_moved = FALSE;
  for (int k = 0; k < n; k++) {
    const HyAnnotationPoint *p = &a->points[k];
    gboolean absent = p->state == HY_LANDMARK_ABSENT;
    now[k] = (hy_point){absent ? NAN : p->x, absent ? NAN : p->y};
    gboolean moved = p->state == HY_LANDMARK_MOVED && isfinite(p->predicted_x);
    was[k] = (hy_point){moved ? p->predicted_x : NAN, moved ? p->predicted_y : NAN};
    any_moved |= moved;
  }
  HyOverlayLayer layers[2] = {{_("landmarks"), now, n, NULL}, {_("model's position"), was, n, NULL}};
  cairo_surface_t *s = hy_overlay_render(img, IMAGE_PX, layers, any_moved ? 2 : 1, error);
  if (!s) return FALSE;
  unsigned long jpeg_len = 0;
  unsigned char *jpeg = encode_jpeg(s, &jpeg_len);
  cairo_surface_set_mime_data(s, CAIRO_MIME_TYPE_JPEG, jpeg, jpeg_len, free, jpeg);
  double w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  double scale = MIN(IMAGE_W / w, IMAGE_H / h);
  cairo_save(cr);
  cairo_translate(cr, MARGIN, IMAGE_TOP);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_set_line_width(cr, 0.5);
  cairo_rectangle(cr, MARGIN, IMAGE_TOP, w * scale, h * scale);
  cairo_stroke(cr);
  cairo_surface_destroy(s);
  return TRUE;
}

/* Model, correction state, spacing: the right column. */
static void draw_summary(cairo_t *cr, const HyAnnotation *a, HyLandmarkSet *set,
                         const HyAnalysis *an) {
  int count[4] = {0};
  double conf = 0;
  int n_conf = 0;
  for (int k = 0; k < a->n_points; k++) {
    count[a->points[k].state]++;
    if (isfinite(a->points[k].confidence)) conf += a->points[k].confidence, n_conf++;
  }
  double x = MARGIN + IMAGE_W + 20, w = PAGE_W - MARGIN - x, y = IMAGE_TOP + 10;
  cairo_set_source_rgb(cr, 0, 0, 0);
  const char *model = a->model ? a->model : _("none (landmarks placed by hand or imported)");
  g_autofree char *set_line = g_strdup_printf(_("%s, %d landmarks"),
                                              hy_landmark_set_get_title(set), a->n_points);
  g_autofree char *state = g_strdup_printf(_("%d predicted, %d moved, %d confirmed, %d absent"),
                                           count[HY_LANDMARK_PREDICTED], count[HY_LANDMARK_MOVED],
                                           count[HY_LANDMARK_CONFIRMED], count[HY_LANDMARK_ABSENT]);
  const char *review = count[HY_LANDMARK_PREDICTED] == 0
                           ? _("Every landmark was checked by a person.")
                           : _("Some landmarks are the model's, unchecked.");
  g_autofree char *conf_line = n_conf ? g_strdup_printf(_("mean %.2f over %d landmarks"), conf / n_conf, n_conf)
                                      : g_strdup(_("none (not predicted)"));
  g_autofree char *spacing = hy_analysis_format_spacing(an);
  const char *labels[] = {_("Landmark set"), _("Model"), _("Model confidence"), _("Correction state"),
                          NULL, _("Pixel spacing")};
  const char *values[] = {set_line, model, conf_line, state, review, spacing};
  for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
    if (labels[i]) {
      text(cr, x, y, 8, TRUE, labels[i]);
      y += 11;
    }
    fitted(cr, x, y, 8.5, FALSE, w, values[i]);
    y += 17;
  }
  /* the classification at a glance */
  y += 6;
  text(cr, x, y, 8, TRUE, _("Classification"));
  y += 11;
  int shown = 0;
  for (int i = 0; i < an->n_rows && y < IMAGE_TOP + IMAGE_H; i++) {
    const HyAnalysisRow *r = &an->rows[i];
    if (r->def->m.n_classes == 0) continue;
    g_autofree char *c = hy_analysis_format_class(r);
    g_autofree char *line = g_strdup_printf("%s: %s", r->def->m.id, c);
    fitted(cr, x, y, 8.5, FALSE, w, line);
    y += 12;
    shown++;
  }
  if (!shown) fitted(cr, x, y, 8.5, FALSE, w, _("This landmark set defines no classes."));
}

static void draw_table(cairo_t *cr, const HyAnalysis *an, double y) {
  const double col[] = {MARGIN, MARGIN + 215, MARGIN + 285, MARGIN + 360};
  const double end = PAGE_W - MARGIN;
  cairo_set_source_rgb(cr, 0, 0, 0);
  text(cr, MARGIN, y, 11, TRUE, _("Measurements"));
  y += 16;
  const char *heads[] = {_("Measurement"), _("Value"), _("Normal"), _("Class")};
  for (int c = 0; c < 4; c++) text(cr, col[c], y, 8, TRUE, heads[c]);
  cairo_set_line_width(cr, 0.6);
  cairo_move_to(cr, MARGIN, y + 4);
  cairo_line_to(cr, end, y + 4);
  cairo_stroke(cr);
  y += ROW_H;
  if (an->n_rows == 0) {
    text(cr, MARGIN, y, 8.5, FALSE, _("This landmark set defines no measurements."));
    return;
  }
  for (int i = 0; i < an->n_rows; i++) {
    if (y > PAGE_H - MARGIN - 40) {
      g_autofree char *more = g_strdup_printf(_("… and %d more (see hyatt measure)"), an->n_rows - i);
      text(cr, MARGIN, y, 8.5, FALSE, more);
      return;
    }
    const HyAnalysisRow *r = &an->rows[i];
    if (i % 2 == 0) {
      cairo_set_source_rgb(cr, 0.94, 0.95, 0.97);
      cairo_rectangle(cr, MARGIN, y - ROW_H + 4, end - MARGIN, ROW_H);
      cairo_fill(cr);
    }
    gboolean outside = r->normal && r->klass && r->klass != r->normal;
    cairo_set_source_rgb(cr, 0, 0, 0);
    /* "SNA  SNA angle" says SNA twice */
    g_autofree char *name = g_str_has_prefix(r->def->name, r->def->m.id)
                                ? g_strdup(r->def->name)
                                : g_strdup_printf("%s  %s", r->def->m.id, r->def->name);
    g_autofree char *value = hy_analysis_format_value(r);
    g_autofree char *normal = hy_analysis_format_normal(r);
    g_autofree char *klass = hy_analysis_format_class(r);
    fitted(cr, col[0], y, 8.5, FALSE, col[1] - col[0] - 6, name);
    fitted(cr, col[1], y, 8.5, outside, col[2] - col[1] - 6, value);
    fitted(cr, col[2], y, 8.5, FALSE, col[3] - col[2] - 6, normal);
    if (outside) cairo_set_source_rgb(cr, 0.7, 0.1, 0.05);
    fitted(cr, col[3], y, 8.5, outside, end - col[3], klass);
    y += ROW_H;
  }
}

static cairo_status_t append(void *closure, const unsigned char *data, unsigned int length) {
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean hy_report_write_pdf(const HyAnnotation *a, HyLandmarkSet *set, const hy_image *img,
                             const char *path, GError **error) {
  g_return_val_if_fail(a && HY_IS_LANDMARK_SET(set) && img && path, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail(a->n_points == hy_landmark_set_get_count(set), FALSE);
  g_autoptr(HyAnalysis) an = hy_analysis_new(set, a);
  g_autoptr(GByteArray) pdf = g_byte_array_new();
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(append, pdf, PAGE_W, PAGE_H);
  cairo_t *cr = cairo_create(surface);
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *date = g_date_time_format(now, "%Y-%m-%d %H:%M");
  g_autofree char *title = g_strdup_printf(_("Landmark report: %s"), a->image_file);
  g_autofree char *sub = g_strdup_printf(_("%d x %d pixels · annotation modified %s · report made %s"),
                                         a->width, a->height, a->modified ? a->modified : _("never"),
                                         date);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Hyatt Studio " PACKAGE_VERSION);
  cairo_set_source_rgb(cr, 0, 0, 0);
  fitted(cr, MARGIN, MARGIN + 14, 16, TRUE, PAGE_W - 2 * MARGIN, title);
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  fitted(cr, MARGIN, MARGIN + 32, 8.5, FALSE, PAGE_W - 2 * MARGIN, sub);
  gboolean ok = draw_image(cr, a, img, error);
  if (ok) {
    draw_summary(cr, a, set, an);
    draw_table(cr, an, IMAGE_TOP + IMAGE_H + 30);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    g_autofree char *foot = g_strdup_printf(
        _("Hyatt Studio %s. Landmarks found by a model must be checked by a clinician; "
          "this report is not a diagnosis."), PACKAGE_VERSION);
    fitted(cr, MARGIN, PAGE_H - MARGIN + 10, 7, FALSE, PAGE_W - 2 * MARGIN, foot);
  }
  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_status_t st = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (!ok) return FALSE;
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("cannot draw the report: %s"),
                cairo_status_to_string(st));
    return FALSE;
  }
  hy_error err = {0};
  if (hy_write_file_atomic(path, pdf->data, pdf->len, &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  return TRUE;
}
