#include "landmark_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hy_landmark_source_split(const char *spec, char **file, char **row) {
  const char *colon = strrchr(spec, ':');
  *row = NULL;
  if (g_file_test(spec, G_FILE_TEST_EXISTS) || !colon || strchr(colon, G_DIR_SEPARATOR)) {
    *file = g_strdup(spec);
    return;
  }
  *file = g_strndup(spec, (gsize)(colon - spec));
  *row = g_strdup(colon + 1);
}

gboolean hy_landmark_source_is_csv(const char *path) {
  g_autofree char *lower = g_ascii_strdown(path, -1);
  if (g_str_has_suffix(lower, ".csv")) return TRUE;
  if (g_str_has_suffix(lower, ".txt")) return FALSE;
  FILE *f = fopen(path, "rb");
  if (!f) return FALSE; /* the text reader reports the failure */
  char buf[64] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = buf;
  if (g_str_has_prefix(p, "\xEF\xBB\xBF")) p += 3;
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '"') p++;
  return g_ascii_strncasecmp(p, "image", 5) == 0;
}

char *hy_landmark_source_stem(const char *path) {
  char *base = g_path_get_basename(path);
  char *dot = strrchr(base, '.');
  if (dot && dot != base) *dot = '\0';
  return base;
}

int hy_landmark_source_find_row(const hy_landmark_table *t, const char *row, const char *image) {
  if (row) return hy_landmark_table_find(t, row);
  if (!image) return t->n_rows == 1 ? 0 : -1;
  g_autofree char *stem = hy_landmark_source_stem(image);
  int r = hy_landmark_table_find(t, stem);
  if (r < 0) {
    g_autofree char *base = g_path_get_basename(image);
    r = hy_landmark_table_find(t, base);
  }
  return r;
}

hy_status hy_landmark_source_text(hy_point **out, int *n, const char *path, int expect,
                                  hy_error *err) {
  hy_point *p = NULL;
  hy_status st = hy_landmark_text_load(&p, n, path, expect, err);
  if (st != HY_OK) return st;
  *out = g_memdup2(p, sizeof(hy_point) * (gsize)*n);
  free(p);
  return HY_OK;
}
