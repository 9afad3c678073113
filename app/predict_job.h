/* HyPredictJob: landmark prediction off the main thread. One job is one
 * worker with one model instance (loaded on first use, in the worker);
 * requests to the same job run one after another in GTask threads and their
 * results come back to the caller's main context. A cancelled request
 * reports G_IO_ERROR_CANCELLED at once; the forward pass in flight finishes
 * in the background and its result is dropped. */
#pragma once

#include <gio/gio.h>

#include "image.h"
#include "landmarks.h"

G_BEGIN_DECLS

/* What a prediction gives a document. */
typedef struct HyPredictResult {
  int K;
  int image_w, image_h;
  hy_point *points;      /* owned, [K] original px */
  float *confidence;     /* owned, [K] in [0, 1] */
  char *model_id;        /* owned: hy_model_id of the model file */
  char *landmark_set;    /* owned: the model's landmark set */
  double spacing_mm;     /* the model's, 0 when unknown */
  float *heatmaps;       /* owned, [K][map_h][map_w]: the finest head */
  int map_w, map_h;
  double map_to_image[6]; /* heatmap pixel (u, v) -> original px (x, y) */
} HyPredictResult;

void hy_predict_result_free(HyPredictResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HyPredictResult, hy_predict_result_free)

#define HY_DEFAULT_MODEL "small-isbi2015.hyatt"

/* The shipped default model: HY_DEFAULT_MODEL in $HYATT_MODELS_DIR, else in
 * hy_data_dirs("models"); NULL when none is there (free with g_free). */
char *hy_predict_job_find_default_model(void);

#define HY_TYPE_PREDICT_JOB (hy_predict_job_get_type())
G_DECLARE_FINAL_TYPE(HyPredictJob, hy_predict_job, HY, PREDICT_JOB, GObject)

/* A worker for the model file at model_path; threads: for the forward pass. */
HyPredictJob *hy_predict_job_new(const char *model_path, int threads);
const char *hy_predict_job_get_model_path(HyPredictJob *self);

/* Predicts image (copied: the caller may free it at once). */
void hy_predict_job_run_async(HyPredictJob *self, const hy_image *image,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
HyPredictResult *hy_predict_job_run_finish(HyPredictJob *self, GAsyncResult *result,
                                           GError **error);

G_END_DECLS
