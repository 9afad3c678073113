#include "overlay.h"

#include <gio/gio.h>
#include <math.h>

#include "fileio.h"

void hy_overlay_landmark_colour(int index, double rgb[3]) {
  /* Evenly spaced hues, visited with a stride of 7 (coprime to 20) so that
   * consecutive landmarks, which are often neighbours, differ strongly. */
  int k = ((index % HY_OVERLAY_N_COLOURS) + HY_OVERLAY_N_COLOURS) % HY_OVERLAY_N_COLOURS;
  double h = (double)((k * 7) % HY_OVERLAY_N_COLOURS) * 6.0 / HY_OVERLAY_N_COLOURS;
  double s = 0.85, v = 1.0;
  int sector = (int)h;
  double f = h - sector, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r[6] = {v, q, p, p, t, v}, g[6] = {t, v, v, q, p, p}, b[6] = {p, p, t, v, v, q};
  rgb[0] = r[sector];
  rgb[1] = g[sector];
  rgb[2] = b[sector];
  /* Blues and purples are dark: lighten them towards white so that every
   * colour reads on a dark background. */
  double luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2], min_luma = 0.6;
  if (luma < min_luma) {
    double w = (min_luma - luma) / (1.0 - luma);
    for (int c = 0; c < 3; c++) rgb[c] += w * (1.0 - rgb[c]);
  }
}

static guint8 grey8(float v) {
  if (!(v > 0.0f)) return 0; /* also NaN */
  if (v >= 1.0f) return 255;
  return (guint8)lrintf(v * 255.0f);
}

/* Area average of img into an out_w x out_h RGB24 surface. */
static void fill_grey(cairo_surface_t *s, const hy_image *img, int out_w, int out_h) {
  cairo_surface_flush(s);
  unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  int *x0 = g_new(int, (gsize)out_w + 1);
  for (int ox = 0; ox <= out_w; ox++)
    x0[ox] = (int)((gint64)ox * img->width / out_w);
  float *acc = g_new(float, (gsize)out_w);
  for (int oy = 0; oy < out_h; oy++) {
    int y0 = (int)((gint64)oy * img->height / out_h);
    int y1 = MAX(y0 + 1, (int)((gint64)(oy + 1) * img->height / out_h));
    guint32 *row = (guint32 *)(void *)(data + (gsize)oy * (gsize)stride);
    for (int ox = 0; ox < out_w; ox++) acc[ox] = 0.0f;
    for (int y = y0; y < y1; y++) {
      const float *src = img->pixels + (gsize)y * (gsize)img->width;
      for (int ox = 0; ox < out_w; ox++) {
        int x1 = MAX(x0[ox] + 1, x0[ox + 1]);
        float sum = 0.0f;
        for (int x = x0[ox]; x < x1; x++) sum += src[x];
        acc[ox] += sum / (float)(x1 - x0[ox]);
      }
    }
    for (int ox = 0; ox < out_w; ox++) {
      guint32 g = grey8(acc[ox] / (float)(y1 - y0));
      row[ox] = (g << 16) | (g << 8) | g;
    }
  }
  g_free(acc);
  g_free(x0);
  cairo_surface_mark_dirty(s);
}

typedef struct box {
  double x, y, w, h;
} box;

static double overlap(box a, box b) {
  double w = MIN(a.x + a.w, b.x + b.w) - MAX(a.x, b.x);
  double h = MIN(a.y + a.h, b.y + b.h) - MAX(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0.0;
}

typedef struct style {
  double r;     /* marker radius */
  double lw;    /* line width of markers and joining lines */
  double ow;    /* width of the dark outline on each side of a line */
  double font;  /* label font size */
  double scale_x, scale_y;
} style;

static void to_surface(const style *st, hy_point p, double *x, double *y) {
  *x = (p.x + 0.5) * st->scale_x;
  *y = (p.y + 0.5) * st->scale_y;
}

static int drawable(hy_point p) { return isfinite(p.x) && isfinite(p.y); }

/* Strokes the current path twice: dark and wide, then in colour. */
static void stroke_outlined(cairo_t *cr, const style *st, double lw, const double rgb[3]) {
  cairo_set_source_rgba(cr, 0, 0, 0, 0.8);
  cairo_set_line_width(cr, lw + 2 * st->ow);
  cairo_stroke_preserve(cr);
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width(cr, lw);
  cairo_stroke(cr);
}

/* Strokes the outline in the current path as mark asks, at line width lw;
 * outer (a path function) adds the second outline of a double mark. */
static void stroke_mark(cairo_t *cr, const style *st, double lw, const double rgb[3],
                        HyOverlayMark mark) {
  if (mark == HY_OVERLAY_MARK_DASHED) {
    double dash = st->r * 0.55;
    cairo_set_dash(cr, &dash, 1, 0);
  }
  stroke_outlined(cr, st, lw, rgb);
  cairo_set_dash(cr, NULL, 0, 0);
}

static void ring_marker(cairo_t *cr, const style *st, double x, double y, const double rgb[3],
                        HyOverlayMark mark) {
  cairo_new_path(cr);
  cairo_arc(cr, x, y, st->r, 0, 2 * G_PI);
  stroke_mark(cr, st, st->lw, rgb, mark);
  if (mark == HY_OVERLAY_MARK_DOUBLE) {
    cairo_new_path(cr);
    cairo_arc(cr, x, y, st->r * 1.6, 0, 2 * G_PI);
    stroke_outlined(cr, st, st->lw * 0.8, rgb);
  }
  cairo_arc(cr, x, y, st->r * 0.3, 0, 2 * G_PI);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.8);
  cairo_set_line_width(cr, 2 * st->ow);
  cairo_stroke_preserve(cr);
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  cairo_fill(cr);
}

