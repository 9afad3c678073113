#include "dataset.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

#define SPLIT_FILE_MAX ((size_t)16 * 1024 * 1024)

static const char *const IMAGE_EXTENSIONS[] = {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"};

static char *join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *s = malloc(a + b + 2);
  if (!s) return NULL;
  memcpy(s, dir, a);
  s[a] = '/';
  memcpy(s + a + 1, name, b + 1);
  return s;
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *base_name(const char *path) {
  const char *end = path + strlen(path);
  while (end > path && end[-1] == '/') end--;
  const char *s = end;
  while (s > path && s[-1] != '/') s--;
  return s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every DIR/NAME_px.csv, sorted, as annotators named NAME. */
static hy_status detect_annotators(hy_dataset_spec *spec, const char *dir, hy_error *err) {
  DIR *d = opendir(dir);
  if (!d) return hy_fail(err, HY_E_IO, "cannot open the data set folder %s", dir);
  char *found[HY_DATASET_MAX_ANNOTATORS + 1];
  int n = 0;
  hy_status st = HY_OK;
  for (struct dirent *e; st == HY_OK && (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len <= 7 || strcmp(e->d_name + len - 7, "_px.csv") != 0) continue;
    if (n == HY_DATASET_MAX_ANNOTATORS)
      st = hy_fail(err, HY_E_LIMIT, "%s: more than %d annotator files (*_px.csv)", dir,
                   HY_DATASET_MAX_ANNOTATORS);
    else if (len - 7 >= HY_DATASET_NAME_LEN || len >= sizeof spec->annotators[0].file)
      st = hy_fail(err, HY_E_LIMIT, "%s/%s: annotator file name too long", dir, e->d_name);
    else if (!(found[n++] = strdup(e->d_name)))
      st = hy_fail(err, HY_E_NOMEM, "out of memory listing %s", dir);
  }
  closedir(d);
  if (st == HY_OK && n == 0)
    st = hy_fail(err, HY_E_FORMAT, "%s: no landmark file (*_px.csv) in the data set folder", dir);
  if (st == HY_OK) {
    qsort(found, (size_t)n, sizeof *found, cmp_str);
    for (int i = 0; i < n; i++) {
      size_t len = strlen(found[i]);
      snprintf(spec->annotators[i].name, sizeof spec->annotators[i].name, "%.*s",
               (int)(len - 7), found[i]);
      snprintf(spec->annotators[i].file, sizeof spec->annotators[i].file, "%s", found[i]);
    }
    spec->n_annotators = n;
  }
  for (int i = 0; i < n; i++) free(found[i]);
  return st;
}

/* The image of id: the id itself if it names a file, else id + each known
 * extension. NULL (and *oom = 0) when none exists. */
static char *find_image(const char *images, const char *id, int *oom) {
  *oom = 0;
  char *p = join(images, id);
  if (!p) return *oom = 1, NULL;
  if (strchr(id, '.') && is_file(p)) return p;
  size_t len = strlen(p);
  char *q = realloc(p, len + 8);
  if (!q) {
    free(p);
    return *oom = 1, NULL;
  }
  for (size_t i = 0; i < sizeof IMAGE_EXTENSIONS / sizeof *IMAGE_EXTENSIONS; i++) {
    strcpy(q + len, IMAGE_EXTENSIONS[i]);
    if (is_file(q)) return q;
  }
  free(q);
  return NULL;
}

typedef struct id_list {
  char **ids;
  int n, cap;
} id_list;

static int id_list_add(id_list *l, const char *s, size_t n) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    char **ids = realloc(l->ids, (size_t)cap * sizeof *ids);
    if (!ids) return 0;
    l->ids = ids;
    l->cap = cap;
  }
  char *id = malloc(n + 1);
  if (!id) return 0;
  memcpy(id, s, n);
  id[n] = 0;
  l->ids[l->n++] = id;
  return 1;
}

static void id_list_free(id_list *l) {
  for (int i = 0; i < l->n; i++) free(l->ids[i]);
  free(l->ids);
  memset(l, 0, sizeof *l);
}

/* One id per line, blanks trimmed, blank lines and '#' comments skipped;
 * an id listed twice is refused. */
