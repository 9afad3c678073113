#include "finetune_job.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "annotation.h"
#include "finetune.h"
#include "model.h"
#include "predict.h"

#define HELD_OUT_FRACTION 0.2

void hy_finetune_report_free(HyFinetuneReport *r) {
  if (!r) return;
  g_free(r->reason);
  g_free(r->new_id);
  g_strfreev(r->tuned_files);
  g_free(r);
}

int hy_finetune_held_out_count(int n) {
  if (n < 2) return 0;
  int h = (int)lround(HELD_OUT_FRACTION * n);
  return h < 1 ? 1 : h;
}

/* The samples of a set of annotations, with the memory they borrow. */
typedef struct samples {
  GPtrArray *paths;       /* owned: the annotation files, per sample */
  GPtrArray *images;      /* owned: the image files */
  GArray *points;         /* owned: hy_point [n][K] */
  GArray *confirmed;      /* owned: uint8_t [n][K] */
  GArray *samples;        /* owned: hy_ft_sample [n], filled by seal() */
} samples;

static void samples_init(samples *s) {
  s->paths = g_ptr_array_new_with_free_func(g_free);
  s->images = g_ptr_array_new_with_free_func(g_free);
  s->points = g_array_new(FALSE, FALSE, sizeof(hy_point));
  s->confirmed = g_array_new(FALSE, FALSE, sizeof(uint8_t));
  s->samples = g_array_new(FALSE, FALSE, sizeof(hy_ft_sample));
}

static void samples_clear(samples *s) {
  g_ptr_array_unref(s->paths);
  g_ptr_array_unref(s->images);
  g_array_unref(s->points);
  g_array_unref(s->confirmed);
  g_array_unref(s->samples);
}

/* Adds path's annotation when it has a landmark the user placed. */
static gboolean samples_add(samples *s, const char *path, int K, double spacing, GError **error) {
  g_autoptr(HyAnnotation) a = hy_annotation_load(path, NULL, error);
  if (!a) return FALSE;
  if (a->n_points != K) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("%s has %d landmarks but the model has %d"), path, a->n_points, K);
    return FALSE;
  }
  int used = 0;
  for (int k = 0; k < K; k++) {
    const HyAnnotationPoint *p = &a->points[k];
    uint8_t c = (p->state == HY_LANDMARK_MOVED || p->state == HY_LANDMARK_CONFIRMED) &&
                isfinite(p->x) && isfinite(p->y);
    hy_point q = {c ? p->x : 0, c ? p->y : 0};
    g_array_append_val(s->points, q);
    g_array_append_val(s->confirmed, c);
    used += c;
  }
  if (!used) {
    g_array_set_size(s->points, s->points->len - (guint)K);
    g_array_set_size(s->confirmed, s->confirmed->len - (guint)K);
    return TRUE;
  }
  g_autofree char *dir = g_path_get_dirname(path);
  g_ptr_array_add(s->images, g_build_filename(dir, a->image_file, NULL));
  g_ptr_array_add(s->paths, g_strdup(path));
  hy_ft_sample fs = {.spacing_mm = a->spacing_mm > 0 ? a->spacing_mm : spacing};
  g_array_append_val(s->samples, fs);
  return TRUE;
}

/* Points the samples at their arrays (which no longer grow). */
static void samples_seal(samples *s, int K) {
  for (guint i = 0; i < s->samples->len; i++) {
    hy_ft_sample *fs = &g_array_index(s->samples, hy_ft_sample, i);
    fs->image = g_ptr_array_index(s->images, i);
    fs->points = &g_array_index(s->points, hy_point, (size_t)i * K);
    fs->confirmed = &g_array_index(s->confirmed, uint8_t, (size_t)i * K);
  }
}

static gboolean fail_core(GError **error, const hy_error *err) {
  if (err->status == HY_E_CANCELLED)
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, err->msg);
  else
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err->msg);
  return FALSE;
}

/* The held-out MRE of the model in path. */
static gboolean mre_of(const char *path, const hy_ft_sample *s, int n, int threads, double *mre,
                       int *count, GError **error) {
  hy_error err = {0};
  hy_net *net = NULL;
  hy_predictor *p = NULL;
  hy_status st = hy_model_load(&net, NULL, path, HY_INFER, threads, &err);
  if (st == HY_OK) st = hy_predictor_new(&p, net, threads, &err);
  if (st == HY_OK) st = hy_finetune_mre(p, s, n, mre, count, &err);
  hy_predictor_free(p);
  return st == HY_OK || fail_core(error, &err);
}

typedef struct progress_relay {
  HyFinetuneProgressFunc fn;
  gpointer user;
} progress_relay;

static void core_progress(const hy_ft_progress *p, void *user) {
  progress_relay *r = user;
  if (r->fn) r->fn((int)p->step, (int)p->steps, p->eta_seconds, r->user);
}

