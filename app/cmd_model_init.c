/* `hyatt model-init --config small|paper|tiny --landmarks SET [--names A,B,…]
 *  [--seed N] [--spacing MM] [--force] --out FILE`: writes an untrained
 * model, parameters from the seeded initialiser (hy_net_init_seeded), so
 * everything that loads a model works before a trained one exists. */
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "landmark_set.h"
#include "model.h"

#define CMD "model-init"

static int set_name(hy_model_info *info, const char *name) {
  if (strlen(name) >= sizeof info->landmark_set)
    return hy_cli_usage_error(CMD, _("landmark set name '%s' is too long"), name);
  strcpy(info->landmark_set, name);
  return HY_EXIT_OK;
}

static int set_landmark(hy_model_info *info, int i, const char *name) {
  if (!name[0]) return hy_cli_usage_error(CMD, _("--names: name %d is empty"), i + 1);
  if (strlen(name) >= HY_MODEL_NAME_MAX)
    return hy_cli_usage_error(CMD, _("landmark name '%s' is longer than %d bytes"), name,
                              HY_MODEL_NAME_MAX - 1);
  strcpy(info->landmark_names[i], name);
  /* a model lists its names comma-separated */
  g_strdelimit(info->landmark_names[i], ",", ';');
  return HY_EXIT_OK;
}

/* The landmark fields of info, and the set's spacing if it has one, from
 * --names, or else from the set's definition (a name or a .json file). */
static int landmarks_of(hy_model_info *info, double *spacing, const char *set, const char *names) {
  if (names) {
    g_auto(GStrv) given = g_strsplit(names, ",", -1);
    int n = (int)g_strv_length(given), status = set_name(info, set);
    if (n > HY_MODEL_LANDMARKS_MAX)
      return hy_cli_usage_error(CMD, _("--names gives %d names, at most %d"), n, HY_MODEL_LANDMARKS_MAX);
    info->landmark_count = n;
    for (int i = 0; i < n && !status; i++) status = set_landmark(info, i, g_strstrip(given[i]));
    return status;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) def = hy_landmark_set_new_from_spec(set, &error);
  if (!def) {
    if (g_error_matches(error, HY_LANDMARK_SET_ERROR, HY_LANDMARK_SET_ERROR_NOT_FOUND))
      return hy_cli_usage_error(CMD, _("%s (or give the names with --names)"), error->message);
    return hy_cli_error(CMD, "%s", error->message);
  }
  int n = hy_landmark_set_get_count(def), status = set_name(info, hy_landmark_set_get_name(def));
  if (n > HY_MODEL_LANDMARKS_MAX)
    return hy_cli_error(CMD, _("landmark set %s has %d landmarks, a model at most %d"), set, n,
                        HY_MODEL_LANDMARKS_MAX);
  info->landmark_count = n;
  for (int i = 0; i < n && !status; i++)
    status = set_landmark(info, i, hy_landmark_set_get_landmark_name(def, i));
  double mm;
  if (!status && isnan(*spacing) && hy_landmark_set_default_spacing(def, NULL, 0, &mm, NULL))
    *spacing = mm;
  return status;
}

int hy_cmd_model_init(int argc, char **argv) {
  g_autofree char *config = NULL, *set = NULL, *names = NULL, *seed_text = NULL, *out = NULL;
  double spacing = NAN; /* NAN: not given */
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_STRING, &config,
     N_("Network configuration (default: small)"), N_("small|paper|tiny")},
    {"landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &set,
     N_("Landmark set: a definition's name or .json file (default: isbi2015)"), N_("SET")},
    {"names", 0, 0, G_OPTION_ARG_STRING, &names,
     N_("Comma-separated landmark names, for a set without a definition"), N_("A,B,…")},
    {"seed", 's', 0, G_OPTION_ARG_STRING, &seed_text, N_("Seed of the initial weights (default: 1)"),
     N_("N")},
    {"spacing", 0, 0, G_OPTION_ARG_DOUBLE, &spacing,
     N_("Pixel spacing the model is meant for, in mm (default: the set's, else 0.1)"),
     N_("MM")},
    {"force", 'f', 0, G_OPTION_ARG_NONE, &force, N_("Replace FILE if it exists"), NULL},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("The model file to write (required)"),
     N_("FILE")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
  g_option_context_set_summary(
      ctx, _("Writes an untrained model with seeded random weights: it predicts nonsense,\n"
             "but lets everything that loads a model be tried before a trained one exists."));
  g_option_context_set_description(
      ctx, _("Examples:\n"
             "  hyatt model-init --config small --landmarks isbi2015 --out random-small.hyatt\n"
             "  hyatt model-init --config tiny --landmarks mine --names \"tip,base\" "
             "--spacing 0.2 --out mine.hyatt"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;

  if (argc != 1) return hy_cli_usage_error(CMD, _("unexpected argument '%s'"), argv[1]);
  if (!out) return hy_cli_usage_error(CMD, _("--out FILE is required"));
  guint64 seed = 1;
  g_autoptr(GError) error = NULL;
  if (seed_text && !g_ascii_string_to_unsigned(seed_text, 10, 0, G_MAXUINT64, &seed, &error))
    return hy_cli_usage_error(CMD, _("--seed: %s"), error->message);
  hy_net_config cfg;
  hy_error err = {0};
  if (hy_net_config_named(&cfg, config ? config : "small", &err) != HY_OK)
    return hy_cli_usage_error(CMD, "%s", err.msg);
  g_autofree hy_model_info *info = g_new0(hy_model_info, 1);
  if (!isnan(spacing) && !(spacing > 0 && spacing <= 10))
    return hy_cli_usage_error(CMD, _("--spacing must be more than 0 and at most 10 mm"));
  int status = landmarks_of(info, &spacing, set ? set : "isbi2015", names);
  if (status) return status;
  g_autofree char *disp = g_filename_display_name(out);
  if (!force && g_file_test(out, G_FILE_TEST_EXISTS))
    return hy_cli_error(CMD, _("%s exists (--force replaces it)"), disp);

  /* head 3's middle width is D + E + K where the configuration says so */
  if (cfg.mid_width == cfg.neck + cfg.img_width + cfg.landmarks)
    cfg.mid_width = cfg.neck + cfg.img_width + info->landmark_count;
  cfg.landmarks = info->landmark_count;
  info->spacing_mm = isnan(spacing) ? 0.1 : spacing;
  g_snprintf(info->dataset, sizeof info->dataset, "none (random initialisation, seed %" G_GUINT64_FORMAT ")", seed);
  g_snprintf(info->metrics, sizeof info->metrics, "untrained");
  g_snprintf(info->hyatt_version, sizeof info->hyatt_version, "%s", PACKAGE_VERSION);

  hy_net *net = NULL;
  if (hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err) != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
  hy_net_init_seeded(net, seed);
  hy_status st = hy_model_save(net, info, out, &err);
  size_t params = hy_net_param_count(net);
  hy_net_free(net);
  char id[HY_MODEL_ID_SIZE];
  if (st == HY_OK) st = hy_model_id(id, out, &err);
  if (st != HY_OK) return hy_cli_error(CMD, "%s", err.msg);
  /* TRANSLATORS: wrote FILE: config NAME, N landmarks (SET), N parameters, model id ID */
  printf(_("wrote %s: config %s, %d landmarks (%s), %zu parameters, model id %s\n"), disp,
         cfg.name, cfg.landmarks, info->landmark_set, params, id);
  return HY_EXIT_OK;
}
