/* `hyatt`: the command line of Hyatt Studio (DESIGN §5). Finds the
 * subcommand and hands it the rest of the command line. */
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "blas.h"
#include "cli.h"
#include "config.h"

typedef struct command {
  const char *name;
  const char *summary; /* N_() marked */
  int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
  {"bench", N_("Measure the speed of the ops and the network"), hy_cmd_bench},
  {"eval", N_("Measure a model's landmark errors on a data set split"), hy_cmd_eval},
  {"export", N_("Write annotations as Slicer markups, COCO keypoints, CSV or ISBI text"), hy_cmd_export},
  {"finetune", N_("Fine-tune a model on corrected annotations, keeping it only if not worse"), hy_cmd_finetune},
  {"import", N_("Read Slicer markups, COCO keypoints, CSV or ISBI text into annotations"), hy_cmd_import},
  {"info", N_("Check a model file and describe it"), hy_cmd_info},
  {"measure", N_("Compute the measurements of a landmark set on landmarks"), hy_cmd_measure},
  {"model-init", N_("Write an untrained model with seeded random weights"), hy_cmd_model_init},
  {"predict", N_("Predict the landmarks of images"), hy_cmd_predict},
  {"report", N_("Write a one-page PDF report of an annotation"), hy_cmd_report},
  {"show", N_("Draw landmarks over an image and write a PNG"), hy_cmd_show},
  {"train", N_("Train a model on a data set"), hy_cmd_train},
};

static void print_help(FILE *to) {
  /* TRANSLATORS: the line before the list of commands of `hyatt --help` */
  fprintf(to, "%s\n\n", _("Usage: hyatt COMMAND [OPTION…] [ARGUMENT…]"));
  fprintf(to, "%s\n", _("Commands:"));
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(to, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
  fprintf(to, "\n%s\n", _("Options:"));
  fprintf(to, "  %-10s %s\n", "--help", _("Show this help"));
  fprintf(to, "  %-10s %s\n", "--version", _("Show the version"));
  fprintf(to, "\n%s\n", _("'hyatt COMMAND --help' describes a command."));
}

static const command *find_command(const char *name) {
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  hy_blas_init(); /* sets an environment variable: before any thread starts */
  setlocale(LC_ALL, "");
  /* HYATT_LOCALEDIR: the .mo files of a build tree (the i18n test) instead of
   * the installed ones. */
  const char *localedir = g_getenv("HYATT_LOCALEDIR");
  bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
  textdomain(GETTEXT_PACKAGE);

  if (argc < 2) {
    print_help(stderr);
    return HY_EXIT_USAGE;
  }
  const char *arg = argv[1];
  if (strcmp(arg, "--version") == 0) {
    printf("hyatt %s\n", PACKAGE_VERSION);
    return HY_EXIT_OK;
  }
  if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
    print_help(stdout);
    return HY_EXIT_OK;
  }
  if (strcmp(arg, "help") == 0 && argc == 3 && find_command(argv[2])) {
    char *help_argv[] = {argv[2], (char *)"--help", NULL};
    return find_command(argv[2])->run(2, help_argv);
  }
  const command *cmd = find_command(arg);
  if (!cmd) {
    g_printerr(arg[0] == '-' ? _("hyatt: unknown option '%s' (see 'hyatt --help')\n")
                             : _("hyatt: unknown command '%s' (see 'hyatt --help')\n"),
               arg);
    return HY_EXIT_USAGE;
  }
  return cmd->run(argc - 1, argv + 1);
}