static hy_status read_split_file(id_list *out, const char *path, hy_error *err) {
  void *data = NULL;
  size_t len = 0;
  hy_status st = hy_read_file(path, SPLIT_FILE_MAX, &data, &len, err);
  if (st != HY_OK) return st;
  const char *s = data, *end = s + len;
  int *lines = NULL, line = 0;
  while (st == HY_OK && s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end;
    line++;
    const char *a = s, *b = e;
    if (line == 1 && b - a >= 3 && memcmp(a, "\xEF\xBB\xBF", 3) == 0) a += 3;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
    s = nl ? nl + 1 : end;
    if (a == b || *a == '#') continue;
    if (memchr(a, '\0', (size_t)(b - a)) || memchr(a, ',', (size_t)(b - a)))
      st = hy_fail(err, HY_E_FORMAT, "%s:%d: not a sample id", path, line);
    for (int i = 0; st == HY_OK && i < out->n; i++)
      if (strlen(out->ids[i]) == (size_t)(b - a) && memcmp(out->ids[i], a, (size_t)(b - a)) == 0)
        st = hy_fail(err, HY_E_FORMAT, "%s:%d: id '%.*s' listed twice (first on line %d)", path,
                     line, (int)(b - a), a, lines[i]);
    if (st != HY_OK) break;
    int *nl_lines = realloc(lines, (size_t)(out->n + 1) * sizeof *lines);
    if (!nl_lines || !id_list_add(out, a, (size_t)(b - a))) {
      if (nl_lines) lines = nl_lines;
      st = hy_fail(err, HY_E_NOMEM, "%s: out of memory", path);
      break;
    }
    lines = nl_lines;
    lines[out->n - 1] = line;
  }
  free(lines);
  free(data);
  if (st == HY_OK && out->n == 0) st = hy_fail(err, HY_E_FORMAT, "%s: no sample ids", path);
  return st;
}

/* The ids of a split named in the first CSV's split column, in row order. */
static hy_status split_from_column(id_list *out, const hy_landmark_table *t, const char *split) {
  for (int r = 0; r < t->n_rows; r++)
    if (!t->splits || strcmp(split, "all") == 0 || strcmp(t->splits[r], split) == 0)
      if (!id_list_add(out, t->images[r], strlen(t->images[r]))) return HY_E_NOMEM;
  return HY_OK;
}

/* Whether the CSV's split column puts some row in split. */
static int column_has_split(const hy_landmark_table *t, const char *split) {
  for (int r = 0; t->splits && r < t->n_rows; r++)
    if (strcmp(t->splits[r], split) == 0) return 1;
  return 0;
}

static int has_split(const char *dir, const hy_landmark_table *t, const char *split) {
  char name[80];
  snprintf(name, sizeof name, "%s.txt", split);
  char *path = join(dir, name);
  int yes = path && is_file(path);
  free(path);
  return yes || column_has_split(t, split);
}

static int valid_split_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= 60) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("_.-", *s)))
      return 0;
  return 1;
}

static hy_status fill_spec(hy_dataset_spec *spec, const char *dir, hy_error *err) {
  if (!spec->name[0]) snprintf(spec->name, sizeof spec->name, "%.63s", base_name(dir));
  if (!spec->landmark_set[0]) memcpy(spec->landmark_set, spec->name, sizeof spec->name);
  if (!spec->images[0]) strcpy(spec->images, "images");
  if (spec->n_annotators < 0 || spec->n_annotators > HY_DATASET_MAX_ANNOTATORS)
    return hy_fail(err, HY_E_ARG, "data set %s: %d annotators is not in 0..%d", dir,
                   spec->n_annotators, HY_DATASET_MAX_ANNOTATORS);
  if (spec->n_annotators == 0) return detect_annotators(spec, dir, err);
  return HY_OK;
}

static hy_status measure_spacing(hy_dataset *ds, hy_error *err) {
  const hy_dataset_spec *s = &ds->spec;
  int a = s->spacing_landmarks[0], b = s->spacing_landmarks[1];
  if (a == 0 && b == 0) {
    if (!(isfinite(s->spacing_mm) && s->spacing_mm > 0))
      return hy_fail(err, HY_E_ARG, "data set %s (%s) has no pixel spacing: its descriptor gives "
                                    "no spacing_mm", s->name, ds->dir);
    for (int i = 0; i < ds->n; i++) ds->spacing[i] = s->spacing_mm;
    return HY_OK;
  }
  if (a < 1 || b < 1 || a > ds->K || b > ds->K || a == b)
    return hy_fail(err, HY_E_ARG, "data set %s: spacing landmarks %d and %d are not two of 1..%d",
                   s->name, a, b, ds->K);
  if (!(isfinite(s->spacing_distance_mm) && s->spacing_distance_mm > 0))
    return hy_fail(err, HY_E_ARG, "data set %s: spacing distance %g mm is not positive", s->name,
                   s->spacing_distance_mm);
  for (int i = 0; i < ds->n; i++) {
    const hy_point *p = ds->mean + (size_t)i * ds->K;
    double d = hypot(p[a - 1].x - p[b - 1].x, p[a - 1].y - p[b - 1].y);
    if (!(d >= 1))
      return hy_fail(err, HY_E_FORMAT, "data set %s, id '%s': landmarks %d and %d are %g px apart, "
                                       "cannot measure the spacing", s->name, ds->ids[i], a, b, d);
    ds->spacing[i] = s->spacing_distance_mm / d;
  }
  return HY_OK;
}