static void on_cancelled(GCancellable *c, gpointer stop) { *(volatile sig_atomic_t *)stop = 1; }

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static gboolean tune(const char *model, const hy_model_info *info, const hy_ft_sample *fresh,
                     int n_fresh, const hy_ft_sample *replay, int n_replay, const char *out,
                     const HyFinetuneSettings *settings, GCancellable *cancellable,
                     progress_relay *relay, HyFinetuneReport *report, GError **error) {
  hy_finetune_options o;
  hy_finetune_options_defaults(&o);
  if (settings && settings->steps > 0) o.steps = settings->steps;
  if (settings && settings->lr > 0) o.lr = settings->lr;
  if (settings && settings->threads > 0) o.threads = settings->threads;
  if (settings && settings->seed > 0) o.seed = settings->seed;
  volatile sig_atomic_t stop = 0;
  gulong handler = cancellable ? g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled),
                                                       (gpointer)&stop, NULL) : 0;
  o.stop = &stop;
  o.progress = core_progress;
  o.user = relay;
  hy_error err = {0};
  hy_net *net = NULL;
  hy_status st = hy_model_load(&net, NULL, model, HY_TRAIN, o.threads, &err);
  double t0 = now_seconds();
  if (st == HY_OK) st = hy_finetune(net, fresh, n_fresh, replay, n_replay, &o, &err);
  report->seconds = now_seconds() - t0;
  report->steps = (int)o.steps;
  if (st == HY_OK) {
    hy_model_info ni = *info;
    ni.created[0] = 0;
    snprintf(ni.parent, sizeof ni.parent, "%s", info->id);
    ni.steps = info->steps + o.steps;
    snprintf(ni.metrics, sizeof ni.metrics, "fine-tuned on %d corrected images (%d replayed)",
             n_fresh, n_replay);
    st = hy_model_save(net, &ni, out, &err);
  }
  hy_net_free(net);
  if (handler) g_cancellable_disconnect(cancellable, handler);
  return st == HY_OK || fail_core(error, &err);
}

static int by_name_hash(gconstpointer a, gconstpointer b) {
  g_autofree char *x = g_path_get_basename(*(char *const *)a);
  g_autofree char *y = g_path_get_basename(*(char *const *)b);
  guint hx = g_str_hash(x), hy = g_str_hash(y);
  return hx < hy ? -1 : hx > hy ? 1 : strcmp(x, y);
}

char **hy_finetune_held_out(const char *const *annotations) {
  g_return_val_if_fail(annotations, NULL);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new();
  for (const char *const *a = annotations; *a; a++) g_ptr_array_add(sorted, (gpointer)*a);
  g_ptr_array_sort(sorted, by_name_hash);
  int n_hold = hy_finetune_held_out_count((int)sorted->len);
  g_autoptr(GStrvBuilder) sb = g_strv_builder_new();
  for (int i = 0; i < n_hold; i++) g_strv_builder_add(sb, g_ptr_array_index(sorted, i));
  return g_strv_builder_end(sb);
}

HyFinetuneReport *hy_finetune_round(const char *model, const char *const *annotations,
                                    const char *const *seen, const char *out,
                                    const HyFinetuneSettings *settings, GCancellable *cancellable,
                                    HyFinetuneProgressFunc progress, gpointer user_data,
                                    GError **error) {
  g_return_val_if_fail(model && annotations && out, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  hy_net_config cfg;
  hy_model_info info;
  hy_error err = {0};
  if (hy_model_inspect(&cfg, &info, model, &err) != HY_OK) {
    fail_core(error, &err);
    return NULL;
  }
  int K = cfg.landmarks, threads = settings && settings->threads > 0 ? settings->threads : 1;
  g_auto(GStrv) held_files = hy_finetune_held_out(annotations);
  samples held, fresh, old;
  samples_init(&held);
  samples_init(&fresh);
  samples_init(&old);
  g_autoptr(HyFinetuneReport) report = g_new0(HyFinetuneReport, 1);
  gboolean ok = TRUE;
  for (const char *const *a = annotations; ok && *a; a++) {
    samples *to = g_strv_contains((const char *const *)held_files, *a) ? &held
                  : seen && g_strv_contains(seen, *a) ? &old : &fresh;
    ok = samples_add(to, *a, K, info.spacing_mm, error);
  }
  samples_seal(&held, K);
  samples_seal(&fresh, K);
  samples_seal(&old, K);
  int n_hold = (int)held.samples->len, n_fresh = (int)fresh.samples->len;
  report->held_out = n_hold;
  report->tuned = n_fresh;
  report->replayed = (int)old.samples->len;
  report->samples = n_hold + n_fresh + report->replayed;
  if (ok && (n_hold < 1 || n_fresh < 1)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                n_fresh < 1 ? _("no newly corrected images to learn from")
                            : _("%d corrected images: at least 2 are needed (some are held out "
                                "to check the new model)"), report->samples);
    ok = FALSE;
  }
  progress_relay relay = {progress, user_data};
  /* written beside out and renamed only when kept: a discarded or failed
   * round leaves out as it was */
  g_autofree char *tmp = g_strconcat(out, ".new", NULL);
  ok = ok && tune(model, &info, (hy_ft_sample *)(void *)fresh.samples->data, n_fresh,
                  (hy_ft_sample *)(void *)old.samples->data, report->replayed, tmp, settings,
                  cancellable, &relay, report, error);
  int count = 0;
  const hy_ft_sample *h = (const hy_ft_sample *)(void *)held.samples->data;
  ok = ok && mre_of(model, h, n_hold, threads, &report->before_mm, &count, error) &&
       mre_of(tmp, h, n_hold, threads, &report->after_mm, &report->landmarks, error);
  if (ok && g_cancellable_set_error_if_cancelled(cancellable, error)) ok = FALSE;
  if (ok) report->kept = report->after_mm <= report->before_mm;
  if (ok && !report->kept)
    report->reason = g_strdup_printf(
        _("the new model is worse on the %d held-out images: MRE %.3f mm instead of %.3f mm"),
        n_hold, report->after_mm, report->before_mm);
  if (ok && report->kept && g_rename(tmp, out) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), _("cannot rename %s to %s: %s"),
                tmp, out, g_strerror(e));
    ok = FALSE;
  }
  if (!ok || !report->kept) g_remove(tmp);
  if (ok) {
    g_ptr_array_add(fresh.paths, NULL);
    report->tuned_files = g_strdupv((char **)fresh.paths->pdata);
  }
  samples_clear(&held);
  samples_clear(&fresh);
  samples_clear(&old);
  return ok ? g_steal_pointer(&report) : NULL;
}

