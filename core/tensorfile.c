#include "tensorfile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fileio.h"

static const char MAGIC[8] = {'H', 'Y', 'A', 'T', 'T', 'N', 'E', 'T'};

/* A bounds-checked little-endian reader over the file bytes. */
typedef struct {
  const unsigned char *p;
  size_t size, pos;
  int overrun;
} reader;

static int need(reader *r, size_t n) {
  if (r->overrun || n > r->size - r->pos) {
    r->overrun = 1;
    return 0;
  }
  return 1;
}

static uint64_t get_le(reader *r, int bytes) {
  if (!need(r, (size_t)bytes)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[r->pos + i] << (8 * i);
  r->pos += (size_t)bytes;
  return v;
}

uint32_t hy_tensorfile_crc32(const void *data, uint64_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  const Bytef *p = data;
  while (n > 0) { /* zlib takes uInt lengths */
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)c;
}

static int valid_key(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i])) return 0;
  return 1;
}

static int valid_name(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isalnum(s[i]) && !strchr("_.-/@", s[i])) return 0;
  return 1;
}

static char *dup_range(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

static hy_status parse_meta(hy_tensorfile *tf, const char *text, size_t n,
                            const char *path, hy_error *err) {
  int lines = 1;
  for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
  tf->keys = calloc((size_t)lines, sizeof *tf->keys);
  tf->values = calloc((size_t)lines, sizeof *tf->values);
  if (!tf->keys || !tf->values) return hy_fail(err, HY_E_NOMEM, "cannot allocate the header of %s", path);
  size_t pos = 0;
  for (int line = 1; pos < n; line++) {
    const char *s = text + pos;
    const char *nl = memchr(s, '\n', n - pos);
    size_t len = nl ? (size_t)(nl - s) : n - pos;
    pos += len + (nl ? 1 : 0);
    if (memchr(s, 0, len))
      return hy_fail(err, HY_E_FORMAT, "%s: header line %d contains a NUL byte", path, line);
    while (len > 0 && isspace((unsigned char)s[len - 1])) len--;
    size_t a = 0;
    while (a < len && isspace((unsigned char)s[a])) a++;
    if (a == len || s[a] == '#') continue;
    const char *eq = memchr(s + a, '=', len - a);
    if (!eq) return hy_fail(err, HY_E_FORMAT, "%s: header line %d has no '='", path, line);
    size_t kend = (size_t)(eq - s);
    while (kend > a && isspace((unsigned char)s[kend - 1])) kend--;
    size_t v = (size_t)(eq - s) + 1;
    while (v < len && isspace((unsigned char)s[v])) v++;
    if (!valid_key(s + a, kend - a))
      return hy_fail(err, HY_E_FORMAT, "%s: header line %d has a bad key", path, line);
    tf->keys[tf->n_meta] = dup_range(s + a, kend - a);
    tf->values[tf->n_meta] = dup_range(s + v, len - v);
    if (!tf->keys[tf->n_meta] || !tf->values[tf->n_meta])
      return hy_fail(err, HY_E_NOMEM, "cannot allocate the header of %s", path);
    tf->n_meta++;
  }
  return HY_OK;
}

static int by_offset(const void *a, const void *b) {
  const hy_tensor_entry *x = *(hy_tensor_entry *const *)a, *y = *(hy_tensor_entry *const *)b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static hy_status parse(hy_tensorfile *tf, const char *path, hy_error *err) {
  reader r = {tf->bytes, tf->size, 0, 0};
  if (tf->size < 16 || memcmp(tf->bytes, MAGIC, 8) != 0)
    return hy_fail(err, HY_E_FORMAT, "%s is not a Hyatt model or tensor file (no HYATTNET magic)", path);
  r.pos = 8;
  uint32_t version = (uint32_t)get_le(&r, 4);
  if (version != HY_TENSORFILE_VERSION)
    return hy_fail(err, HY_E_FORMAT, "%s has format version %u; this program reads version %u%s",
                   path, version, HY_TENSORFILE_VERSION,
                   version > HY_TENSORFILE_VERSION ? " (written by a newer Hyatt Studio?)" : "");
  uint32_t hbytes = (uint32_t)get_le(&r, 4);
  if (!need(&r, hbytes))
    return hy_fail(err, HY_E_FORMAT, "%s is truncated: header of %u bytes, file of %zu", path, hbytes, tf->size);
  size_t hstart = r.pos;
  r.pos += hbytes;
  uint32_t count = (uint32_t)get_le(&r, 4);
  /* the smallest entry is 25 bytes: refuse counts the file cannot hold before allocating */
  if (r.overrun || count > (tf->size - r.pos) / 25)
    return hy_fail(err, HY_E_FORMAT, "%s is truncated or damaged: %u tensors cannot fit in %zu bytes",
                   path, count, tf->size);
  tf->tensors = calloc(count ? count : 1, sizeof *tf->tensors);
  if (!tf->tensors) return hy_fail(err, HY_E_NOMEM, "cannot allocate the tensor table of %s", path);
  for (uint32_t i = 0; i < count; i++) {
    hy_tensor_entry *e = &tf->tensors[i];
    size_t nlen = (size_t)get_le(&r, 2);
    if (nlen == 0 || nlen > 255 || !need(&r, nlen) || !valid_name(r.p + r.pos, nlen))
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %u has a bad or truncated name", path, i);
    memcpy(e->name, r.p + r.pos, nlen);
    r.pos += nlen;
    int dtype = (int)get_le(&r, 1);
    e->ndim = (int)get_le(&r, 1);
    if (r.overrun) break;
    if (dtype != HY_F32 && dtype != HY_I32)
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %s has unknown dtype %d", path, e->name, dtype);
    e->dtype = (hy_dtype)dtype;
    if (e->ndim > HY_TENSOR_MAX_DIMS)
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %s has %d dimensions (at most %d)", path,
                     e->name, e->ndim, HY_TENSOR_MAX_DIMS);
    uint64_t elems = 1;
    for (int d = 0; d < e->ndim; d++) {
      e->dims[d] = (int64_t)get_le(&r, 4);
      if (e->dims[d] != 0 && elems > (UINT64_MAX / 4) / (uint64_t)e->dims[d]) elems = UINT64_MAX / 4;
      else elems *= (uint64_t)e->dims[d];
    }
    e->offset = get_le(&r, 8);
    e->nbytes = get_le(&r, 8);
    e->crc = (uint32_t)get_le(&r, 4);
    if (r.overrun) break;
    if (e->nbytes != elems * 4)
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %s holds %llu bytes but its shape needs %llu",
                     path, e->name, (unsigned long long)e->nbytes, (unsigned long long)(elems * 4));
    if (e->offset % HY_ALIGN_TENSOR != 0)
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %s is not 64-byte aligned", path, e->name);
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(tf->tensors[j].name, e->name) == 0)
        return hy_fail(err, HY_E_FORMAT, "%s: tensor %s appears twice", path, e->name);
  }
  if (r.overrun)
    return hy_fail(err, HY_E_FORMAT, "%s is truncated inside its tensor table", path);
  size_t table_end = r.pos;
  uint32_t table_crc = (uint32_t)get_le(&r, 4);
  if (r.overrun)
    return hy_fail(err, HY_E_FORMAT, "%s is truncated inside its tensor table", path);
  if (hy_tensorfile_crc32(tf->bytes, table_end) != table_crc)
    return hy_fail(err, HY_E_FORMAT, "%s: header checksum mismatch (damaged file)", path);
  tf->n_tensors = (int)count;

  /* data: in bounds, after the table, not overlapping, intact */
  hy_tensor_entry **order = malloc((count ? count : 1) * sizeof *order);
  if (!order) return hy_fail(err, HY_E_NOMEM, "cannot allocate the tensor table of %s", path);
  for (uint32_t i = 0; i < count; i++) order[i] = &tf->tensors[i];
  qsort(order, count, sizeof *order, by_offset);
  uint64_t end = r.pos;
  hy_status st = HY_OK;
  for (uint32_t i = 0; i < count && st == HY_OK; i++) {
    hy_tensor_entry *e = order[i];
    if (e->offset < end)
      st = hy_fail(err, HY_E_FORMAT, "%s: tensor %s overlaps the table or another tensor", path, e->name);
    else if (e->offset > tf->size || e->nbytes > tf->size - e->offset)
      st = hy_fail(err, HY_E_FORMAT, "%s is truncated: tensor %s ends at byte %llu of %zu", path,
                   e->name, (unsigned long long)(e->offset + e->nbytes), tf->size);
    else if (hy_tensorfile_crc32(tf->bytes + e->offset, e->nbytes) != e->crc)
      st = hy_fail(err, HY_E_FORMAT, "%s: checksum mismatch in tensor %s (damaged file)", path, e->name);
    else {
      e->data = tf->bytes + e->offset;
      end = e->offset + e->nbytes;
    }
  }
  free(order);
  if (st != HY_OK) return st;
  return parse_meta(tf, (const char *)tf->bytes + hstart, hbytes, path, err);
}

