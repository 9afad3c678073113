/* Shared pieces of the `hyatt` command line: exit statuses, one-line error
 * messages ("hyatt show: ..." on stderr), option parsing, JSON output, and
 * the entry point of every subcommand. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

enum {
  HY_EXIT_OK = 0,
  HY_EXIT_ERROR = 1, /* the command could not do its job */
  HY_EXIT_USAGE = 2, /* the command line was wrong */
};

/* Prints "hyatt COMMAND: message" on stderr; returns HY_EXIT_ERROR. */
int hy_cli_error(const char *command, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The same with a pointer to --help; returns HY_EXIT_USAGE. */
int hy_cli_usage_error(const char *command, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parses the options of `command` (argv[0] is its name) with ctx, which
 * owns the translation domain and help texts. On a bad option prints a usage
 * error and returns FALSE; `--help` prints the help and exits with 0. */
gboolean hy_cli_parse(GOptionContext *ctx, const char *command, int *argc,
                      char ***argv);

/* A --spacing value (NULL: not given, *out = 0): mm per pixel in the C
 * locale, finite and > 0; else prints the usage error and returns FALSE. */
gboolean hy_cli_spacing_option(const char *command, const char *value, double *out);

/* Prints what b has built, indented, and a newline on stdout. */
void hy_cli_print_json(JsonBuilder *b);

/* Subcommands: argv[0] is the command name; return the exit status. */
int hy_cmd_bench(int argc, char **argv);
int hy_cmd_eval(int argc, char **argv);
int hy_cmd_export(int argc, char **argv);
int hy_cmd_finetune(int argc, char **argv);
int hy_cmd_import(int argc, char **argv);
int hy_cmd_info(int argc, char **argv);
int hy_cmd_measure(int argc, char **argv);
int hy_cmd_model_init(int argc, char **argv);
int hy_cmd_predict(int argc, char **argv);
int hy_cmd_report(int argc, char **argv);
int hy_cmd_show(int argc, char **argv);
int hy_cmd_train(int argc, char **argv);

G_END_DECLS