hy_status hy_dataset_open(hy_dataset *ds, const char *dir, const hy_dataset_spec *spec,
                          const char *split, hy_error *err) {
  memset(ds, 0, sizeof *ds);
  if (!dir || !*dir) return hy_fail(err, HY_E_ARG, "no data set folder given");
  if (!is_dir(dir)) return hy_fail(err, HY_E_IO, "data set folder %s does not exist", dir);
  if (split && !valid_split_name(split))
    return hy_fail(err, HY_E_ARG, "split name '%s' is not [A-Za-z0-9_.-]+", split);
  if (spec) ds->spec = *spec;
  ds->dir = strdup(dir);
  if (!ds->dir) return hy_fail(err, HY_E_NOMEM, "out of memory");
  hy_status st = fill_spec(&ds->spec, dir, err);
  hy_landmark_table tables[HY_DATASET_MAX_ANNOTATORS] = {0};
  char *csv[HY_DATASET_MAX_ANNOTATORS] = {0};
  id_list ids = {0};
  char *images = NULL;
  ds->n_annotators = ds->spec.n_annotators;
  for (int a = 0; st == HY_OK && a < ds->n_annotators; a++) {
    if (!(csv[a] = join(dir, ds->spec.annotators[a].file)))
      st = hy_fail(err, HY_E_NOMEM, "out of memory");
    else
      st = hy_landmark_csv_load(&tables[a], csv[a], err);
    if (st == HY_OK && a > 0 && tables[a].n_landmarks != tables[0].n_landmarks)
      st = hy_fail(err, HY_E_FORMAT, "%s has %d landmarks per row but %s has %d", csv[a],
                   tables[a].n_landmarks, csv[0], tables[0].n_landmarks);
  }
  if (st == HY_OK) {
    ds->K = tables[0].n_landmarks;
    if (ds->K > HY_DATASET_MAX_LANDMARKS)
      st = hy_fail(err, HY_E_LIMIT, "%s has %d landmarks per row, at most %d", csv[0], ds->K,
                   HY_DATASET_MAX_LANDMARKS);
    else if (ds->spec.n_landmark_names && ds->spec.n_landmark_names != ds->K)
      st = hy_fail(err, HY_E_FORMAT, "%s has %d landmarks per row but the descriptor of %s names %d",
                   csv[0], ds->K, ds->spec.name, ds->spec.n_landmark_names);
  }
  if (st == HY_OK && !ds->spec.n_landmark_names) {
    for (int k = 0; k < ds->K; k++)
      snprintf(ds->spec.landmark_names[k], HY_DATASET_NAME_LEN, "%d", k + 1);
    ds->spec.n_landmark_names = ds->K;
  }
  /* the split's ids */
  if (st == HY_OK) {
    if (!split) split = has_split(dir, &tables[0], "train") ? "train" : "all";
    snprintf(ds->split, sizeof ds->split, "%s", split);
    char name[80];
    snprintf(name, sizeof name, "%s.txt", split);
    char *path = join(dir, name);
    if (!path)
      st = hy_fail(err, HY_E_NOMEM, "out of memory");
    else if (is_file(path))
      st = read_split_file(&ids, path, err);
    else if (strcmp(split, "all") == 0 || has_split(dir, &tables[0], split)) {
      if (split_from_column(&ids, &tables[0], split) != HY_OK)
        st = hy_fail(err, HY_E_NOMEM, "out of memory");
    } else
      st = hy_fail(err, HY_E_ARG, "data set %s has no split '%s': no file %s%s", dir, split, path,
                   tables[0].splits ? " and no such value in the CSV's split column" : "");
    if (st == HY_OK && ids.n == 0)
      st = hy_fail(err, HY_E_FORMAT, "data set %s: split '%s' is empty", dir, split);
    free(path);
  }
  /* every id: in every CSV, with an image */
  if (st == HY_OK) {
    ds->n = ids.n;
    ds->ids = ids.ids;
    ids.ids = NULL;
    ids.n = 0;
    ds->paths = calloc((size_t)ds->n, sizeof *ds->paths);
    ds->mean = calloc((size_t)ds->n * ds->K, sizeof *ds->mean);
    ds->spacing = calloc((size_t)ds->n, sizeof *ds->spacing);
    int ok = ds->paths && ds->mean && ds->spacing;
    for (int a = 0; ok && a < ds->n_annotators; a++)
      ok = (ds->points[a] = calloc((size_t)ds->n * ds->K, sizeof **ds->points)) != NULL;
    images = join(dir, ds->spec.images);
    if (!ok || !images) st = hy_fail(err, HY_E_NOMEM, "out of memory for data set %s", dir);
  }
  for (int i = 0; st == HY_OK && i < ds->n; i++) {
    const char *id = ds->ids[i];
    for (int a = 0; st == HY_OK && a < ds->n_annotators; a++) {
      int r = hy_landmark_table_find(&tables[a], id);
      if (r < 0) {
        st = hy_fail(err, HY_E_FORMAT, "%s: id '%s' of split '%s' is not in the file", csv[a], id,
                     ds->split);
        break;
      }
      /* a split file that disagrees with the CSV's split column would let
         test images into training; a split the column does not name (a
         subset chosen for an experiment) may take ids from any */
      if (tables[a].splits && tables[a].splits[r][0] && strcmp(tables[a].splits[r], ds->split) &&
          column_has_split(&tables[a], ds->split)) {
        st = hy_fail(err, HY_E_FORMAT, "%s: id '%s' is in split '%s' but its split column says '%s'",
                     csv[a], id, ds->split, tables[a].splits[r]);
        break;
      }
      memcpy(ds->points[a] + (size_t)i * ds->K, hy_landmark_table_row(&tables[a], r),
             (size_t)ds->K * sizeof(hy_point));
    }
    if (st != HY_OK) break;
    int oom = 0;
    ds->paths[i] = find_image(images, id, &oom);
    if (oom)
      st = hy_fail(err, HY_E_NOMEM, "out of memory");
    else if (!ds->paths[i])
      st = hy_fail(err, HY_E_IO, "%s/%s: no image file for id '%s' of split '%s' (tried %s, .png, "
                                 ".jpg, .jpeg)", images, id, id, ds->split, id);
    for (int k = 0; st == HY_OK && k < ds->K; k++) {
      double x = 0, y = 0;
      for (int a = 0; a < ds->n_annotators; a++) {
        x += ds->points[a][(size_t)i * ds->K + k].x;
        y += ds->points[a][(size_t)i * ds->K + k].y;
      }
      ds->mean[(size_t)i * ds->K + k] = (hy_point){x / ds->n_annotators, y / ds->n_annotators};
    }
  }
  if (st == HY_OK) st = measure_spacing(ds, err);
  for (int a = 0; a < HY_DATASET_MAX_ANNOTATORS; a++) {
    hy_landmark_table_free(&tables[a]);
    free(csv[a]);
  }
  id_list_free(&ids);
  free(images);
  if (st != HY_OK) hy_dataset_free(ds);
  return st;
}

