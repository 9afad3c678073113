#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "c_numeric.h"
#include "estimate.h"
#include "fileio.h"

#define FORMAT_MODEL "hyatt-model"
#define FORMAT_CHECKPOINT "hyatt-checkpoint"
#define META_VALUE_MAX 4095 /* the tensor file writer's limit */

/* ---- text ---- */

/* Valid UTF-8 without control characters. */
static int valid_text(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  while (*s) {
    unsigned c = *s;
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || c < 0x20 || c == 0x7f || c == 0xC0 || c == 0xC1 || c > 0xF4) return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
        (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
      return 0;
    for (int i = 1; i <= n; i++)
      if ((s[i] & 0xC0) != 0x80) return 0;
    s += n + 1;
  }
  return 1;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static int valid_landmark_name(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n < HY_MODEL_NAME_MAX && valid_text(s) && !strchr(s, ',') &&
         !is_blank(s[0]) && !is_blank(s[n - 1]);
}

static int valid_set_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof ((hy_model_info *)0)->landmark_set) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("_.-", *s)))
      return 0;
  return 1;
}

static int valid_spacing(double mm) { return isfinite(mm) && mm > 0 && mm <= 10; }

/* The shortest of %.15g / %.17g that reads back as the same double. */
static void format_double(char *buf, size_t size, double v) {
  snprintf(buf, size, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, size, "%.17g", v);
}

/* ---- checks shared by save and load ---- */

/* Index of the first NaN or Inf in x, or n. */
static size_t first_nonfinite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return i;
  return n;
}

