#include "landmarks.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

typedef struct span {
  const char *s;
  size_t n;
} span;

typedef struct reader {
  const char *path; /* borrowed, for messages */
  const char *p, *end;
  int line;         /* 1-based number of the line last returned */
  locale_t c_locale; /* owned: strtod must read '.' whatever the user's locale */
} reader;

/* Longest number token read; longer ones are refused rather than cut. */
#define TOKEN_MAX 63

/* Reads len bytes of text at s (borrowed until reader_close). */
static hy_status reader_open(reader *r, const char *s, size_t len, const char *path,
                             hy_error *err) {
  memset(r, 0, sizeof *r);
  const char *nul = len ? memchr(s, '\0', len) : NULL;
  if (nul) {
    int line = 1;
    for (const char *q = s; q < nul; q++) line += *q == '\n';
    return hy_fail(err, HY_E_FORMAT, "%s:%d: NUL byte: not a text file", path, line);
  }
  r->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (!r->c_locale) return hy_fail(err, HY_E_NOMEM, "%s: cannot create the C locale", path);
  r->path = path;
  r->p = s;
  r->end = s + len;
  if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) r->p += 3;
  return HY_OK;
}

static void reader_close(reader *r) {
  if (r->c_locale) freelocale(r->c_locale);
}

/* The next line without its "\n" or "\r\n"; 0 at the end of the file. */
static int next_line(reader *r, span *ln) {
  if (r->p >= r->end) return 0;
  const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
  const char *e = nl ? nl : r->end;
  ln->s = r->p;
  ln->n = (size_t)(e - r->p);
  if (ln->n && ln->s[ln->n - 1] == '\r') ln->n--;
  r->p = nl ? nl + 1 : r->end;
  r->line++;
  return 1;
}

static int is_blank_char(char c) { return c == ' ' || c == '\t'; }

static span trim(span t) {
  while (t.n && is_blank_char(t.s[0])) t.s++, t.n--;
  while (t.n && is_blank_char(t.s[t.n - 1])) t.n--;
  if (t.n >= 2 && t.s[0] == '"' && t.s[t.n - 1] == '"') {
    t.s++;
    t.n -= 2;
  }
  return t;
}

static int is_blank_line(span ln) { return trim(ln).n == 0 && !memchr(ln.s, '"', ln.n); }

/* Splits at commas into at most `max` trimmed fields; returns the count of
 * fields in the line, which may exceed max. */
static int split_fields(span ln, span *f, int max) {
  int n = 0;
  const char *s = ln.s, *end = ln.s + ln.n;
  for (;;) {
    const char *c = memchr(s, ',', (size_t)(end - s));
    const char *e = c ? c : end;
    if (n < max) f[n] = trim((span){s, (size_t)(e - s)});
    n++;
    if (!c) return n;
    s = c + 1;
  }
}