void hy_dataset_free(hy_dataset *ds) {
  if (!ds) return;
  for (int i = 0; ds->ids && i < ds->n; i++) free(ds->ids[i]);
  for (int i = 0; ds->paths && i < ds->n; i++) free(ds->paths[i]);
  free(ds->ids);
  free(ds->paths);
  for (int a = 0; a < HY_DATASET_MAX_ANNOTATORS; a++) free(ds->points[a]);
  free(ds->mean);
  free(ds->spacing);
  free(ds->dir);
  memset(ds, 0, sizeof *ds);
}

hy_status hy_dataset_reference(const hy_dataset *ds, const char *name, int *index,
                               hy_error *err) {
  if (name && strcmp(name, "mean") == 0) {
    *index = HY_DATASET_MEAN;
    return HY_OK;
  }
  for (int a = 0; name && a < ds->n_annotators; a++)
    if (strcmp(name, ds->spec.annotators[a].name) == 0) {
      *index = a;
      return HY_OK;
    }
  char names[256] = "mean";
  for (int a = 0; a < ds->n_annotators; a++) {
    size_t len = strlen(names);
    snprintf(names + len, sizeof names - len, ", %s", ds->spec.annotators[a].name);
  }
  return hy_fail(err, HY_E_ARG, "data set %s has no reference '%s' (%s)", ds->spec.name,
                 name ? name : "(none)", names);
}

const hy_point *hy_dataset_points(const hy_dataset *ds, int reference, int i) {
  const hy_point *base = reference == HY_DATASET_MEAN ? ds->mean : ds->points[reference];
  return base + (size_t)i * ds->K;
}