HyFinetuneReport *hy_finetune_job_run(HyModelStore *store, const char *const *annotations,
                                      const HyFinetuneSettings *settings,
                                      GCancellable *cancellable, HyFinetuneProgressFunc progress,
                                      gpointer user_data, GError **error) {
  g_return_val_if_fail(HY_IS_MODEL_STORE(store) && annotations, NULL);
  g_autoptr(HyModelRecord) current = hy_model_store_current(store, error);
  if (!current) return NULL;
  /* what the current model's rounds were tuned on is replayed, the rest is new */
  g_auto(GStrv) seen = hy_model_store_lineage_samples(store, current->id, error);
  if (!seen) return NULL;
  g_autofree char *incoming = hy_model_store_incoming_path(store);
  g_autoptr(HyFinetuneReport) r = hy_finetune_round(current->path, annotations,
                                                    (const char *const *)seen, incoming,
                                                    settings, cancellable, progress, user_data,
                                                    error);
  if (!r || !r->kept) return g_steal_pointer(&r);
  g_autoptr(HyModelRecord) added = hy_model_store_add(store, incoming, current->id,
                                                      (const char *const *)r->tuned_files,
                                                      r->held_out, r->before_mm, r->after_mm,
                                                      error);
  if (!added || !hy_model_store_set_current(store, added->id, error)) return NULL;
  r->new_id = g_strdup(added->id);
  return g_steal_pointer(&r);
}

typedef struct job {
  char **annotations;         /* owned */
  HyFinetuneSettings settings;
  HyFinetuneProgressFunc progress;
  gpointer progress_data;
  GMainContext *context;      /* owned: the caller's */
} job;

static void job_free(job *j) {
  g_strfreev(j->annotations);
  g_main_context_unref(j->context);
  g_free(j);
}

typedef struct progress_call {
  HyFinetuneProgressFunc fn;
  gpointer user;
  int step, steps;
  double eta;
} progress_call;

static gboolean deliver_progress(gpointer data) {
  progress_call *c = data;
  c->fn(c->step, c->steps, c->eta, c->user);
  return G_SOURCE_REMOVE;
}

static void thread_progress(int step, int steps, double eta, gpointer user) {
  job *j = user;
  progress_call *c = g_new(progress_call, 1);
  *c = (progress_call){j->progress, j->progress_data, step, steps, eta};
  g_main_context_invoke_full(j->context, G_PRIORITY_DEFAULT, deliver_progress, c, g_free);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  job *j = data;
  GError *error = NULL;
  HyFinetuneReport *r = hy_finetune_job_run(HY_MODEL_STORE(source),
                                            (const char *const *)j->annotations, &j->settings,
                                            cancellable, j->progress ? thread_progress : NULL, j,
                                            &error);
  if (r) g_task_return_pointer(task, r, (GDestroyNotify)hy_finetune_report_free);
  else g_task_return_error(task, error);
}

void hy_finetune_job_run_async(HyModelStore *store, const char *const *annotations,
                               const HyFinetuneSettings *settings, GCancellable *cancellable,
                               HyFinetuneProgressFunc progress, gpointer progress_data,
                               GAsyncReadyCallback callback, gpointer user_data) {
  g_return_if_fail(HY_IS_MODEL_STORE(store) && annotations);
  job *j = g_new0(job, 1);
  j->annotations = g_strdupv((char **)annotations);
  if (settings) j->settings = *settings;
  j->progress = progress;
  j->progress_data = progress_data;
  j->context = g_main_context_ref_thread_default();
  g_autoptr(GTask) task = g_task_new(store, cancellable, callback, user_data);
  g_task_set_task_data(task, j, (GDestroyNotify)job_free);
  g_task_run_in_thread(task, job_thread);
}

HyFinetuneReport *hy_finetune_job_run_finish(HyModelStore *store, GAsyncResult *result,
                                             GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, store), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