/* Takes ownership of data (malloc'ed, size bytes) and parses it into *out. */
static hy_status adopt(hy_tensorfile **out, unsigned char *data, size_t size,
                       const char *name, hy_error *err) {
  hy_tensorfile *tf = calloc(1, sizeof *tf);
  if (!tf) {
    free(data);
    return hy_fail(err, HY_E_NOMEM, "cannot allocate a tensor file");
  }
  tf->bytes = data;
  tf->size = size;
  hy_status st = parse(tf, name, err);
  if (st != HY_OK) {
    hy_tensorfile_free(tf);
    return st;
  }
  *out = tf;
  return HY_OK;
}

hy_status hy_tensorfile_load(hy_tensorfile **out, const char *path,
                             size_t max_bytes, hy_error *err) {
  *out = NULL;
  void *data;
  size_t size;
  hy_status st = hy_read_file(path, max_bytes ? max_bytes : (size_t)4 << 30, &data, &size, err);
  if (st != HY_OK) return st;
  return adopt(out, data, size, path, err);
}

hy_status hy_tensorfile_parse(hy_tensorfile **out, const void *bytes, size_t n,
                              const char *name, hy_error *err) {
  *out = NULL;
  if (!name) name = "tensor data";
  unsigned char *data = malloc(n ? n : 1);
  if (!data) return hy_fail(err, HY_E_NOMEM, "cannot allocate %zu bytes for %s", n, name);
  if (n) memcpy(data, bytes, n);
  return adopt(out, data, n, name, err);
}

