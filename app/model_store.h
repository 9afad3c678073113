/* HyModelStore: the user's models (DESIGN §3.5), in
 * $XDG_DATA_HOME/hyatt-studio/models/ (or any folder):
 *
 *   <id>.hyatt   a fine-tuned model (id = hy_model_id of its bytes)
 *   <id>.json    its record: {"format": "hyatt-model-record", "version": 1,
 *                "id", "file" (absolute, for the shipped model, else the
 *                base name), "shipped", "parent" (id or null), "created",
 *                "samples": [annotation files it was tuned on],
 *                "held_out", "before_mm", "after_mm" (null: not measured)}
 *   current      the current model's id and a newline
 *
 * Every file is written atomically (temp, fsync, rename), a model before
 * its record and a record before `current` names it, so a crash at any
 * moment leaves at worst an unlisted file: a model is in the store when
 * its record is and its file exists. `current` naming nothing listed (or
 * missing) means the shipped model, which is recorded by path and never
 * written to. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct HyModelRecord {
  char *id;              /* owned */
  char *path;            /* owned: the model file */
  gboolean shipped;
  char *parent;          /* owned: id, or NULL */
  char *created;         /* owned: ISO 8601 UTC */
  char **samples;        /* owned, NULL-terminated */
  int held_out;
  double before_mm, after_mm; /* NAN: not measured */
} HyModelRecord;

void hy_model_record_free(HyModelRecord *r);
HyModelRecord *hy_model_record_copy(const HyModelRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HyModelRecord, hy_model_record_free)

#define HY_TYPE_MODEL_STORE (hy_model_store_get_type())
G_DECLARE_FINAL_TYPE(HyModelStore, hy_model_store, HY, MODEL_STORE, GObject)

/* $XDG_DATA_HOME/hyatt-studio/models (free with g_free). */
char *hy_model_store_default_dir(void);

/* Opens (creating it if needed) the store in dir, recording shipped (a
 * model file, checked) on first use. */
HyModelStore *hy_model_store_new(const char *dir, const char *shipped, GError **error);

const char *hy_model_store_get_dir(HyModelStore *self);

/* Every listed model, oldest first (free with g_ptr_array_unref). */
GPtrArray *hy_model_store_list(HyModelStore *self, GError **error);

/* The record of id, or NULL with an error. */
HyModelRecord *hy_model_store_lookup(HyModelStore *self, const char *id, GError **error);

/* The current model (the shipped one unless another was made current). */
HyModelRecord *hy_model_store_current(HyModelStore *self, GError **error);

/* A path in the store where a new model can be written before hy_model_store_add. */
char *hy_model_store_incoming_path(HyModelStore *self);

/* Moves the model file `file` (written in the store's folder, e.g. at
 * hy_model_store_incoming_path) into the store under its id and records it;
 * does not make it current. */
HyModelRecord *hy_model_store_add(HyModelStore *self, const char *file, const char *parent,
                                  const char *const *samples, int held_out, double before_mm,
                                  double after_mm, GError **error);

/* Makes a listed model current (atomically); restores an earlier one too. */
gboolean hy_model_store_set_current(HyModelStore *self, const char *id, GError **error);

/* The samples the model id and its ancestors were tuned on (free with
 * g_strfreev). */
char **hy_model_store_lineage_samples(HyModelStore *self, const char *id, GError **error);

G_END_DECLS
