/* `hyatt train --data DIR --config small|paper|tiny --steps N [--resume CKPT]
 *  [--out DIR] ...`: trains HYATT-Net on a data set folder (core/train.h).
 * Writes OUT/last.hyatt (checkpoint), OUT/best.hyatt (best validation MRE)
 * and OUT/train.log (TSV: step, loss, lr, grad_norm, val_mre_mm). On a
 * terminal one progress line is redrawn; otherwise one line per
 * --log-every steps. Ctrl-C writes a checkpoint and exits with 130.
 * With --distributed under mpirun, one process per rank trains one model
 * (docs/distributed.md); rank 0 alone prints, logs and writes OUT/. */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "datasetinfo.h"
#ifdef HY_HAVE_MPI
#include "distributed.h"
#endif
#include "train.h"

#define CMD "train"
#define EXIT_INTERRUPTED 130 /* 128 + SIGINT, as shells report it */

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig) {
  (void)sig;
  stop_requested = 1;
}

typedef struct view {
  gboolean tty;
  int log_every;
  FILE *log;          /* owned: OUT/train.log */
  gboolean pending;   /* a step row not yet written (a validation may follow) */
  hy_train_progress last;
  gboolean line_open; /* a \r-updated line is on the terminal */
} view;

static void format_eta(char *buf, size_t size, double s) {
  if (!isfinite(s) || s < 0) s = 0;
  long t = lround(s);
  snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void flush_row(view *v, double val) {
  if (!v->pending || !v->log) return;
  const hy_train_progress *p = &v->last;
  fprintf(v->log, "%lld\t%.6g\t%.6g\t%.6g\t", (long long)p->step, p->loss, p->lr, p->grad_norm);
  if (isfinite(val)) fprintf(v->log, "%.4f", val);
  fprintf(v->log, "\n");
  fflush(v->log);
  v->pending = FALSE;
}

/* Ends the redrawn line before a line of its own. */
static void close_line(view *v) {
  if (v->line_open) printf("\n");
  v->line_open = FALSE;
}

static void on_progress(const hy_train_progress *p, void *user) {
  view *v = user;
  char eta[32];
  switch (p->event) {
  case HY_TRAIN_CACHING:
    if (v->tty) {
      printf(_("\rcaching training images %d/%d"), p->cached, p->to_cache);
      v->line_open = TRUE;
    } else if (p->cached == 0) {
      printf(_("caching %d training images\n"), p->to_cache);
    }
    if (p->cached == p->to_cache) close_line(v);
    break;
  case HY_TRAIN_STEP:
    flush_row(v, NAN);
    v->last = *p;
    v->pending = TRUE;
    format_eta(eta, sizeof eta, p->eta_seconds);
    if (v->tty || p->step % v->log_every == 0 || p->step == 1 || p->step == p->steps) {
      /* TRANSLATORS: the training progress line */
      printf(_("%sstep %lld/%lld  loss %.4f  lr %.2e  grad %.3g  %.2f s/step  ETA %s%s"),
             v->tty ? "\r" : "", (long long)p->step, (long long)p->steps, p->loss, p->lr,
             p->grad_norm, p->seconds_per_step, eta, v->tty ? "\033[K" : "\n");
      v->line_open = v->tty;
    }
    break;
  case HY_TRAIN_VALIDATED:
    flush_row(v, p->val_mre_mm);
    close_line(v);
    printf(_("validation at step %lld (%d images): MRE %.3f ± %.3f mm, SDR 2 mm %.1f %%%s\n"),
           (long long)p->step, p->val_images, p->val_mre_mm, p->val_sd_mm, 100 * p->val_sdr2,
           p->val_best ? _(" (best so far)") : "");
    break;
  case HY_TRAIN_CHECKPOINT:
    flush_row(v, NAN);
    if (!v->tty) printf(_("checkpoint at step %lld: %s\n"), (long long)p->step, p->path);
    break;
  }
  fflush(stdout);
}

/* OUT/train.log: kept up to `step` rows when resuming (rows of an
 * interrupted run after its checkpoint would otherwise repeat), else new. */
static FILE *open_log(const char *path, gint64 step, GError **error) {
  g_autoptr(GString) keep = g_string_new("step\tloss\tlr\tgrad_norm\tval_mre_mm\n");
  g_autofree char *old = NULL;
  if (step > 0 && g_file_get_contents(path, &old, NULL, NULL)) {
    g_auto(GStrv) lines = g_strsplit(old, "\n", -1);
    for (int i = 1; lines[i]; i++) {
      char *end = NULL;
      gint64 s = g_ascii_strtoll(lines[i], &end, 10);
      if (end != lines[i] && *end == '\t' && s <= step) g_string_append_printf(keep, "%s\n", lines[i]);
    }
  }
  if (!g_file_set_contents(path, keep->str, (gssize)keep->len, error)) return NULL;
  FILE *f = g_fopen(path, "a");
  if (!f)
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), _("cannot open %s: %s"), path,
                g_strerror(errno));
  return f;
}