static void diamond_path(cairo_t *cr, double x, double y, double d) {
  cairo_new_path(cr);
  cairo_move_to(cr, x, y - d);
  cairo_line_to(cr, x + d, y);
  cairo_line_to(cr, x, y + d);
  cairo_line_to(cr, x - d, y);
  cairo_close_path(cr);
}

static void diamond_marker(cairo_t *cr, const style *st, double x, double y, const double rgb[3],
                           HyOverlayMark mark) {
  diamond_path(cr, x, y, st->r * 1.15);
  stroke_mark(cr, st, st->lw * 0.8, rgb, mark);
  if (mark == HY_OVERLAY_MARK_DOUBLE) {
    diamond_path(cr, x, y, st->r * 1.8);
    stroke_outlined(cr, st, st->lw * 0.7, rgb);
  }
}

static void outlined_text(cairo_t *cr, const style *st, double x, double y,
                          const char *text, const double rgb[3]) {
  cairo_new_path(cr);
  cairo_move_to(cr, x, y);
  cairo_text_path(cr, text);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.9);
  cairo_set_line_width(cr, st->font * 0.2);
  cairo_stroke_preserve(cr);
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  cairo_fill(cr);
}

/* Numbers each landmark of the first layer at whichever of eight spots
 * around it covers the fewest other labels and markers. */
static void draw_labels(cairo_t *cr, const style *st, const HyOverlayLayer *layers,
                        int n_layers, double width, double height) {
  int n = layers[0].n_points;
  GArray *taken = g_array_new(FALSE, FALSE, sizeof(box));
  for (int l = 0; l < n_layers; l++)
    for (int i = 0; i < n; i++) {
      if (!drawable(layers[l].points[i])) continue;
      double x, y;
      to_surface(st, layers[l].points[i], &x, &y);
      box b = {x - st->r, y - st->r, 2 * st->r, 2 * st->r};
      g_array_append_val(taken, b);
    }
  cairo_set_font_size(cr, st->font);
  for (int i = 0; i < n; i++) {
    if (!drawable(layers[0].points[i])) continue;
    double x, y, rgb[3];
    to_surface(st, layers[0].points[i], &x, &y);
    char text[16];
    g_snprintf(text, sizeof text, "%d", i + 1);
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    double d = st->r * 1.25, w = e.width, h = e.height;
    const box spots[8] = {
      {x + d, y - d - h, w, h}, {x + d, y - h / 2, w, h}, {x + d, y + d, w, h},
      {x - w / 2, y + d, w, h}, {x - d - w, y + d, w, h}, {x - d - w, y - h / 2, w, h},
      {x - d - w, y - d - h, w, h}, {x - w / 2, y - d - h, w, h},
    };
    int best = 0;
    double best_cost = G_MAXDOUBLE;
    for (int k = 0; k < 8; k++) {
      box b = spots[k];
      double cost = 0;
      for (guint j = 0; j < taken->len; j++) cost += overlap(b, g_array_index(taken, box, j));
      /* area cut off by the image border counts as covered */
      cost += w * h - overlap(b, (box){0, 0, width, height});
      if (cost < best_cost - 1e-9) {
        best_cost = cost;
        best = k;
      }
    }
    box b = spots[best];
    g_array_append_val(taken, b);
    hy_overlay_landmark_colour(i, rgb);
    outlined_text(cr, st, b.x - e.x_bearing, b.y - e.y_bearing, text, rgb);
  }
  g_array_unref(taken);
}

