#include "cli.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>

#include "config.h"

static void print_error(const char *command, const char *fmt, va_list ap,
                        gboolean usage) {
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  if (usage)
    /* TRANSLATORS: hyatt COMMAND: MESSAGE (see 'hyatt COMMAND --help') */
    g_printerr(_("hyatt %s: %s (see 'hyatt %s --help')\n"), command, msg, command);
  else
    g_printerr("hyatt %s: %s\n", command, msg);
}

int hy_cli_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  print_error(command, fmt, ap, FALSE);
  va_end(ap);
  return HY_EXIT_ERROR;
}

int hy_cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  print_error(command, fmt, ap, TRUE);
  va_end(ap);
  return HY_EXIT_USAGE;
}

void hy_cli_print_json(JsonBuilder *b) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  printf("%s\n", text);
}

gboolean hy_cli_parse(GOptionContext *ctx, const char *command, int *argc,
                      char ***argv) {
  g_autofree char *prgname = g_strdup_printf("hyatt %s", command);
  g_set_prgname(prgname);
  g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, argc, argv, &error)) {
    hy_cli_usage_error(command, "%s", error->message);
    return FALSE;
  }
  return TRUE;
}

gboolean hy_cli_spacing_option(const char *command, const char *value, double *out) {
  *out = 0;
  if (!value) return TRUE;
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod(value, &end);
  if (errno || end == value || *end || !isfinite(v) || !(v > 0)) {
    hy_cli_usage_error(command, _("--spacing '%s' is not a positive number of mm per pixel"), value);
    return FALSE;
  }
  *out = v;
  return TRUE;
}
