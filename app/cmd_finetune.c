/* `hyatt finetune --model M [--out M2] [--steps N] [--lr LR] [--seed N]
 *  [--threads N] [--replay ANNOTATION]… ANNOTATION…`: one fine-tuning
 * round (finetune_job.h) on the corrected landmarks of the annotations,
 * replaying the --replay ones (earlier corrections, or images like those
 * the model was trained on), with the guard: the held-out
 * MRE of M and of the new model, and the new model written to M2 only when
 * it is not worse. M is never written. Progress on stderr, the report on
 * stdout; a discarded model is not a failure (exit 0, the reason printed). */
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "finetune_job.h"

#define CMD "finetune"

static void on_progress(int step, int steps, double eta, gpointer user) {
  gboolean *tty = user;
  if (*tty || step == steps || step % 10 == 0)
    fprintf(stderr, _("%sstep %d of %d, %.0f s left%s"), *tty ? "\r" : "", step, steps, eta,
            *tty && step < steps ? "" : "\n");
}

int hy_cmd_finetune(int argc, char **argv) {
  g_autofree char *model = NULL, *out = NULL;
  g_auto(GStrv) replay = NULL;
  int steps = 0, threads = 1, seed = 1;
  double lr = 0;
  const GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model, N_("Model to start from (.hyatt; never written)"), N_("M")},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Where to write the new model if it is kept"), N_("M2")},
    {"steps", 0, 0, G_OPTION_ARG_INT, &steps, N_("Tuning steps (default: 100)"), N_("N")},
    {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, N_("Learning rate (default: 1e-4)"), N_("LR")},
    {"seed", 0, 0, G_OPTION_ARG_INT, &seed, N_("Seed of the sample order and augmentation (default: 1)"), N_("N")},
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: 1)"), N_("N")},
    {"replay", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &replay, N_("An earlier correction to replay (repeatable)"), N_("ANNOTATION")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(N_("ANNOTATION…"));
  /* xgettext:no-c-format */
  g_option_context_set_summary(ctx, _("Fine-tunes a model on the landmarks the user moved or confirmed in the\n"
                                      "annotations (<image>.hyatt.json). About 20 % of the images are held out;\n"
                                      "the new model is kept only if its mean radial error on them is not worse."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;
  if (!model) return hy_cli_usage_error(CMD, _("--model M is required"));
  if (argc < 2) return hy_cli_usage_error(CMD, _("no annotation files given"));
  if (threads < 1 || threads > 64) return hy_cli_usage_error(CMD, _("--threads must be in 1..64"));
  if (steps < 0 || steps > 100000) return hy_cli_usage_error(CMD, _("--steps must be in 1..100000 (0: the default)"));
  if (seed < 1) return hy_cli_usage_error(CMD, _("--seed must be positive"));
  if (!(lr >= 0 && lr < 1)) return hy_cli_usage_error(CMD, _("--lr must be in (0, 1)"));

  g_autofree char *scratch_dir = NULL, *target = NULL;
  if (out) {
    target = g_strdup(out);
  } else {
    /* evaluated, then dropped */
    g_autoptr(GError) e = NULL;
    scratch_dir = g_dir_make_tmp("hyatt-finetune-XXXXXX", &e);
    if (!scratch_dir) return hy_cli_error(CMD, "%s", e->message);
    target = g_build_filename(scratch_dir, "new.hyatt", NULL);
  }
  HyFinetuneSettings settings = {.steps = steps, .lr = lr, .threads = threads,
                                 .seed = (guint64)seed};
  gboolean tty = isatty(fileno(stderr));
  g_autoptr(GError) error = NULL;
  /* the round holds out of all of them and replays those it has seen */
  g_autoptr(GStrvBuilder) all = g_strv_builder_new();
  g_strv_builder_addv(all, (const char **)argv + 1);
  if (replay) g_strv_builder_addv(all, (const char **)replay);
  g_auto(GStrv) annotations = g_strv_builder_end(all);
  g_autoptr(HyFinetuneReport) r = hy_finetune_round(model, (const char *const *)annotations,
                                                    (const char *const *)replay, target,
                                                    &settings, NULL, on_progress, &tty, &error);
  if (scratch_dir) {
    g_remove(target);
    g_rmdir(scratch_dir);
  }
  if (!r) return hy_cli_error(CMD, "%s", error->message);
  printf(_("# hyatt finetune: %s\n\n"), model);
  printf(_("- corrected images: %d (%d tuned on, %d replayed, %d held out)\n"), r->samples,
         r->tuned, r->replayed, r->held_out);
  printf(_("- tuning: %d steps in %.1f s (%.2f s a step, %d thread(s))\n"), r->steps, r->seconds,
         r->seconds / r->steps, threads);
  printf(_("- held-out MRE: before %.3f mm, after %.3f mm (%+.1f %%, %d landmarks)\n"),
         r->before_mm, r->after_mm, 100 * (r->after_mm / r->before_mm - 1), r->landmarks);
  if (!r->kept) printf(_("- discarded: %s\n"), r->reason);
  else if (out) printf(_("- kept: written to %s\n"), out);
  else printf(_("- kept, but not written (no --out)\n"));
  return HY_EXIT_OK;
}