static void draw_legend(cairo_t *cr, const style *st, const HyOverlayLayer *layers,
                        int n_layers) {
  double font = st->font * 0.8, pad = font * 0.5, line = font * 1.5;
  double glyph = st->r * 2.4;
  const double white[3] = {1, 1, 1};
  cairo_set_font_size(cr, font);
  double text_w = 0;
  int entries = 0;
  for (int l = 0; l < n_layers; l++) {
    if (!layers[l].label) continue;
    cairo_text_extents_t e;
    cairo_text_extents(cr, layers[l].label, &e);
    text_w = MAX(text_w, e.x_advance);
    entries++;
  }
  if (!entries) return;
  double x = pad, y = pad;
  double w = pad + glyph + pad + text_w + pad, h = pad + entries * line + pad / 2;
  cairo_rectangle(cr, x, y, w, h);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.65);
  cairo_fill(cr);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  double row = y + pad;
  for (int l = 0; l < n_layers; l++) {
    if (!layers[l].label) continue;
    double cx = x + pad + glyph / 2, cy = row + line / 2;
    if (l == 0)
      ring_marker(cr, st, cx, cy, white, HY_OVERLAY_MARK_PLAIN);
    else
      diamond_marker(cr, st, cx, cy, white, HY_OVERLAY_MARK_PLAIN);
    cairo_move_to(cr, x + pad + glyph + pad, cy + (fe.ascent - fe.descent) / 2);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_show_text(cr, layers[l].label);
    row += line;
  }
}

/* Strongest plane and its value at every map pixel. */
static void strongest(const HyOverlayHeatmap *hm, float *value, guint8 *which) {
  gsize plane = (gsize)hm->h * (gsize)hm->w;
  for (gsize i = 0; i < plane; i++) {
    value[i] = -G_MAXFLOAT;
    which[i] = 0;
  }
  for (int k = 0; k < hm->K; k++) {
    const float *m = hm->maps + (gsize)k * plane;
    guint8 colour = (guint8)(k % HY_OVERLAY_N_COLOURS);
    for (gsize i = 0; i < plane; i++)
      if (m[i] > value[i]) {
        value[i] = m[i];
        which[i] = colour;
      }
  }
}

/* Tints the grey surface with the heatmap layer: per output pixel the max
 * over planes, bilinear, coloured by the nearest map pixel's landmark. */
static void draw_heatmap(cairo_surface_t *s, const HyOverlayHeatmap *hm, double scale_x,
                         double scale_y) {
  const double max_alpha = 0.7, floor_value = 0.05;
  gsize plane = (gsize)hm->h * (gsize)hm->w;
  float *value = g_new(float, plane);
  guint8 *which = g_new(guint8, plane);
  strongest(hm, value, which);
  double palette[HY_OVERLAY_N_COLOURS][3];
  for (int c = 0; c < HY_OVERLAY_N_COLOURS; c++) hy_overlay_landmark_colour(c, palette[c]);

  /* surface px -> original px -> map px */
  hy_affine to_image = {{1.0 / scale_x, 0, 0.5 / scale_x - 0.5, 0, 1.0 / scale_y, 0.5 / scale_y - 0.5}};
  hy_affine a = hy_affine_compose(&to_image, &hm->image_to_map);
  cairo_surface_flush(s);
  unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  int out_w = cairo_image_surface_get_width(s), out_h = cairo_image_surface_get_height(s);
  for (int oy = 0; oy < out_h; oy++) {
    guint32 *row = (guint32 *)(void *)(data + (gsize)oy * (gsize)stride);
    for (int ox = 0; ox < out_w; ox++) {
      double u, v;
      hy_affine_apply(&a, ox, oy, &u, &v);
      if (!(u >= -0.5 && u <= hm->w - 0.5 && v >= -0.5 && v <= hm->h - 0.5)) continue;
      double cu = CLAMP(u, 0.0, hm->w - 1.0), cv = CLAMP(v, 0.0, hm->h - 1.0);
      int iu = MIN((int)cu, hm->w - 1), iv = MIN((int)cv, hm->h - 1);
      int ju = MIN(iu + 1, hm->w - 1), jv = MIN(iv + 1, hm->h - 1);
      double fu = cu - iu, fv = cv - iv;
      const float *top = value + (gsize)iv * (gsize)hm->w, *bot = value + (gsize)jv * (gsize)hm->w;
      double val = (1 - fv) * ((1 - fu) * top[iu] + fu * top[ju]) +
                   fv * ((1 - fu) * bot[iu] + fu * bot[ju]);
      /* the low background level of a trained head stays clear */
      if (!(val > floor_value)) continue; /* also NaN */
      double alpha = max_alpha * MIN((val - floor_value) / (1.0 - floor_value), 1.0);
      gsize nearest = (gsize)(int)(cv + 0.5) * (gsize)hm->w + (gsize)(int)(cu + 0.5);
      const double *rgb = palette[which[nearest]];
      guint32 px = row[ox], out = 0;
      for (int c = 0; c < 3; c++) {
        int shift = 16 - 8 * c;
        double grey = (px >> shift) & 255;
        out |= (guint32)lround(grey + alpha * (255.0 * rgb[c] - grey)) << shift;
      }
      row[ox] = out;
    }
  }
  cairo_surface_mark_dirty(s);
  g_free(which);
  g_free(value);
}