static int span_eq_ci(span t, const char *word) {
  size_t n = strlen(word);
  if (t.n != n) return 0;
  for (size_t i = 0; i < n; i++) {
    char a = t.s[i], b = word[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (a != b) return 0;
  }
  return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [+-]digits[.digits][(e|E)[+-]digits], at least one mantissa digit. */
static int is_decimal(span t) {
  size_t i = 0, digits = 0;
  if (i < t.n && (t.s[i] == '+' || t.s[i] == '-')) i++;
  while (i < t.n && is_digit(t.s[i])) i++, digits++;
  if (i < t.n && t.s[i] == '.') {
    i++;
    while (i < t.n && is_digit(t.s[i])) i++, digits++;
  }
  if (!digits) return 0;
  if (i < t.n && (t.s[i] == 'e' || t.s[i] == 'E')) {
    i++;
    if (i < t.n && (t.s[i] == '+' || t.s[i] == '-')) i++;
    size_t exp_digits = 0;
    while (i < t.n && is_digit(t.s[i])) i++, exp_digits++;
    if (!exp_digits) return 0;
  }
  return i == t.n;
}

/* Reads one number; on failure fills err naming file, line and column. */
static hy_status parse_number(reader *r, span t, int column, const char *name,
                              double *v, hy_error *err) {
  if (!t.n)
    return hy_fail(err, HY_E_FORMAT, "%s:%d: column %d (%s): empty value",
                   r->path, r->line, column, name);
  if (t.n > TOKEN_MAX || !is_decimal(t))
    return hy_fail(err, HY_E_FORMAT, "%s:%d: column %d (%s): '%.*s' is not a number",
                   r->path, r->line, column, name, t.n > 32 ? 32 : (int)t.n, t.s);
  char buf[TOKEN_MAX + 1];
  memcpy(buf, t.s, t.n);
  buf[t.n] = '\0';
  locale_t old = uselocale(r->c_locale);
  char *endp = NULL;
  errno = 0;
  double x = strtod(buf, &endp);
  int range_error = errno == ERANGE;
  uselocale(old);
  /* Underflow to a tiny value is harmless; overflow to Inf is not. */
  if (endp != buf + t.n || !isfinite(x) || (range_error && fabs(x) > 1.0))
    return hy_fail(err, HY_E_FORMAT, "%s:%d: column %d (%s): '%s' is out of range",
                   r->path, r->line, column, name, buf);
  *v = x;
  return HY_OK;
}

static char *span_dup(span t) {
  char *s = malloc(t.n + 1);
  if (!s) return NULL;
  memcpy(s, t.s, t.n);
  s[t.n] = '\0';
  return s;
}

typedef struct name_line {
  const char *name;
  int line;
} name_line;

static int cmp_name_line(const void *a, const void *b) {
  const name_line *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Reports the repeated image name whose second occurrence comes first. */
static hy_status check_unique(const hy_landmark_table *t, const int *lines,
                              const char *path, hy_error *err) {
  name_line *v = malloc((size_t)t->n_rows * sizeof *v);
  if (!v) return hy_fail(err, HY_E_NOMEM, "%s: out of memory", path);
  for (int i = 0; i < t->n_rows; i++) v[i] = (name_line){t->images[i], lines[i]};
  qsort(v, (size_t)t->n_rows, sizeof *v, cmp_name_line);
  int best = -1;
  for (int i = 1; i < t->n_rows; i++)
    if (strcmp(v[i].name, v[i - 1].name) == 0 && (best < 0 || v[i].line < v[best].line))
      best = i;
  hy_status st = HY_OK;
  if (best >= 0)
    st = hy_fail(err, HY_E_FORMAT, "%s:%d: image '%.64s' already appears on line %d",
                 path, v[best].line, v[best].name, v[best - 1].line);
  free(v);
  return st;
}

typedef struct csv_header {
  int n_fields;
  int first_coord; /* 1, or 2 with a split column */
  int n_landmarks;
} csv_header;

static hy_status parse_header(reader *r, span ln, csv_header *h, hy_error *err) {
  int nf = split_fields(ln, NULL, 0);
  if (nf > 2 + 2 * HY_LANDMARKS_MAX)
    return hy_fail(err, HY_E_LIMIT, "%s:%d: %d columns, at most %d landmarks supported",
                   r->path, r->line, nf, HY_LANDMARKS_MAX);
  span *f = malloc((size_t)nf * sizeof *f);
  if (!f) return hy_fail(err, HY_E_NOMEM, "%s: out of memory", r->path);
  split_fields(ln, f, nf);
  hy_status st = HY_OK;
  if (!span_eq_ci(f[0], "image")) {
    st = hy_fail(err, HY_E_FORMAT,
                 "%s:%d: column 1 is '%.*s', expected 'image' (header image,l1_x,l1_y,...)",
                 r->path, r->line, f[0].n > 32 ? 32 : (int)f[0].n, f[0].s);
    goto done;
  }
  h->n_fields = nf;
  h->first_coord = nf > 1 && span_eq_ci(f[1], "split") ? 2 : 1;
  int n_coord = nf - h->first_coord;
  if (n_coord == 0) {
    st = hy_fail(err, HY_E_FORMAT, "%s:%d: no landmark columns after '%s'",
                 r->path, r->line, h->first_coord == 2 ? "split" : "image");
    goto done;
  }
  if (n_coord % 2) {
    st = hy_fail(err, HY_E_FORMAT,
                 "%s:%d: odd number of coordinate columns (%d), expected x,y pairs",
                 r->path, r->line, n_coord);
    goto done;
  }
  h->n_landmarks = n_coord / 2;
  for (int c = h->first_coord; c < nf; c++) {
    int k = (c - h->first_coord) / 2 + 1;
    char want[32];
    snprintf(want, sizeof want, "l%d_%c", k, (c - h->first_coord) % 2 ? 'y' : 'x');
    if (!span_eq_ci(f[c], want)) {
      st = hy_fail(err, HY_E_FORMAT, "%s:%d: column %d is '%.*s', expected '%s'",
                   r->path, r->line, c + 1, f[c].n > 32 ? 32 : (int)f[c].n, f[c].s, want);
      goto done;
    }
  }
done:
  free(f);
  return st;
}

/* Makes room for row n; the arrays of t grow together. */
static int grow_rows(hy_landmark_table *t, int **lines, int *cap, int has_split) {
  if (t->n_rows < *cap) return 1;
  int nc = *cap ? 2 * *cap : 64;
  char **im = realloc(t->images, (size_t)nc * sizeof *im);
  if (!im) return 0;
  t->images = im;
  if (has_split) {
    char **sp = realloc(t->splits, (size_t)nc * sizeof *sp);
    if (!sp) return 0;
    t->splits = sp;
  }
  hy_point *pt = realloc(t->points, (size_t)nc * (size_t)t->n_landmarks * sizeof *pt);
  if (!pt) return 0;
  t->points = pt;
  int *ln = realloc(*lines, (size_t)nc * sizeof *ln);
  if (!ln) return 0;
  *lines = ln;
  *cap = nc;
  return 1;
}

static hy_status parse_rows(reader *r, const csv_header *h, hy_landmark_table *t,
                            int **lines, hy_error *err) {
  span *f = malloc((size_t)h->n_fields * sizeof *f);
  if (!f) return hy_fail(err, HY_E_NOMEM, "%s: out of memory", r->path);
  hy_status st = HY_OK;
  int cap = 0;
  span ln;
  while (next_line(r, &ln)) {
    if (is_blank_line(ln)) continue;
    int nf = split_fields(ln, f, h->n_fields);
    if (nf != h->n_fields) {
      st = hy_fail(err, HY_E_FORMAT, "%s:%d: %d fields, expected %d as in the header",
                   r->path, r->line, nf, h->n_fields);
      break;
    }
    if (!f[0].n) {
      st = hy_fail(err, HY_E_FORMAT, "%s:%d: column 1 (image): empty image name",
                   r->path, r->line);
      break;
    }
    if (!grow_rows(t, lines, &cap, h->first_coord == 2)) {
      st = hy_fail(err, HY_E_NOMEM, "%s:%d: out of memory", r->path, r->line);
      break;
    }
    hy_point *p = t->points + (size_t)t->n_rows * (size_t)t->n_landmarks;
    for (int c = h->first_coord; c < nf && !st; c++) {
      int k = (c - h->first_coord) / 2, is_y = (c - h->first_coord) % 2;
      char name[32];
      snprintf(name, sizeof name, "l%d_%c", k + 1, is_y ? 'y' : 'x');
      st = parse_number(r, f[c], c + 1, name, is_y ? &p[k].y : &p[k].x, err);
    }
    if (st) break;
    char *image = span_dup(f[0]);
    char *split = h->first_coord == 2 ? span_dup(f[1]) : NULL;
    if (!image || (h->first_coord == 2 && !split)) {
      free(image);
      free(split);
      st = hy_fail(err, HY_E_NOMEM, "%s:%d: out of memory", r->path, r->line);
      break;
    }
    t->images[t->n_rows] = image;
    if (split) t->splits[t->n_rows] = split;
    (*lines)[t->n_rows] = r->line;
    t->n_rows++;
  }
  free(f);
  return st;
}

hy_status hy_landmark_csv_load(hy_landmark_table *out, const char *path,
                               hy_error *err) {
  if (!out || !path) return hy_fail(err, HY_E_ARG, "hy_landmark_csv_load: NULL argument");
  memset(out, 0, sizeof *out);
  void *data = NULL;
  size_t len = 0;
  hy_status st = hy_read_file(path, HY_LANDMARK_FILE_MAX, &data, &len, err);
  if (st) return st;
  st = hy_landmark_csv_parse(out, data, len, path, err);
  free(data);
  return st;
}

hy_status hy_landmark_csv_parse(hy_landmark_table *out, const char *text, size_t len,
                                const char *name, hy_error *err) {
  if (!out || (!text && len)) return hy_fail(err, HY_E_ARG, "hy_landmark_csv_parse: NULL argument");
  memset(out, 0, sizeof *out);
  const char *path = name ? name : "landmark text";
  if (!text) text = "";
  reader r;
  hy_status st = reader_open(&r, text, len, path, err);
  if (st) return st;

  span ln = {0};
  int found = 0;
  while ((found = next_line(&r, &ln)) && is_blank_line(ln)) {}
  if (!found) {
    reader_close(&r);
    return hy_fail(err, HY_E_FORMAT, "%s:%d: empty file, expected a header image,l1_x,l1_y,...",
                   path, r.line > 0 ? r.line : 1);
  }
  csv_header h = {0};
  hy_landmark_table t = {0};
  int *lines = NULL;
  st = parse_header(&r, ln, &h, err);
  if (!st) {
    t.n_landmarks = h.n_landmarks;
    st = parse_rows(&r, &h, &t, &lines, err);
  }
  if (!st && t.n_rows == 0)
    st = hy_fail(err, HY_E_FORMAT, "%s:%d: no data rows after the header", path, r.line);
  if (!st) st = check_unique(&t, lines, path, err);
  free(lines);
  reader_close(&r);
  if (st) {
    hy_landmark_table_free(&t);
    return st;
  }
  *out = t;
  return HY_OK;
}

int hy_landmark_table_find(const hy_landmark_table *t, const char *image) {
  if (!t || !image) return -1;
  for (int i = 0; i < t->n_rows; i++)
    if (strcmp(t->images[i], image) == 0) return i;
  return -1;
}

const hy_point *hy_landmark_table_row(const hy_landmark_table *t, int r) {
  if (!t || r < 0 || r >= t->n_rows) return NULL;
  return t->points + (size_t)r * (size_t)t->n_landmarks;
}

void hy_landmark_table_free(hy_landmark_table *t) {
  if (!t) return;
  for (int i = 0; i < t->n_rows; i++) {
    free(t->images[i]);
    if (t->splits) free(t->splits[i]);
  }
  free(t->images);
  free(t->splits);
  free(t->points);
  memset(t, 0, sizeof *t);
}

/* A line of exactly two numbers: 1 and *p set; 0 if it is not "x,y" at all;
 * -1 with err filled if it is two fields of which one is not a number. */
static int parse_xy(reader *r, span ln, hy_point *p, hy_error *err) {
  span f[2];
  if (split_fields(ln, f, 2) != 2) return 0;
  if (parse_number(r, f[0], 1, "x", &p->x, err)) return -1;
  if (parse_number(r, f[1], 2, "y", &p->y, err)) return -1;
  return 1;
}

hy_status hy_landmark_text_load(hy_point **out, int *n, const char *path,
                                int expect, hy_error *err) {
  if (!out || !n || !path)
    return hy_fail(err, HY_E_ARG, "hy_landmark_text_load: NULL argument");
  *out = NULL;
  *n = 0;
  void *data = NULL;
  size_t len = 0;
  hy_status st = hy_read_file(path, HY_LANDMARK_FILE_MAX, &data, &len, err);
  if (st) return st;
  st = hy_landmark_text_parse(out, n, data, len, path, expect, err);
  free(data);
  return st;
}

hy_status hy_landmark_text_parse(hy_point **out, int *n, const char *text, size_t len,
                                 const char *name, int expect, hy_error *err) {
  if (!out || !n || (!text && len))
    return hy_fail(err, HY_E_ARG, "hy_landmark_text_parse: NULL argument");
  *out = NULL;
  *n = 0;
  const char *path = name ? name : "landmark text";
  if (expect < 0 || expect > HY_LANDMARKS_MAX)
    return hy_fail(err, HY_E_ARG, "%s: expected landmark count %d out of range 0..%d",
                   path, expect, HY_LANDMARKS_MAX);
  if (!text) text = "";
  reader r;
  hy_status st = reader_open(&r, text, len, path, err);
  if (st) return st;

  hy_point *pts = NULL;
  int count = 0, cap = 0;
  span ln;
  hy_error local = {0};
  while (next_line(&r, &ln)) {
    if (is_blank_line(ln)) continue;
    hy_point p;
    int kind = parse_xy(&r, ln, &p, &local);
    if (expect && count == expect) {
      if (kind == 1) {
        st = hy_fail(err, HY_E_FORMAT, "%s:%d: more than the %d points expected",
                     path, r.line, expect);
        goto fail;
      }
      break; /* trailing labels of the original ISBI files */
    }
    if (kind < 0) {
      if (err) *err = local;
      st = local.status;
      goto fail;
    }
    if (kind == 0) {
      st = hy_fail(err, HY_E_FORMAT, "%s:%d: '%.*s' is not an 'x,y' line (after %d points)",
                   path, r.line, ln.n > 32 ? 32 : (int)ln.n, ln.s, count);
      goto fail;
    }
    if (count == HY_LANDMARKS_MAX) {
      st = hy_fail(err, HY_E_LIMIT, "%s:%d: more than %d points", path, r.line,
                   HY_LANDMARKS_MAX);
      goto fail;
    }
    if (count == cap) {
      int nc = cap ? 2 * cap : 32;
      hy_point *np = realloc(pts, (size_t)nc * sizeof *np);
      if (!np) {
        st = hy_fail(err, HY_E_NOMEM, "%s:%d: out of memory", path, r.line);
        goto fail;
      }
      pts = np;
      cap = nc;
    }
    pts[count++] = p;
  }
  if (count == 0) {
    st = hy_fail(err, HY_E_FORMAT, "%s:%d: empty file, expected 'x,y' lines", path,
                 r.line > 0 ? r.line : 1);
    goto fail;
  }
  if (expect && count < expect) {
    st = hy_fail(err, HY_E_FORMAT, "%s:%d: file ends after %d points, expected %d",
                 path, r.line, count, expect);
    goto fail;
  }
  reader_close(&r);
  *out = pts;
  *n = count;
  return HY_OK;
fail:
  reader_close(&r);
  free(pts);
  return st;
}