static const char *nonfinite_name(float v) { return isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf"; }

static int text_field_ok(const char *s, size_t cap) {
  return memchr(s, 0, cap) != NULL && valid_text(s);
}

static hy_status check_text_fields(const hy_model_info *info, const char *path, hy_error *err) {
  struct {
    const char *key, *v;
    size_t cap;
  } fields[] = {
      {"dataset", info->dataset, sizeof info->dataset},
      {"parent", info->parent, sizeof info->parent},
      {"created", info->created, sizeof info->created},
      {"metrics", info->metrics, sizeof info->metrics},
      {"hyatt_version", info->hyatt_version, sizeof info->hyatt_version},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (!text_field_ok(fields[i].v, fields[i].cap))
      return hy_fail(err, HY_E_ARG, "cannot save %s: '%s' is not one line of UTF-8 text", path,
                     fields[i].key);
  if (info->steps < 0)
    return hy_fail(err, HY_E_ARG, "cannot save %s: training steps %lld are negative", path,
                   (long long)info->steps);
  return HY_OK;
}

static hy_status check_info_for_save(const hy_model_info *info, int K, const char *path,
                                     hy_error *err) {
  if (info->landmark_count != K)
    return hy_fail(err, HY_E_ARG, "cannot save %s: the info names %d landmarks, the network has %d", path,
                   info->landmark_count, K);
  size_t total = 0;
  for (int i = 0; i < K; i++) {
    const char *name = info->landmark_names[i];
    if (!memchr(name, 0, HY_MODEL_NAME_MAX) || !valid_landmark_name(name))
      return hy_fail(err, HY_E_ARG,
                     "cannot save %s: landmark %d's name is empty, too long (max %d bytes), not UTF-8, "
                     "has a comma or control character, or starts or ends with a blank",
                     path, i + 1, HY_MODEL_NAME_MAX - 1);
    total += strlen(name) + (i > 0);
  }
  if (total > META_VALUE_MAX)
    return hy_fail(err, HY_E_ARG, "cannot save %s: the landmark names take %zu bytes together, at most %d",
                   path, total, META_VALUE_MAX);
  if (!memchr(info->landmark_set, 0, sizeof info->landmark_set) ||
      !valid_set_name(info->landmark_set))
    return hy_fail(err, HY_E_ARG, "cannot save %s: landmark set name is not [A-Za-z0-9_.-]+ of 1..%zu bytes",
                   path, sizeof info->landmark_set - 1);
  if (!valid_spacing(info->spacing_mm))
    return hy_fail(err, HY_E_ARG, "cannot save %s: pixel spacing %g mm is not in (0, 10]", path, info->spacing_mm);
  return check_text_fields(info, path, err);
}

static hy_status check_extra(const hy_model_extra *x, const char *path, hy_error *err) {
  for (int i = 0; i < x->n_tensors; i++) {
    const hy_model_extra_tensor *t = &x->tensors[i];
    if (!t->name || !strchr(t->name, '/'))
      return hy_fail(err, HY_E_ARG, "cannot save %s: extra tensor '%s' needs a '/' in its name (e.g. optim/m)",
                     path, t->name ? t->name : "(null)");
    if (t->ndim < 0 || t->ndim > HY_TENSOR_MAX_DIMS)
      return hy_fail(err, HY_E_ARG, "cannot save %s: extra tensor %s has %d dimensions", path, t->name, t->ndim);
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
      if (t->dims[d] < 0 || t->dims[d] > INT32_MAX)
        return hy_fail(err, HY_E_ARG, "cannot save %s: extra tensor %s has a bad dimension", path, t->name);
      n *= (size_t)t->dims[d];
    }
    if (n > 0 && !t->data)
      return hy_fail(err, HY_E_ARG, "cannot save %s: extra tensor %s has no data", path, t->name);
    if (t->dtype == HY_F32) {
      size_t bad = first_nonfinite(t->data, n);
      if (bad < n)
        return hy_fail(err, HY_E_NUMERIC, "refusing to save %s: %s in %s[%zu]", path,
                       nonfinite_name(((const float *)t->data)[bad]), t->name, bad);
    } else if (t->dtype != HY_I32) {
      return hy_fail(err, HY_E_ARG, "cannot save %s: extra tensor %s has an unknown dtype", path, t->name);
    }
  }
  for (int i = 0; i < x->n_meta; i++) {
    const hy_model_extra_meta *m = &x->meta[i];
    if (!m->key || !strchr(m->key, '.') || !m->value)
      return hy_fail(err, HY_E_ARG, "cannot save %s: extra header key '%s' needs a '.' (e.g. optim.lr) and a value",
                     path, m->key ? m->key : "(null)");
  }
  return HY_OK;
}

/* ---- save ---- */

static void iso_now(char *buf, size_t size) {
  time_t now = time(NULL);
  struct tm tm;
  if (!gmtime_r(&now, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm)) buf[0] = 0;
}

static void put_info(hy_tensorfile_writer *w, const hy_model_info *info) {
  char names[META_VALUE_MAX + 1] = "";
  size_t len = 0;
  for (int i = 0; i < info->landmark_count; i++)
    len += (size_t)snprintf(names + len, sizeof names - len, i ? ",%s" : "%s", info->landmark_names[i]);
  char spacing[40], created[32];
  format_double(spacing, sizeof spacing, info->spacing_mm);
  snprintf(created, sizeof created, "%s", info->created);
  if (!created[0]) iso_now(created, sizeof created);
  hy_tensorfile_writer_meta(w, "landmark_count", "%d", info->landmark_count);
  hy_tensorfile_writer_meta(w, "landmark_names", "%s", names);
  hy_tensorfile_writer_meta(w, "landmark_set", "%s", info->landmark_set);
  hy_tensorfile_writer_meta(w, "spacing_mm", "%s", spacing);
  hy_tensorfile_writer_meta(w, "dataset", "%s", info->dataset);
  hy_tensorfile_writer_meta(w, "steps", "%lld", (long long)info->steps);
  hy_tensorfile_writer_meta(w, "parent", "%s", info->parent);
  hy_tensorfile_writer_meta(w, "created", "%s", created);
  hy_tensorfile_writer_meta(w, "metrics", "%s", info->metrics);
  hy_tensorfile_writer_meta(w, "hyatt_version", "%s", info->hyatt_version);
}

hy_status hy_model_save_ex(const hy_net *net, const hy_model_info *info,
                           const hy_model_extra *extra, const char *path, hy_error *err) {
  hy_status st = check_info_for_save(info, net->cfg.landmarks, path, err);
  if (st == HY_OK && extra) st = check_extra(extra, path, err);
  if (st != HY_OK) return st;
  const hy_plan *p = &net->plan;
  for (int i = 0; i < p->n_params; i++) {
    const hy_param *t = &p->table[i];
    size_t bad = first_nonfinite(t->w, t->n);
    if (bad < t->n)
      return hy_fail(err, HY_E_NUMERIC, "refusing to save %s: %s in %s[%zu]", path,
                     nonfinite_name(t->w[bad]), t->name, bad);
  }
  hy_tensorfile_writer *w = hy_tensorfile_writer_new();
  if (!w) return hy_fail(err, HY_E_NOMEM, "cannot save %s: out of memory", path);
  hy_c_numeric loc;
  hy_c_numeric_enter(&loc);
  hy_tensorfile_writer_meta(w, "format", "%s", extra ? FORMAT_CHECKPOINT : FORMAT_MODEL);
  hy_net_config_to_meta(&net->cfg, w);
  put_info(w, info);
  hy_c_numeric_leave(&loc);
  for (int i = 0; extra && i < extra->n_meta; i++)
    hy_tensorfile_writer_meta(w, extra->meta[i].key, "%s", extra->meta[i].value);
  for (int i = 0; i < p->n_params; i++) {
    const hy_param *t = &p->table[i];
    int64_t dims[4];
    for (int d = 0; d < t->ndim; d++) dims[d] = t->dims[d];
    hy_tensorfile_writer_add(w, t->name, HY_F32, t->w, t->ndim, dims);
  }
  for (int i = 0; extra && i < extra->n_tensors; i++) {
    const hy_model_extra_tensor *t = &extra->tensors[i];
    hy_tensorfile_writer_add(w, t->name, t->dtype, t->data, t->ndim, t->dims);
  }
  st = hy_tensorfile_writer_save(w, path, err);
  hy_tensorfile_writer_free(w);
  return st;
}

hy_status hy_model_save(const hy_net *net, const hy_model_info *info, const char *path,
                        hy_error *err) {
  return hy_model_save_ex(net, info, NULL, path, err);
}

/* ---- load ---- */

/* Puts "path: " in front of a message from a function that does not know it. */
static hy_status with_path(hy_status st, const char *path, hy_error *err) {
  if (st != HY_OK && err) {
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    int n = snprintf(err->msg, sizeof err->msg, "%s: ", path);
    if (n > 0 && (size_t)n < sizeof err->msg) {
      size_t room = sizeof err->msg - (size_t)n - 1, len = strnlen(msg, sizeof msg);
      memcpy(err->msg + n, msg, len < room ? len : room);
      err->msg[(size_t)n + (len < room ? len : room)] = 0;
    }
  }
  return st;
}

static hy_status copy_text(char *dst, size_t cap, const hy_tensorfile *tf, const char *key,
                           const char *path, hy_error *err) {
  const char *v = hy_tensorfile_meta(tf, key);
  if (!v) v = "";
  if (strlen(v) >= cap || !valid_text(v))
    return hy_fail(err, HY_E_FORMAT, "%s: header '%s' is longer than %zu bytes or not UTF-8 text",
                   path, key, cap - 1);
  memcpy(dst, v, strlen(v) + 1);
  return HY_OK;
}

static hy_status parse_names(hy_model_info *info, const char *v, const char *path, hy_error *err) {
  if (!v) return hy_fail(err, HY_E_FORMAT, "%s: the header has no 'landmark_names'", path);
  int n = 0;
  for (const char *s = v;; n++) {
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    if (n >= info->landmark_count)
      return hy_fail(err, HY_E_FORMAT, "%s: 'landmark_names' has more than the %d names of 'landmark_count'",
                     path, info->landmark_count);
    char *dst = info->landmark_names[n];
    if (len >= HY_MODEL_NAME_MAX)
      return hy_fail(err, HY_E_FORMAT, "%s: landmark %d's name is longer than %d bytes", path,
                     n + 1, HY_MODEL_NAME_MAX - 1);
    memcpy(dst, s, len);
    dst[len] = 0;
    if (!valid_landmark_name(dst))
      return hy_fail(err, HY_E_FORMAT, "%s: landmark %d's name '%s' is empty, blank-padded or not UTF-8 text",
                     path, n + 1, dst);
    if (!comma) break;
    s = comma + 1;
  }
  if (n + 1 != info->landmark_count)
    return hy_fail(err, HY_E_FORMAT, "%s: 'landmark_names' has %d names, 'landmark_count' says %d",
                   path, n + 1, info->landmark_count);
  return HY_OK;
}

static int parse_int64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end || errno || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

static hy_status parse_info(hy_model_info *info, const hy_tensorfile *tf, const hy_net_config *cfg,
                            const char *path, hy_error *err) {
  int64_t v;
  if (!parse_int64(hy_tensorfile_meta(tf, "landmark_count"), 1, HY_MODEL_LANDMARKS_MAX, &v))
    return hy_fail(err, HY_E_FORMAT, "%s: the header's 'landmark_count' is missing or not in 1..%d",
                   path, HY_MODEL_LANDMARKS_MAX);
  info->landmark_count = (int)v;
  if (info->landmark_count != cfg->landmarks)
    return hy_fail(err, HY_E_FORMAT, "%s: the header says %d landmarks but the network has %d",
                   path, info->landmark_count, cfg->landmarks);
  hy_status st = parse_names(info, hy_tensorfile_meta(tf, "landmark_names"), path, err);
  if (st != HY_OK) return st;
  const char *set = hy_tensorfile_meta(tf, "landmark_set");
  if (!set || !valid_set_name(set))
    return hy_fail(err, HY_E_FORMAT, "%s: the header's 'landmark_set' is missing or not [A-Za-z0-9_.-]+",
                   path);
  strcpy(info->landmark_set, set);
  const char *sp = hy_tensorfile_meta(tf, "spacing_mm");
  char *end = NULL;
  info->spacing_mm = sp ? strtod(sp, &end) : NAN;
  if (!sp || !*sp || *end || !valid_spacing(info->spacing_mm))
    return hy_fail(err, HY_E_FORMAT, "%s: the header's 'spacing_mm' is missing or not in (0, 10]", path);
  const char *steps = hy_tensorfile_meta(tf, "steps");
  info->steps = 0;
  if (steps && !parse_int64(steps, 0, INT64_MAX, &info->steps))
    return hy_fail(err, HY_E_FORMAT, "%s: the header's 'steps' is not a count", path);
  struct {
    char *dst;
    size_t cap;
    const char *key;
  } text[] = {
      {info->dataset, sizeof info->dataset, "dataset"},
      {info->parent, sizeof info->parent, "parent"},
      {info->created, sizeof info->created, "created"},
      {info->metrics, sizeof info->metrics, "metrics"},
      {info->hyatt_version, sizeof info->hyatt_version, "hyatt_version"},
  };
  for (size_t i = 0; i < sizeof text / sizeof text[0] && st == HY_OK; i++)
    st = copy_text(text[i].dst, text[i].cap, tf, text[i].key, path, err);
  return st;
}

static void dims_text(char *buf, size_t size, int ndim, const int64_t *dims) {
  size_t len = (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < ndim && len < size; d++)
    len += (size_t)snprintf(buf + len, size - len, d ? ",%lld" : "%lld", (long long)dims[d]);
  if (len < size) snprintf(buf + len, size - len, "]");
}

/* Every planned tensor present, float32, of its planned shape and finite;
 * nothing else but a checkpoint's extras. */
static hy_status check_tensors(const hy_tensorfile *tf, const hy_plan *shape, int checkpoint,
                               const hy_net_config *cfg, const char *path, hy_error *err) {
  for (int i = 0; i < shape->n_params; i++) {
    const hy_param *t = &shape->table[i];
    const hy_tensor_entry *e = hy_tensorfile_find(tf, t->name);
    if (!e) return hy_fail(err, HY_E_FORMAT, "%s: model is missing tensor %s", path, t->name);
    if (e->dtype != HY_F32)
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %s is int32, not float32", path, t->name);
    int64_t want[4];
    int same = e->ndim == t->ndim;
    for (int d = 0; d < t->ndim; d++) {
      want[d] = t->dims[d];
      same = same && e->dims[d] == want[d];
    }
    if (!same) {
      char found[128], needed[128];
      dims_text(found, sizeof found, e->ndim, e->dims);
      dims_text(needed, sizeof needed, t->ndim, want);
      return hy_fail(err, HY_E_FORMAT, "%s: tensor %s has shape %s but the '%s' configuration needs %s",
                     path, t->name, found, cfg->name, needed);
    }
    size_t bad = first_nonfinite(e->data, t->n);
    if (bad < t->n)
      return hy_fail(err, HY_E_NUMERIC, "%s: %s in %s[%zu]", path,
                     nonfinite_name(((const float *)e->data)[bad]), t->name, bad);
  }
  for (int i = 0; i < tf->n_tensors; i++) {
    const char *name = tf->tensors[i].name;
    if (hy_plan_find(shape, name) || (checkpoint && strchr(name, '/'))) continue;
    return hy_fail(err, HY_E_FORMAT, "%s: unexpected tensor %s (not part of the '%s' network%s)",
                   path, name, cfg->name, checkpoint ? " nor checkpoint state" : "");
  }
  return HY_OK;
}

static double memory_limit(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  double ram = pages > 0 && page > 0 ? 0.75 * (double)pages * (double)page : HY_MODEL_MEMORY_MAX;
  return ram < HY_MODEL_MEMORY_MAX ? ram : HY_MODEL_MEMORY_MAX;
}

/* Reads path and checks it completely for a network of N images; on
 * success *tf and *shape (the network's plan without memory) are the
 * caller's to free. */
static hy_status read_checked(hy_tensorfile **tf, hy_plan *shape, hy_net_config *cfg,
                              hy_model_info *info, const char *path, int N, hy_mode mode,
                              int threads, hy_error *err) {
  memset(shape, 0, sizeof *shape);
  memset(info, 0, sizeof *info);
  hy_status st = hy_tensorfile_load(tf, path, HY_MODEL_FILE_MAX, err);
  if (st != HY_OK) return st;
  const char *format = hy_tensorfile_meta(*tf, "format");
  if (!format)
    return hy_fail(err, HY_E_FORMAT, "%s is not a model file (its header has no 'format')", path);
  if (strcmp(format, FORMAT_MODEL) != 0 && strcmp(format, FORMAT_CHECKPOINT) != 0)
    return hy_fail(err, HY_E_FORMAT, "%s is a '%.64s' file, not a model (%s or %s)", path, format,
                   FORMAT_MODEL, FORMAT_CHECKPOINT);
  info->checkpoint = strcmp(format, FORMAT_CHECKPOINT) == 0;
  hy_c_numeric loc;
  hy_c_numeric_enter(&loc);
  st = with_path(hy_net_config_from_meta(cfg, *tf, err), path, err);
  if (st == HY_OK) st = parse_info(info, *tf, cfg, path, err);
  hy_c_numeric_leave(&loc);
  if (st != HY_OK) return st;
  double least = hy_net_memory_floor(cfg, N), limit = memory_limit();
  if (least > limit)
    return hy_fail(err, HY_E_LIMIT, "%s: its network would need over %.1f GiB of memory (at most %.1f GiB here)",
                   path, least / (1 << 30), limit / (1 << 30));
  st = with_path(hy_net_plan_shape(shape, cfg, N, mode, threads, err), path, err);
  if (st != HY_OK) return st;
  double bytes = (double)hy_plan_bytes(shape);
  if (bytes > limit)
    return hy_fail(err, HY_E_LIMIT, "%s: its network would need %.1f GiB of memory (at most %.1f GiB here)",
                   path, bytes / (1 << 30), limit / (1 << 30));
  st = check_tensors(*tf, shape, info->checkpoint, cfg, path, err);
  if (st != HY_OK) return st;
  for (int i = 0; i < shape->n_params; i++) {
    if (shape->table[i].is_buffer) info->buffer_count += shape->table[i].n;
    else info->param_count += shape->table[i].n;
  }
  snprintf(info->id, sizeof info->id, "%08x",
           (unsigned)hy_tensorfile_crc32((*tf)->bytes, (*tf)->size));
  info->file_bytes = (*tf)->size;
  return HY_OK;
}

hy_status hy_model_inspect(hy_net_config *cfg, hy_model_info *info, const char *path,
                           hy_error *err) {
  hy_tensorfile *tf = NULL;
  hy_plan shape;
  hy_status st = read_checked(&tf, &shape, cfg, info, path, 1, HY_INFER, 1, err);
  hy_plan_free(&shape);
  hy_tensorfile_free(tf);
  return st;
}

hy_status hy_model_load_ex(hy_net **out, hy_model_info *info, hy_tensorfile **tf_out,
                           const char *path, int N, hy_mode mode, int threads,
                           hy_error *err) {
  *out = NULL;
  if (tf_out) *tf_out = NULL;
  hy_model_info scratch_info;
  if (!info) info = &scratch_info;
  hy_tensorfile *tf = NULL;
  hy_plan shape;
  hy_net_config cfg;
  hy_status st = read_checked(&tf, &shape, &cfg, info, path, N, mode, threads, err);
  hy_plan_free(&shape);
  hy_net *net = NULL;
  if (st == HY_OK) st = with_path(hy_net_create(&net, &cfg, N, mode, threads, err), path, err);
  for (int i = 0; st == HY_OK && i < net->plan.n_params; i++) {
    hy_param *t = &net->plan.table[i];
    const hy_tensor_entry *e = hy_tensorfile_find(tf, t->name);
    if (!e || e->nbytes != t->n * sizeof(float))
      st = hy_fail(err, HY_E_ARG, "internal error: the network's tensor %s is not the planned one", t->name);
    else
      memcpy(t->w, e->data, e->nbytes);
  }
  if (st != HY_OK) {
    hy_net_free(net);
    hy_tensorfile_free(tf);
    return st;
  }
  hy_net_fold_bn(net);
  if (tf_out) *tf_out = tf;
  else hy_tensorfile_free(tf);
  *out = net;
  return HY_OK;
}

hy_status hy_model_load(hy_net **net, hy_model_info *info, const char *path, hy_mode mode,
                        int threads, hy_error *err) {
  return hy_model_load_ex(net, info, NULL, path, 1, mode, threads, err);
}

hy_status hy_model_id(char id[HY_MODEL_ID_SIZE], const char *path, hy_error *err) {
  void *data = NULL;
  size_t len = 0;
  id[0] = 0;
  hy_status st = hy_read_file(path, HY_MODEL_FILE_MAX, &data, &len, err);
  if (st != HY_OK) return st;
  snprintf(id, HY_MODEL_ID_SIZE, "%08x", (unsigned)hy_tensorfile_crc32(data, len));
  free(data);
  return HY_OK;
}
