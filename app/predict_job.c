#include "predict_job.h"

#include "datadirs.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "predict.h"

struct _HyPredictJob {
  GObject parent_instance;

  char *model_path; /* owned */
  int threads;
  GMutex lock;      /* one request at a time uses the model */
  hy_predictor *predictor; /* owned, under lock; NULL until first use */
  hy_model_info *info;     /* owned, under lock */
};

G_DEFINE_FINAL_TYPE(HyPredictJob, hy_predict_job, G_TYPE_OBJECT)

void hy_predict_result_free(HyPredictResult *r) {
  if (!r) return;
  g_free(r->points);
  g_free(r->confidence);
  g_free(r->model_id);
  g_free(r->landmark_set);
  g_free(r->heatmaps);
  g_free(r);
}

char *hy_predict_job_find_default_model(void) {
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
  const char *env = g_getenv("HYATT_MODELS_DIR");
  if (env && *env) g_ptr_array_add(dirs, g_strdup(env));
  g_auto(GStrv) shipped = hy_data_dirs("models");
  for (char **d = shipped; *d; d++) g_ptr_array_add(dirs, g_strdup(*d));
  for (guint i = 0; i < dirs->len; i++) {
    g_autofree char *path = g_build_filename(dirs->pdata[i], HY_DEFAULT_MODEL, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) return g_steal_pointer(&path);
  }
  return NULL;
}

static void image_free(hy_image *image) {
  hy_image_free(image);
  g_free(image);
}

/* Under self->lock. */
static gboolean ensure_predictor(HyPredictJob *self, GError **error) {
  if (self->predictor) return TRUE;
  hy_net *net = NULL;
  hy_error err = {0};
  hy_model_info *info = g_new0(hy_model_info, 1);
  if (hy_model_load(&net, info, self->model_path, HY_INFER, self->threads, &err) != HY_OK ||
      hy_predictor_new(&self->predictor, net, self->threads, &err) != HY_OK) {
    g_free(info);
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  self->info = info;
  return TRUE;
}

/* The finest head's maps copied out of the network, which the next run
 * overwrites, and the affine from their pixels back to the image's. */
static gboolean copy_heatmaps(HyPredictResult *r, const hy_prediction *p, GError **error) {
  int s = p->heads.stride[2];
  double c = hy_head_from_input(0, s), a = hy_head_from_input(1, s) - c;
  hy_affine input_to_head = {{a, 0, c, 0, a, c}};
  hy_affine image_to_head = hy_affine_compose(&p->to_input, &input_to_head), inverse;
  hy_error err = {0};
  if (hy_affine_invert(&inverse, &image_to_head, &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    return FALSE;
  }
  r->map_w = p->heads.w[2];
  r->map_h = p->heads.h[2];
  r->heatmaps = g_memdup2(p->heads.maps[2], sizeof(float) * (gsize)p->K * r->map_w * r->map_h);
  memcpy(r->map_to_image, inverse.m, sizeof r->map_to_image);
  return TRUE;
}

static HyPredictResult *predict(HyPredictJob *self, const hy_image *image, GError **error) {
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);
  if (!ensure_predictor(self, error)) return NULL;
  hy_prediction *p = g_new(hy_prediction, 1); /* 6 KiB: not on a worker's stack */
  hy_error err = {0};
  if (hy_predictor_run(self->predictor, image, p, &err) != HY_OK) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err.msg);
    g_free(p);
    return NULL;
  }
  g_autoptr(HyPredictResult) r = g_new0(HyPredictResult, 1);
  r->K = p->K;
  r->image_w = p->image_w;
  r->image_h = p->image_h;
  r->points = g_memdup2(p->points, sizeof(hy_point) * (gsize)p->K);
  r->confidence = g_memdup2(p->confidence, sizeof(float) * (gsize)p->K);
  r->model_id = g_strdup(self->info->id);
  r->landmark_set = g_strdup(self->info->landmark_set);
  r->spacing_mm = self->info->spacing_mm;
  gboolean ok = copy_heatmaps(r, p, error);
  g_free(p);
  return ok ? g_steal_pointer(&r) : NULL;
}

static void run_thread(GTask *task, gpointer source, gpointer task_data,
                       GCancellable *cancellable) {
  GError *error = NULL;
  if (g_task_return_error_if_cancelled(task)) return;
  HyPredictResult *r = predict(HY_PREDICT_JOB(source), task_data, &error);
  if (!r)
    g_task_return_error(task, error);
  else
    g_task_return_pointer(task, r, (GDestroyNotify)hy_predict_result_free);
}

HyPredictJob *hy_predict_job_new(const char *model_path, int threads) {
  g_return_val_if_fail(model_path && threads >= 1, NULL);
  HyPredictJob *self = g_object_new(HY_TYPE_PREDICT_JOB, NULL);
  self->model_path = g_strdup(model_path);
  self->threads = threads;
  return self;
}

const char *hy_predict_job_get_model_path(HyPredictJob *self) {
  g_return_val_if_fail(HY_IS_PREDICT_JOB(self), NULL);
  return self->model_path;
}

void hy_predict_job_run_async(HyPredictJob *self, const hy_image *image,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data) {
  g_return_if_fail(HY_IS_PREDICT_JOB(self));
  g_return_if_fail(image && image->pixels);
  hy_image *copy = g_new0(hy_image, 1);
  *copy = *image;
  /* malloc: hy_image_free frees it */
  size_t bytes = sizeof(float) * (size_t)image->width * (size_t)image->height;
  copy->pixels = malloc(bytes);
  g_assert(copy->pixels);
  memcpy(copy->pixels, image->pixels, bytes);
  g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
  g_task_set_name(task, "hy_predict_job_run_async");
  g_task_set_task_data(task, copy, (GDestroyNotify)image_free);
  g_task_set_return_on_cancel(task, TRUE);
  g_task_run_in_thread(task, run_thread);
}

HyPredictResult *hy_predict_job_run_finish(HyPredictJob *self, GAsyncResult *result,
                                           GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, self), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static void hy_predict_job_finalize(GObject *object) {
  HyPredictJob *self = HY_PREDICT_JOB(object);
  hy_predictor_free(self->predictor);
  g_free(self->info);
  g_free(self->model_path);
  g_mutex_clear(&self->lock);
  G_OBJECT_CLASS(hy_predict_job_parent_class)->finalize(object);
}

static void hy_predict_job_class_init(HyPredictJobClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = hy_predict_job_finalize;
}

static void hy_predict_job_init(HyPredictJob *self) { g_mutex_init(&self->lock); }
