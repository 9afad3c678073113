/* A fine-tuning round on the user's corrections (DESIGN §3.5), with the
 * guard: the annotations' confirmed landmarks (state moved or confirmed:
 * placed by the user; predicted and absent ones are masked out) become
 * samples; a stable part is held out (the ~20 % whose file names hash
 * lowest, at least one: the same images stay held out as more are
 * corrected, and never train), the rest tunes a copy of the model
 * (core/finetune.h), and both models are evaluated on the held-out samples.
 * The new model is kept only if its held-out MRE is not worse; otherwise
 * the report says why and nothing is written.
 *
 * hy_finetune_round works on model files (for `hyatt finetune`);
 * hy_finetune_job_run_async does a round in a GTask thread on a
 * HyModelStore: from its current model, replaying the samples of earlier
 * rounds (those the current model's ancestors were tuned on), adding a kept
 * model to the store and making it current. Progress reaches the caller's
 * main context; the GCancellable stops the round between steps. */
#pragma once

#include <gio/gio.h>

#include "model_store.h"

G_BEGIN_DECLS

typedef struct HyFinetuneSettings {
  int steps;             /* 0: core's default (100) */
  double lr;             /* 0: core's default */
  int threads;           /* 0: 1 */
  guint64 seed;          /* 0: 1 */
} HyFinetuneSettings;

typedef struct HyFinetuneReport {
  int samples;           /* annotations with a confirmed landmark */
  int tuned, replayed, held_out;
  int steps;
  double before_mm, after_mm; /* held-out MRE of the current and new model */
  int landmarks;         /* held-out landmarks they average */
  double seconds;        /* the tuning steps */
  gboolean kept;
  char *reason;          /* owned: why it was discarded, or NULL */
  char *new_id;          /* owned: the new model's id when kept in a store */
  char **tuned_files;    /* owned: the annotations tuned on (not held out) */
} HyFinetuneReport;

void hy_finetune_report_free(HyFinetuneReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HyFinetuneReport, hy_finetune_report_free)

/* Progress of the steps, called in the caller's context. */
typedef void (*HyFinetuneProgressFunc)(int step, int steps, double eta_seconds, gpointer user_data);

/* How many of n annotations are held out. */
int hy_finetune_held_out_count(int n);

/* The annotations held out of n (free with g_strfreev). */
char **hy_finetune_held_out(const char *const *annotations);

/* Tunes model on annotations (all the confirmed ones), those not held out
 * and in seen (tuned on before, may be NULL) as replay, the others as new
 * samples, and writes the new model to out when it is kept (atomically;
 * out is left alone otherwise).
 * Progress is called from this thread. NULL with error on failure or when
 * cancelled (G_IO_ERROR_CANCELLED); a discarded model is not an error. */
HyFinetuneReport *hy_finetune_round(const char *model, const char *const *annotations,
                                    const char *const *seen, const char *out,
                                    const HyFinetuneSettings *settings,
                                    GCancellable *cancellable, HyFinetuneProgressFunc progress,
                                    gpointer user_data, GError **error);

/* The same on the store's current model, in a thread; a kept model is
 * added to the store and made current. progress (may be NULL) runs in the
 * thread-default main context of the caller. */
void hy_finetune_job_run_async(HyModelStore *store, const char *const *annotations,
                               const HyFinetuneSettings *settings, GCancellable *cancellable,
                               HyFinetuneProgressFunc progress, gpointer progress_data,
                               GAsyncReadyCallback callback, gpointer user_data);
HyFinetuneReport *hy_finetune_job_run_finish(HyModelStore *store, GAsyncResult *result,
                                             GError **error);

/* The synchronous form of the job (the thread's body). */
HyFinetuneReport *hy_finetune_job_run(HyModelStore *store, const char *const *annotations,
                                      const HyFinetuneSettings *settings,
                                      GCancellable *cancellable, HyFinetuneProgressFunc progress,
                                      gpointer user_data, GError **error);

G_END_DECLS
