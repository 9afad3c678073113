/* HYATT-Net model files (DESIGN §4.1): a .hyatt container whose header says
 * `format = hyatt-model`, carries the network configuration
 * (hy_net_config_to_meta), the landmark set and provenance (hy_model_info),
 * and whose tensors are exactly the network's parameter table, parameters
 * and BatchNorm running statistics, by their PyTorch state_dict names.
 *
 * Checkpoints (`format = hyatt-checkpoint`) are a model plus training state:
 * extra tensors whose names contain a '/' (e.g. optim/m, optim/step,
 * rng/state; no parameter name does) and extra header keys containing a '.'
 * (e.g. optim.lr; no model key does). A model loader accepts a checkpoint
 * and ignores its extras; a plain model with any tensor outside the table
 * is refused.
 *
 * Loading checks everything before the network is allocated: structure and
 * CRCs, the configuration, the memory it would need, every tensor's
 * presence, shape and finiteness, and no unexpected tensors. Every refusal
 * is one line naming the file and what is wrong. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "net.h"
#include "tensorfile.h"

#define HY_MODEL_FILE_MAX ((size_t)2 << 30)   /* bytes read at most */
/* Network bytes at most, and at most 3/4 of the machine's RAM (`paper`
 * needs 4 GiB for inference and 19 GiB to train one image, `small` 0.1 and
 * 0.45 GiB). */
#define HY_MODEL_MEMORY_MAX ((double)(8ull << 30))
#define HY_MODEL_LANDMARKS_MAX 256             /* as hy_net_config_check */
#define HY_MODEL_NAME_MAX 64                   /* landmark name bytes + NUL */
#define HY_MODEL_ID_SIZE 9                     /* 8 hex digits + NUL */

/* What a model says about itself besides its weights. Text is UTF-8 on one
 * line (no control characters); landmark names also contain no comma and
 * do not start or end with a blank; landmark_set is [A-Za-z0-9_.-]+. */
typedef struct hy_model_info {
  char landmark_set[64];  /* e.g. "isbi2015" */
  int landmark_count;     /* must equal the configuration's landmarks */
  char landmark_names[HY_MODEL_LANDMARKS_MAX][HY_MODEL_NAME_MAX];
  double spacing_mm;      /* pixel spacing the model was trained at (> 0) */
  char dataset[256];      /* provenance: what it was trained on */
  int64_t steps;          /* training steps (0: random initialisation) */
  char parent[72];        /* id of the model it was trained from, or "" */
  char created[32];       /* ISO 8601 UTC; "" on save: now */
  char metrics[512];      /* free text, e.g. "test1 MRE 1.63 mm" */
  char hyatt_version[32];
  /* filled by load and inspect; ignored by save */
  int checkpoint;          /* the file is a hyatt-checkpoint */
  char id[HY_MODEL_ID_SIZE]; /* hy_model_id of the file */
  size_t file_bytes;
  size_t param_count;      /* trainable floats */
  size_t buffer_count;     /* BatchNorm running statistics */
} hy_model_info;

/* Extra state saved with a model to make a checkpoint. All pointers are
 * borrowed for the duration of the save. */
typedef struct hy_model_extra_tensor {
  const char *name;  /* contains '/', [A-Za-z0-9_.-/@], e.g. "optim/m" */
  hy_dtype dtype;    /* HY_F32 (must be finite) or HY_I32 */
  const void *data;  /* product(dims) elements */
  int ndim;
  int64_t dims[HY_TENSOR_MAX_DIMS];
} hy_model_extra_tensor;

typedef struct hy_model_extra_meta {
  const char *key;   /* contains '.', [A-Za-z0-9_.-], e.g. "optim.lr" */
  const char *value; /* one line */
} hy_model_extra_meta;

typedef struct hy_model_extra {
  const hy_model_extra_tensor *tensors;
  int n_tensors;
  const hy_model_extra_meta *meta;
  int n_meta;
} hy_model_extra;

/* Writes net and info to path atomically as a hyatt-model. Refuses invalid
 * info and any non-finite weight or running statistic (HY_E_NUMERIC). */
hy_status hy_model_save(const hy_net *net, const hy_model_info *info, const char *path,
                        hy_error *err);

/* The same, with extra state: writes a hyatt-checkpoint when extra is not
 * NULL. f32 extras must be finite too. */
hy_status hy_model_save_ex(const hy_net *net, const hy_model_info *info,
                           const hy_model_extra *extra, const char *path, hy_error *err);

/* Loads a model (or checkpoint) into a new network for one image per step,
 * running on a pool of `threads`, ready to run: an inference network has
 * its BatchNorms folded (hy_net_fold_bn). info may be NULL. */
hy_status hy_model_load(hy_net **net, hy_model_info *info, const char *path, hy_mode mode,
                        int threads, hy_error *err);

/* The same for N images per step; with tf not NULL, also hands over the
 * loaded file (free with hy_tensorfile_free) so a trainer can read its
 * extras: hy_tensorfile_find(tf, "optim/m"), hy_tensorfile_meta(tf, "optim.lr"). */
hy_status hy_model_load_ex(hy_net **net, hy_model_info *info, hy_tensorfile **tf,
                           const char *path, int N, hy_mode mode, int threads,
                           hy_error *err);

/* Reads and checks a model file exactly as hy_model_load does (for one
 * image, inference), without allocating the network. */
hy_status hy_model_inspect(hy_net_config *cfg, hy_model_info *info, const char *path,
                           hy_error *err);

/* The file's identity: CRC-32 of all its bytes as 8 lower-case hex digits.
 * Annotations record it as the model that predicted them, models as their
 * parent. */
hy_status hy_model_id(char id[HY_MODEL_ID_SIZE], const char *path, hy_error *err);
