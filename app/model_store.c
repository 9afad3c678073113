#include "model_store.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "model.h"

#define RECORD_FORMAT "hyatt-model-record"
#define RECORD_SUFFIX ".json"
#define CURRENT_FILE "current"
#define RECORD_MAX_BYTES (4 * 1024 * 1024)

struct _HyModelStore {
  GObject parent_instance;
  char *dir;          /* owned */
  char *shipped_id;   /* owned */
};

G_DEFINE_FINAL_TYPE(HyModelStore, hy_model_store, G_TYPE_OBJECT)

void hy_model_record_free(HyModelRecord *r) {
  if (!r) return;
  g_free(r->id);
  g_free(r->path);
  g_free(r->parent);
  g_free(r->created);
  g_strfreev(r->samples);
  g_free(r);
}

HyModelRecord *hy_model_record_copy(const HyModelRecord *r) {
  HyModelRecord *c = g_new0(HyModelRecord, 1);
  *c = *r;
  c->id = g_strdup(r->id);
  c->path = g_strdup(r->path);
  c->parent = g_strdup(r->parent);
  c->created = g_strdup(r->created);
  c->samples = g_strdupv(r->samples);
  return c;
}

static void hy_model_store_finalize(GObject *object) {
  HyModelStore *self = HY_MODEL_STORE(object);
  g_free(self->dir);
  g_free(self->shipped_id);
  G_OBJECT_CLASS(hy_model_store_parent_class)->finalize(object);
}

static void hy_model_store_class_init(HyModelStoreClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = hy_model_store_finalize;
}

static void hy_model_store_init(HyModelStore *self) {}

char *hy_model_store_default_dir(void) {
  return g_build_filename(g_get_user_data_dir(), "hyatt-studio", "models", NULL);
}

static gboolean write_atomic(const char *path, const char *text, GError **error) {
  /* CONSISTENT | DURABLE: temporary file beside path, fsync, rename */
  return g_file_set_contents_full(path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0666, error);
}

static char *now_iso8601(void) {
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

static char *record_path(HyModelStore *self, const char *id) {
  g_autofree char *name = g_strconcat(id, RECORD_SUFFIX, NULL);
  return g_build_filename(self->dir, name, NULL);
}

static void add_mm(JsonBuilder *b, const char *name, double v) {
  json_builder_set_member_name(b, name);
  if (isfinite(v)) json_builder_add_double_value(b, v);
  else json_builder_add_null_value(b);
}

static gboolean write_record(HyModelStore *self, const HyModelRecord *r, GError **error) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "format");
  json_builder_add_string_value(b, RECORD_FORMAT);
  json_builder_set_member_name(b, "version");
  json_builder_add_int_value(b, 1);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, r->id);
  g_autofree char *base = g_path_get_basename(r->path);
  json_builder_set_member_name(b, "file");
  json_builder_add_string_value(b, r->shipped ? r->path : base);
  json_builder_set_member_name(b, "shipped");
  json_builder_add_boolean_value(b, r->shipped);
  json_builder_set_member_name(b, "parent");
  if (r->parent) json_builder_add_string_value(b, r->parent);
  else json_builder_add_null_value(b);
  json_builder_set_member_name(b, "created");
  json_builder_add_string_value(b, r->created);
  json_builder_set_member_name(b, "samples");
  json_builder_begin_array(b);
  for (char **s = r->samples; s && *s; s++) json_builder_add_string_value(b, *s);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "held_out");
  json_builder_add_int_value(b, r->held_out);
  add_mm(b, "before_mm", r->before_mm);
  add_mm(b, "after_mm", r->after_mm);
  json_builder_end_object(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  g_autofree char *json = json_generator_to_data(gen, NULL);
  g_autofree char *text = g_strconcat(json, "\n", NULL);
  g_autofree char *path = record_path(self, r->id);
  return write_atomic(path, text, error);
}

static double mm_member(JsonObject *o, const char *name) {
  JsonNode *n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

/* The record in path, or NULL (error set) when it is not one or its model
 * file is missing. */
static HyModelRecord *read_record(HyModelStore *self, const char *path, GError **error) {
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, error)) return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (len > RECORD_MAX_BYTES || !json_parser_load_from_data(parser, text, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s: not a model record"), path);
    return NULL;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  const char *format = json_object_get_string_member_with_default(o, "format", "");
  const char *id = json_object_get_string_member_with_default(o, "id", NULL);
  const char *file = json_object_get_string_member_with_default(o, "file", NULL);
  if (strcmp(format, RECORD_FORMAT) != 0 || !id || !file) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s: not a model record"), path);
    return NULL;
  }
  g_autoptr(HyModelRecord) r = g_new0(HyModelRecord, 1);
  r->id = g_strdup(id);
  r->shipped = json_object_get_boolean_member_with_default(o, "shipped", FALSE);
  r->path = r->shipped ? g_strdup(file) : g_build_filename(self->dir, file, NULL);
  r->parent = g_strdup(json_object_get_string_member_with_default(o, "parent", NULL));
  r->created = g_strdup(json_object_get_string_member_with_default(o, "created", ""));
  g_autoptr(GStrvBuilder) sb = g_strv_builder_new();
  JsonArray *samples = json_object_has_member(o, "samples")
                           ? json_object_get_array_member(o, "samples") : NULL;
  for (guint i = 0; samples && i < json_array_get_length(samples); i++) {
    const char *s = json_array_get_string_element(samples, i);
    if (s) g_strv_builder_add(sb, s);
  }
  r->samples = g_strv_builder_end(sb);
  r->held_out = (int)json_object_get_int_member_with_default(o, "held_out", 0);
  r->before_mm = mm_member(o, "before_mm");
  r->after_mm = mm_member(o, "after_mm");
  if (!g_file_test(r->path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("%s: its model file %s is missing"),
                path, r->path);
    return NULL;
  }
  return g_steal_pointer(&r);
}