/* Trains with the options and reports; the exit status. reduce_seconds:
 * the time spent in the all-reduce so far when distributed, else NULL. */
static int train(hy_train_options *o, view *v, const char *source, double (*reduce_seconds)(void)) {
  gboolean distributed = reduce_seconds != NULL;
  const char *data = o->data_dir, *out = o->out_dir, *resume = o->resume;
  gboolean lead = o->rank == 0; /* prints and logs for all the processes */
  if (lead)
    printf(_("hyatt train: %s (descriptor: %s), %s\n"), data, source ? source : _("none"),
           resume ? resume : o->config);
  fflush(stdout);
  g_autoptr(GError) error = NULL;
  hy_error err = {0};
  hy_trainer *t = NULL;
  hy_status st = hy_trainer_new(&t, o, &err);
  gboolean ran = st == HY_OK; /* hy_trainer_run checkpoints when stopped */
  gint64 from = 0;
  double seconds = 0;
  if (st == HY_OK) {
    hy_net *net = hy_trainer_net(t);
    from = hy_trainer_step(t);
    if (lead)
      printf(_("%d training and %d validation images, %d landmarks, input %dx%d, %zu parameters, "
               "%d threads, from step %lld\n"),
             hy_trainer_train_count(t), hy_trainer_val_count(t), net->cfg.landmarks,
             net->cfg.in_h, net->cfg.in_w, hy_net_param_count(net), o->threads, (long long)from);
    if (lead && distributed)
      printf(_("data parallel: %d processes, %d samples a step\n"), o->size, o->size * o->accumulate);
    g_autofree char *log_path = g_build_filename(out, "train.log", NULL);
    if (lead && !(v->log = open_log(log_path, from, &error))) {
      hy_trainer_free(t);
      return hy_cli_error(CMD, "%s", error->message);
    }
    gint64 t0 = g_get_monotonic_time();
    st = hy_trainer_run(t, &err);
    seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    flush_row(v, NAN);
    if (v->log) fclose(v->log);
  }
  close_line(v);
  gint64 done = t ? hy_trainer_step(t) : 0;
  hy_trainer_free(t);
  if (lead && distributed && done > from) {
    /* per step of this run; the all-reduce time includes waiting for the slowest process */
    double step = seconds / (double)(done - from), reduce = reduce_seconds() / (double)(done - from);
    printf(_("%d processes: %.3f steps/s, all-reduce %.1f ms a step (%.1f %% of the step time)\n"),
           o->size, 1 / step, 1e3 * reduce, 100 * reduce / step);
  }
  g_autofree char *last = g_build_filename(out, "last.hyatt", NULL);
  g_autofree char *best = g_build_filename(out, "best.hyatt", NULL);
  if (st == HY_E_CANCELLED && ran) {
    if (lead)
      g_printerr(_("hyatt train: stopped at step %lld; checkpoint %s. To continue: hyatt train "
                   "--data %s --out %s --resume %s\n"),
                 (long long)done, last, data, out, last);
    return EXIT_INTERRUPTED;
  }
  if (st == HY_E_CANCELLED) {
    g_printerr(_("hyatt train: stopped while reading the training images; nothing written\n"));
    return EXIT_INTERRUPTED;
  }
  if (st != HY_OK && distributed) return hy_cli_error(CMD, _("rank %d: %s"), o->rank, err.msg);
  if (st != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
  if (lead) printf(_("done: %lld steps; best model %s, checkpoint %s\n"), (long long)done, best, last);
  return HY_EXIT_OK;
}

int hy_cmd_train(int argc, char **argv) {
  g_autofree char *data = NULL, *config = NULL, *resume = NULL, *out = NULL, *reference = NULL;
  g_autofree char *input = NULL, *split = NULL, *info_file = NULL;
  gint64 steps = 0, seed = 1, val_every = 500, warmup = 200;
  int threads = (int)g_get_num_processors(), log_every = 50;
  double checkpoint_minutes = 5, lr = 1e-3, spacing = 0, val_fraction = 0.1;
  gboolean flip = FALSE, no_augment = FALSE, distributed = FALSE;
  double rank_timeout = 600;
  const GOptionEntry entries[] = {
    {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, N_("Data set folder (images/, *_px.csv, split files)"), N_("DIR")},
    {"config", 'c', 0, G_OPTION_ARG_STRING, &config, N_("Network configuration (default: small)"), N_("small|paper|tiny")},
    {"steps", 'n', 0, G_OPTION_ARG_INT64, &steps, N_("Training steps in all (with --resume: default the checkpoint's)"), N_("N")},
    {"resume", 'r', 0, G_OPTION_ARG_FILENAME, &resume, N_("Continue from a checkpoint (OUT/last.hyatt)"), N_("CKPT")},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Output folder (default: train-out)"), N_("DIR")},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Random seed (default: 1)"), N_("S")},
    {"reference", 0, 0, G_OPTION_ARG_STRING, &reference, N_("Points to learn: mean of the annotators, or one of them (default: mean)"), N_("mean|senior|junior")},
    {"split", 0, 0, G_OPTION_ARG_STRING, &split, N_("Training split (default: train, or all images)"), N_("NAME")},
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: the processors)"), N_("N")},
    {"val-every", 0, 0, G_OPTION_ARG_INT64, &val_every, N_("Validate every N steps, 0: at the end only (default: 500)"), N_("N")},
    {"val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction, N_("Part of the training split held out for validation, from its end (default: 0.1)"), N_("F")},
    {"checkpoint-minutes", 0, 0, G_OPTION_ARG_DOUBLE, &checkpoint_minutes, N_("Minutes between checkpoints (default: 5)"), N_("M")},
    {"input", 0, 0, G_OPTION_ARG_STRING, &input, N_("Network input size, multiples of 32 (default: the configuration's)"), N_("HxW")},
    {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, N_("Peak learning rate (default: 0.001)"), N_("LR")},
    {"warmup", 0, 0, G_OPTION_ARG_INT64, &warmup, N_("Linear warm-up steps (default: 200)"), N_("N")},
    {"flip", 0, 0, G_OPTION_ARG_NONE, &flip, N_("Also mirror images horizontally (only for landmark sets without left/right pairs)"), NULL},
    {"no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment, N_("Train on the letterboxed images as they are"), NULL},
    {"dataset-info", 0, 0, G_OPTION_ARG_FILENAME, &info_file, N_("Data set descriptor (JSON; default: DIR/dataset.json or the built-in one)"), N_("FILE")},
    {"spacing", 0, 0, G_OPTION_ARG_DOUBLE, &spacing, N_("Pixel spacing in mm, instead of the descriptor's"), N_("MM")},
    {"log-every", 0, 0, G_OPTION_ARG_INT, &log_every, N_("Progress line every N steps when not on a terminal (default: 50)"), N_("N")},
    {"distributed", 0, 0, G_OPTION_ARG_NONE, &distributed, N_("Data-parallel training with the other processes of mpirun -np N"), NULL},
    {"rank-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &rank_timeout, N_("With --distributed: abort when waiting this long for the other processes (default: 600)"), N_("S")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
  g_option_context_set_summary(ctx, _("Trains HYATT-Net on a data set folder. Writes OUT/last.hyatt (a checkpoint\n"
                                      "for --resume), OUT/best.hyatt (the model with the best validation MRE)\n"
                                      "and OUT/train.log. Ctrl-C writes a checkpoint and stops."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  if (argc > 1) return hy_cli_usage_error(CMD, _("unexpected argument '%s'"), argv[1]);
  if (!data) return hy_cli_usage_error(CMD, _("--data DIR is required"));
  if (!resume && steps < 1) return hy_cli_usage_error(CMD, _("--steps N (at least 1) is required"));
  if (steps < 0) return hy_cli_usage_error(CMD, _("--steps must not be negative"));
  if (threads < 1 || threads > 64) return hy_cli_usage_error(CMD, _("--threads must be in 1..64"));
  if (log_every < 1) return hy_cli_usage_error(CMD, _("--log-every must be at least 1"));
  if (!(checkpoint_minutes > 0)) return hy_cli_usage_error(CMD, _("--checkpoint-minutes must be positive"));
  if (!(rank_timeout > 0)) return hy_cli_usage_error(CMD, _("--rank-timeout must be positive"));
#ifndef HY_HAVE_MPI
  if (distributed) return hy_cli_error(CMD, _("this build has no MPI support"));
#endif
  if (spacing < 0 || spacing > 10) return hy_cli_usage_error(CMD, _("--spacing must be in (0, 10] mm"));
  int in_h = 0, in_w = 0;
  if (input) {
    char x = 0, rest = 0;
    if (sscanf(input, "%d%c%d%c", &in_h, &x, &in_w, &rest) != 3 || (x != 'x' && x != 'X') ||
        in_h < 32 || in_w < 32 || in_h % 32 || in_w % 32)
      return hy_cli_usage_error(CMD, _("--input must be HxW, multiples of 32 (e.g. 512x416)"));
  }
  if (!out) out = g_strdup("train-out");

  hy_dataset_spec spec;
  g_autoptr(GError) error = NULL;
  g_autofree char *source = NULL;
  if (!hy_dataset_spec_from_options(&spec, data, info_file, spacing, &source, &error))
    return hy_cli_error(CMD, "%s", error->message);

  hy_train_options o;
  hy_train_options_defaults(&o);
  o.data_dir = data;
  o.spec = &spec;
  o.split = split;
  o.reference = reference ? reference : "mean";
  o.val_fraction = val_fraction;
  o.config = config ? config : "small";
  o.in_h = in_h;
  o.in_w = in_w;
  o.steps = steps;
  o.lr = lr;
  o.warmup = warmup;
  o.seed = (uint64_t)seed;
  if (no_augment) hy_augment_off(&o.augment);
  if (flip) o.augment.flip_p = 0.5;
  o.threads = threads;
  o.val_every = val_every;
  o.checkpoint_seconds = 60 * checkpoint_minutes;
  o.out_dir = out;
  o.resume = resume;
  o.version = PACKAGE_VERSION;
  o.stop = &stop_requested;
  /* mpirun gives its processes a pty even when its own output is a file:
   * lines, not a redrawn one, then */
  view v = {.tty = isatty(STDOUT_FILENO) && !distributed, .log_every = log_every};
  o.progress = on_progress;
  o.user = &v;

  /* the first Ctrl-C asks for a checkpoint, a second one ends at once */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);

#ifdef HY_HAVE_MPI
  if (distributed) {
    if (!hy_dist_start(rank_timeout, &o.rank, &o.size, &error))
      return hy_cli_error(CMD, "%s", error->message);
    o.allreduce = hy_dist_allreduce;
    if (o.rank != 0) o.progress = NULL;
    return hy_dist_finish(train(&o, &v, source, hy_dist_reduce_seconds));
  }
#endif
  return train(&o, &v, source, NULL);
}
