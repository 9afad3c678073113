#include "image_file.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom.h"
#include "fileio.h"

#define SNIFF_BYTES 132 /* DICOM: a 128-byte preamble, then "DICM" */

static size_t read_head(const char *path, unsigned char *buf) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, SNIFF_BYTES, f);
  fclose(f);
  return n;
}

gboolean hy_image_file_sniff(const char *path) {
  unsigned char head[SNIFF_BYTES];
  size_t n = read_head(path, head);
  return hy_dicom_sniff(head, n) || (n >= 4 && !memcmp(head, "\x89PNG", 4)) ||
         (n >= 3 && !memcmp(head, "\xFF\xD8\xFF", 3));
}

gboolean hy_image_file_load(const char *path, hy_image *out, HyImageMeta *meta, GError **error) {
  g_return_val_if_fail(path && out && meta, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  memset(meta, 0, sizeof *meta);
  unsigned char head[SNIFF_BYTES];
  hy_error err = {0};
  if (!hy_dicom_sniff(head, read_head(path, head))) {
    if (hy_image_load(out, path, &err) == HY_OK) return TRUE;
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  void *data = NULL;
  size_t len = 0;
  if (hy_read_file(path, HY_IMAGE_MAX_FILE_BYTES, &data, &len, &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  g_autofree char *disp = g_filename_display_name(path);
  HyDicomInfo info;
  gboolean ok = hy_dicom_decode(data, len, disp, out, &info, error);
  free(data);
  if (!ok) return FALSE;
  meta->is_dicom = TRUE;
  meta->spacing_mm = info.spacing_mm;
  meta->spacing_source = info.spacing_mm > 0 ? HY_SPACING_DICOM : HY_SPACING_UNKNOWN;
  meta->spacing_tag = info.spacing_tag;
  meta->window_center = info.window_center;
  meta->window_width = info.window_width;
  return TRUE;
}

void hy_image_apply_window(hy_image *img, double center, double width) {
  g_return_if_fail(img && width > 0);
  double lo = center - 0.5 * width;
  size_t n = (size_t)img->width * (size_t)img->height;
  for (size_t i = 0; i < n; i++) {
    double v = (img->pixels[i] - lo) / width;
    img->pixels[i] = (float)CLAMP(v, 0.0, 1.0);
  }
}