cairo_surface_t *hy_overlay_render(const hy_image *img, int max_size,
                                   const HyOverlayLayer *layers, int n_layers,
                                   GError **error) {
  return hy_overlay_render_heatmap(img, max_size, NULL, layers, n_layers, error);
}

cairo_surface_t *hy_overlay_render_heatmap(const hy_image *img, int max_size,
                                           const HyOverlayHeatmap *heatmap,
                                           const HyOverlayLayer *layers, int n_layers,
                                           GError **error) {
  g_return_val_if_fail(img && img->pixels && img->width > 0 && img->height > 0, NULL);
  g_return_val_if_fail(max_size >= 0, NULL);
  g_return_val_if_fail(n_layers >= 0 && n_layers <= HY_OVERLAY_MAX_LAYERS, NULL);
  g_return_val_if_fail(n_layers == 0 || layers, NULL);
  for (int l = 1; l < n_layers; l++)
    g_return_val_if_fail(layers[l].n_points == layers[0].n_points, NULL);
  g_return_val_if_fail(!heatmap || (heatmap->maps && heatmap->K > 0 && heatmap->h > 0 &&
                                     heatmap->w > 0), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  int long_side = MAX(img->width, img->height);
  int out_w = img->width, out_h = img->height;
  if (max_size > 0 && long_side > max_size) {
    double s = (double)max_size / long_side;
    out_w = MAX(1, (int)lround(img->width * s));
    out_h = MAX(1, (int)lround(img->height * s));
  }
  cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, out_w, out_h);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "cannot create a %d x %d drawing: %s", out_w, out_h,
                cairo_status_to_string(cairo_surface_status(surface)));
    cairo_surface_destroy(surface);
    return NULL;
  }
  fill_grey(surface, img, out_w, out_h);

  double out_long = MAX(out_w, out_h);
  style st;
  st.r = MAX(4.0, out_long * 0.0065);
  st.lw = MAX(1.5, st.r * 0.22);
  st.ow = MAX(1.0, st.lw * 0.45);
  st.font = MAX(10.0, out_long * 0.014);
  st.scale_x = (double)out_w / img->width;
  st.scale_y = (double)out_h / img->height;
  if (heatmap) draw_heatmap(surface, heatmap, st.scale_x, st.scale_y);

  cairo_t *cr = cairo_create(surface);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  int n = n_layers ? layers[0].n_points : 0;
  double rgb[3];
  if (n_layers == 2)
    for (int i = 0; i < n; i++) {
      if (!drawable(layers[0].points[i]) || !drawable(layers[1].points[i])) continue;
      double x0, y0, x1, y1;
      to_surface(&st, layers[0].points[i], &x0, &y0);
      to_surface(&st, layers[1].points[i], &x1, &y1);
      hy_overlay_landmark_colour(i, rgb);
      cairo_new_path(cr);
      cairo_move_to(cr, x0, y0);
      cairo_line_to(cr, x1, y1);
      stroke_outlined(cr, &st, st.lw * 0.6, rgb);
    }
  for (int l = n_layers - 1; l >= 0; l--)
    for (int i = 0; i < n; i++) {
      if (!drawable(layers[l].points[i])) continue;
      double x, y;
      to_surface(&st, layers[l].points[i], &x, &y);
      hy_overlay_landmark_colour(i, rgb);
      HyOverlayMark mark = layers[l].marks ? layers[l].marks[i] : HY_OVERLAY_MARK_PLAIN;
      if (l == 0)
        ring_marker(cr, &st, x, y, rgb, mark);
      else
        diamond_marker(cr, &st, x, y, rgb, mark);
    }
  if (n_layers) {
    draw_labels(cr, &st, layers, n_layers, out_w, out_h);
    draw_legend(cr, &st, layers, n_layers);
  }
  cairo_status_t cs = cairo_status(cr);
  cairo_destroy(cr);
  if (cs != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "drawing failed: %s",
                cairo_status_to_string(cs));
    cairo_surface_destroy(surface);
    return NULL;
  }
  return surface;
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int len) {
  g_byte_array_append(closure, data, len);
  return CAIRO_STATUS_SUCCESS;
}

gboolean hy_overlay_save_png(cairo_surface_t *surface, const char *path, GError **error) {
  g_return_val_if_fail(surface && path, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  g_autoptr(GByteArray) png = g_byte_array_new();
  cairo_status_t cs = cairo_surface_write_to_png_stream(surface, append_bytes, png);
  if (cs != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot encode %s as PNG: %s",
                path, cairo_status_to_string(cs));
    return FALSE;
  }
  hy_error err = {0};
  if (hy_write_file_atomic(path, png->data, png->len, &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  return TRUE;
}