void hy_tensorfile_free(hy_tensorfile *tf) {
  if (!tf) return;
  for (int i = 0; i < tf->n_meta; i++) {
    free(tf->keys[i]);
    free(tf->values[i]);
  }
  free(tf->keys);
  free(tf->values);
  free(tf->tensors);
  free(tf->bytes);
  free(tf);
}

const char *hy_tensorfile_meta(const hy_tensorfile *tf, const char *key) {
  for (int i = 0; i < tf->n_meta; i++)
    if (strcmp(tf->keys[i], key) == 0) return tf->values[i];
  return NULL;
}

const hy_tensor_entry *hy_tensorfile_find(const hy_tensorfile *tf, const char *name) {
  for (int i = 0; i < tf->n_tensors; i++)
    if (strcmp(tf->tensors[i].name, name) == 0) return &tf->tensors[i];
  return NULL;
}

const float *hy_tensorfile_f32(const hy_tensorfile *tf, const char *name,
                               size_t count, hy_error *err) {
  const hy_tensor_entry *e = hy_tensorfile_find(tf, name);
  if (!e) {
    hy_fail(err, HY_E_FORMAT, "missing tensor %s", name);
    return NULL;
  }
  if (e->dtype != HY_F32) {
    hy_fail(err, HY_E_FORMAT, "tensor %s is not float32", name);
    return NULL;
  }
  if (e->nbytes / 4 != count) {
    hy_fail(err, HY_E_FORMAT, "tensor %s has %llu values, expected %zu", name,
            (unsigned long long)(e->nbytes / 4), count);
    return NULL;
  }
  return e->data;
}

/* ---- writer ---- */

typedef struct {
  char *name;
  hy_dtype dtype;
  int ndim;
  int64_t dims[HY_TENSOR_MAX_DIMS];
  const void *data; /* borrowed */
  uint64_t nbytes, offset;
} pending;

struct hy_tensorfile_writer {
  char *meta; /* owned: the header text so far */
  size_t meta_len;
  pending *items; /* owned */
  int n, cap;
  hy_status deferred; /* the first failure of meta/add, reported by save */
  char deferred_msg[256];
};

hy_tensorfile_writer *hy_tensorfile_writer_new(void) {
  return calloc(1, sizeof(hy_tensorfile_writer));
}

void hy_tensorfile_writer_free(hy_tensorfile_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->n; i++) free(w->items[i].name);
  free(w->items);
  free(w->meta);
  free(w);
}

static hy_status defer(hy_tensorfile_writer *w, hy_status st, const char *msg, const char *what) {
  if (w->deferred == HY_OK) {
    w->deferred = st;
    snprintf(w->deferred_msg, sizeof w->deferred_msg, "%s: %s", msg, what);
  }
  return st;
}