HyModelStore *hy_model_store_new(const char *dir, const char *shipped, GError **error) {
  g_return_val_if_fail(dir && shipped, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                _("cannot create the model store %s: %s"), dir, g_strerror(e));
    return NULL;
  }
  hy_net_config cfg;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_inspect(&cfg, &info, shipped, &err) != HY_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", err.msg);
    return NULL;
  }
  g_autoptr(HyModelStore) self = g_object_new(HY_TYPE_MODEL_STORE, NULL);
  self->dir = g_strdup(dir);
  self->shipped_id = g_strdup(info.id);
  g_autofree char *path = record_path(self, info.id);
  g_autoptr(HyModelRecord) old = read_record(self, path, NULL);
  if (!old) {
    g_autofree char *abs = g_canonicalize_filename(shipped, NULL);
    g_autofree char *created = now_iso8601();
    HyModelRecord r = {.id = info.id, .path = abs, .shipped = TRUE,
                       .created = info.created[0] ? info.created : created,
                       .before_mm = NAN, .after_mm = NAN};
    if (!write_record(self, &r, error)) return NULL;
  }
  return g_steal_pointer(&self);
}

const char *hy_model_store_get_dir(HyModelStore *self) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self), NULL);
  return self->dir;
}

static int by_created(gconstpointer a, gconstpointer b) {
  const HyModelRecord *x = *(HyModelRecord *const *)a, *y = *(HyModelRecord *const *)b;
  if (x->shipped != y->shipped) return x->shipped ? -1 : 1;
  int c = strcmp(x->created, y->created);
  return c ? c : strcmp(x->id, y->id);
}

GPtrArray *hy_model_store_list(HyModelStore *self, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self), NULL);
  g_autoptr(GDir) d = g_dir_open(self->dir, 0, error);
  if (!d) return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hy_model_record_free);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    /* <8 hex digits>.json: others are temporaries or foreign files */
    if (strlen(name) != HY_MODEL_ID_SIZE - 1 + strlen(RECORD_SUFFIX) ||
        !g_str_has_suffix(name, RECORD_SUFFIX))
      continue;
    g_autofree char *path = g_build_filename(self->dir, name, NULL);
    HyModelRecord *r = read_record(self, path, NULL);
    if (r) g_ptr_array_add(out, r);
  }
  g_ptr_array_sort(out, by_created);
  return out;
}

HyModelRecord *hy_model_store_lookup(HyModelStore *self, const char *id, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self) && id, NULL);
  if (strlen(id) != HY_MODEL_ID_SIZE - 1 || strspn(id, "0123456789abcdef") != strlen(id)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("no model %s in %s"), id, self->dir);
    return NULL;
  }
  g_autofree char *path = record_path(self, id);
  return read_record(self, path, error);
}

HyModelRecord *hy_model_store_current(HyModelStore *self, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self), NULL);
  g_autofree char *path = g_build_filename(self->dir, CURRENT_FILE, NULL);
  g_autofree char *text = NULL;
  if (g_file_get_contents(path, &text, NULL, NULL)) {
    HyModelRecord *r = hy_model_store_lookup(self, g_strstrip(text), NULL);
    if (r) return r;
  }
  return hy_model_store_lookup(self, self->shipped_id, error);
}

char *hy_model_store_incoming_path(HyModelStore *self) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self), NULL);
  return g_build_filename(self->dir, "incoming.hyatt", NULL);
}

HyModelRecord *hy_model_store_add(HyModelStore *self, const char *file, const char *parent,
                                  const char *const *samples, int held_out, double before_mm,
                                  double after_mm, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self) && file, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  char id[HY_MODEL_ID_SIZE];
  hy_error err = {0};
  if (hy_model_id(id, file, &err) != HY_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.msg);
    return NULL;
  }
  g_autofree char *name = g_strconcat(id, ".hyatt", NULL);
  g_autofree char *target = g_build_filename(self->dir, name, NULL);
  if (g_rename(file, target) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), _("cannot move %s to %s: %s"),
                file, target, g_strerror(e));
    return NULL;
  }
  g_autofree char *created = now_iso8601();
  HyModelRecord r = {.id = id, .path = target, .parent = (char *)parent, .created = created,
                     .samples = (char **)samples, .held_out = held_out,
                     .before_mm = before_mm, .after_mm = after_mm};
  if (!write_record(self, &r, error)) return NULL;
  return hy_model_record_copy(&r);
}

gboolean hy_model_store_set_current(HyModelStore *self, const char *id, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self) && id, FALSE);
  g_autoptr(HyModelRecord) r = hy_model_store_lookup(self, id, error);
  if (!r) return FALSE;
  g_autofree char *path = g_build_filename(self->dir, CURRENT_FILE, NULL);
  g_autofree char *text = g_strconcat(id, "\n", NULL);
  return write_atomic(path, text, error);
}

char **hy_model_store_lineage_samples(HyModelStore *self, const char *id, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(self) && id, NULL);
  g_autoptr(GStrvBuilder) sb = g_strv_builder_new();
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *at = g_strdup(id);
  while (at && g_hash_table_add(seen, g_strdup(at))) {
    g_autoptr(HyModelRecord) r = hy_model_store_lookup(self, at, error);
    if (!r) return NULL;
    for (char **s = r->samples; s && *s; s++) g_strv_builder_add(sb, *s);
    g_free(at);
    at = g_strdup(r->parent);
  }
  return g_strv_builder_end(sb);
}