hy_status hy_tensorfile_writer_meta(hy_tensorfile_writer *w, const char *key,
                                    const char *fmt, ...) {
  if (!valid_key(key, strlen(key))) return defer(w, HY_E_ARG, "bad header key", key);
  char value[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(value, sizeof value, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof value || strchr(value, '\n'))
    return defer(w, HY_E_ARG, "header value too long or multi-line", key);
  size_t add = strlen(key) + 3 + (size_t)n + 1;
  char *m = realloc(w->meta, w->meta_len + add + 1);
  if (!m) return defer(w, HY_E_NOMEM, "out of memory", key);
  w->meta = m;
  snprintf(m + w->meta_len, add + 1, "%s = %s\n", key, value);
  w->meta_len += add;
  return HY_OK;
}

hy_status hy_tensorfile_writer_add(hy_tensorfile_writer *w, const char *name,
                                   hy_dtype dtype, const void *data, int ndim,
                                   const int64_t *dims) {
  size_t nlen = strlen(name);
  if (nlen == 0 || nlen > 255 || !valid_name((const unsigned char *)name, nlen))
    return defer(w, HY_E_ARG, "bad tensor name", name);
  if (ndim < 0 || ndim > HY_TENSOR_MAX_DIMS || (dtype != HY_F32 && dtype != HY_I32))
    return defer(w, HY_E_ARG, "bad tensor shape or type", name);
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 32;
    pending *items = realloc(w->items, (size_t)cap * sizeof *items);
    if (!items) return defer(w, HY_E_NOMEM, "out of memory", name);
    w->items = items;
    w->cap = cap;
  }
  pending *p = &w->items[w->n];
  memset(p, 0, sizeof *p);
  p->name = strdup(name);
  if (!p->name) return defer(w, HY_E_NOMEM, "out of memory", name);
  p->dtype = dtype;
  p->ndim = ndim;
  uint64_t elems = 1;
  for (int d = 0; d < ndim; d++) {
    if (dims[d] < 0 || dims[d] > UINT32_MAX) return defer(w, HY_E_ARG, "bad dimension", name);
    p->dims[d] = dims[d];
    elems *= (uint64_t)dims[d];
  }
  p->data = data;
  p->nbytes = elems * 4;
  w->n++;
  return HY_OK;
}

static void put_le(unsigned char **p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) *(*p)++ = (unsigned char)(v >> (8 * i));
}

typedef struct {
  hy_tensorfile_writer *w;
  unsigned char *head;
  size_t head_len;
} save_ctx;

static hy_status produce(hy_sink *s, void *ctx) {
  save_ctx *c = ctx;
  static const unsigned char zeros[HY_ALIGN_TENSOR];
  hy_status st = hy_sink_write(s, c->head, c->head_len);
  uint64_t pos = c->head_len;
  for (int i = 0; i < c->w->n && st == HY_OK; i++) {
    pending *p = &c->w->items[i];
    st = hy_sink_write(s, zeros, (size_t)(p->offset - pos));
    if (st == HY_OK) st = hy_sink_write(s, p->data, p->nbytes);
    pos = p->offset + p->nbytes;
  }
  return st;
}

hy_status hy_tensorfile_writer_save(hy_tensorfile_writer *w, const char *path,
                                    hy_error *err) {
  if (w->deferred != HY_OK) return hy_fail(err, w->deferred, "cannot write %s: %s", path, w->deferred_msg);
  size_t head_len = 16 + w->meta_len + 4 + 4;
  for (int i = 0; i < w->n; i++) head_len += 2 + strlen(w->items[i].name) + 2 + 4 * (size_t)w->items[i].ndim + 20;
  unsigned char *head = malloc(head_len);
  if (!head) return hy_fail(err, HY_E_NOMEM, "cannot allocate the header of %s", path);
  unsigned char *p = head;
  memcpy(p, MAGIC, 8);
  p += 8;
  put_le(&p, HY_TENSORFILE_VERSION, 4);
  put_le(&p, w->meta_len, 4);
  if (w->meta_len) memcpy(p, w->meta, w->meta_len);
  p += w->meta_len;
  put_le(&p, (uint64_t)w->n, 4);
  uint64_t pos = head_len;
  for (int i = 0; i < w->n; i++) {
    pending *t = &w->items[i];
    pos = (pos + HY_ALIGN_TENSOR - 1) / HY_ALIGN_TENSOR * HY_ALIGN_TENSOR;
    t->offset = pos;
    pos += t->nbytes;
    size_t nlen = strlen(t->name);
    put_le(&p, nlen, 2);
    memcpy(p, t->name, nlen);
    p += nlen;
    put_le(&p, (uint64_t)t->dtype, 1);
    put_le(&p, (uint64_t)t->ndim, 1);
    for (int d = 0; d < t->ndim; d++) put_le(&p, (uint64_t)t->dims[d], 4);
    put_le(&p, t->offset, 8);
    put_le(&p, t->nbytes, 8);
    put_le(&p, hy_tensorfile_crc32(t->data, t->nbytes), 4);
  }
  put_le(&p, hy_tensorfile_crc32(head, (size_t)(p - head)), 4);
  save_ctx c = {w, head, head_len};
  hy_status st = hy_write_file_atomic_with(path, produce, &c, err);
  free(head);
  return st;
}
