/* `hyatt predict IMAGE… --model M [--out DIR] [--overlay] [--max-size PX]
 *  [--threads N]`: predicts the landmarks of each image and writes
 * `<DIR>/<image file name>.hyatt.json` (DESIGN §4.2; DIR defaults to the
 * image's folder), with --overlay also `<image file name>.overlay.png`:
 * the image, the finest head's heatmaps tinted per landmark, and the points.
 *
 * The annotation (DESIGN §4.2, app/annotation.h):
 *   {"format": "hyatt-annotation", "version": 1,
 *    "image": {"file": base name, "width", "height", "sha256": of the file's
 *              bytes, "spacing_mm": --spacing, else the DICOM header's, else
 *              the one entered for the image's folder (folder_spacing.h),
 *              else the model's, null if none; "spacing_source": which
 *              (spacing.h); one entered earlier for the image is kept},
 *    "landmark_set", "model": hy_model_id of the model file,
 *    "created", "modified": ISO 8601 UTC,
 *    "landmarks": [{"index": 1-based as in the overlays and the CSV columns
 *                   l1_x…, "name", "x", "y", "state": "predicted",
 *                   "predicted_x", "predicted_y", "confidence"}, …]}
 * Coordinates are original-image pixels, pixel centres at integers.
 *
 * Written with app/annotation.c. An existing annotation is never lost: one
 * that cannot be read or holds another landmark count is left alone (that
 * image fails); landmarks someone has moved, confirmed or marked absent
 * keep their x, y and state (only the predicted_* fields and confidence are
 * renewed), and "created" is kept. Corrections made on a different image
 * (other SHA-256) or for another landmark set are refused.
 *
 * One line per image on stdout; a failing image prints one line on stderr
 * and the others are still done; the exit status is 1 if any failed. */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "annotation.h"
#include "cli.h"
#include "config.h"
#include "folder_spacing.h"
#include "image.h"
#include "image_file.h"
#include "model.h"
#include "overlay.h"
#include "predict.h"

#define CMD "predict"

typedef struct job {
  hy_predictor *predictor; /* owned */
  hy_model_info *info;     /* owned */
  const char *out_dir;     /* borrowed; NULL: beside each image */
  gboolean overlay;
  int max_size;
  double spacing;          /* --spacing, 0 when not given */
} job;

static char *sha256_of_file(const char *path, GError **error) {
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error)) return NULL;
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

static int n_corrected(const HyAnnotation *a) {
  int n = 0;
  for (int k = 0; k < a->n_points; k++) n += a->points[k].state != HY_LANDMARK_PREDICTED;
  return n;
}

/* The annotation at path if there is one, checked against this prediction;
 * else (with *a NULL) TRUE. */
static gboolean read_existing(const char *path, const char *sha256, int K, const char *set,
                              HyAnnotation **a, GError **error) {
  *a = NULL;
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) return TRUE;
  g_autofree char *disp = g_filename_display_name(path);
  g_autoptr(GError) load_error = NULL;
  g_autoptr(HyAnnotation) old = hy_annotation_load(path, NULL, &load_error);
  if (!old) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s (it was not overwritten)"),
                load_error->message);
    return FALSE;
  }
  if (old->n_points != K) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                _("%s holds %d landmarks, the model predicts %d; it was not overwritten"), disp,
                old->n_points, K);
    return FALSE;
  }
  if (n_corrected(old) && g_strcmp0(old->landmark_set, set)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                _("%s holds corrections of the landmark set '%s', the model predicts '%s'; it "
                  "was not overwritten"),
                disp, old->landmark_set, set);
    return FALSE;
  }
  if (n_corrected(old) && g_strcmp0(old->sha256, sha256)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                _("%s holds corrections made on a different image (SHA-256 differs); it was "
                  "not overwritten"),
                disp);
    return FALSE;
  }
  *a = g_steal_pointer(&old);
  return TRUE;
}

/* The annotation to write: a (may be NULL: a new one) renewed with p. The
 * user's moved, confirmed and absent landmarks keep their x, y and state. */
/* The spacing of an image and its source: --spacing, the DICOM header's,
 * the folder's, the model's. */
static double image_spacing(const job *j, const HyImageMeta *meta, double folder,
                            HySpacingSource *source) {
  *source = j->spacing > 0 ? HY_SPACING_USER
            : meta->spacing_mm > 0 ? meta->spacing_source
            : folder > 0 ? HY_SPACING_FOLDER
            : j->info->spacing_mm > 0 ? HY_SPACING_MODEL : HY_SPACING_UNKNOWN;
  return j->spacing > 0 ? j->spacing
         : meta->spacing_mm > 0 ? meta->spacing_mm
         : folder > 0 ? folder : j->info->spacing_mm;
}

static HyAnnotation *annotation_of(const job *j, const char *image_path, const char *sha256,
                                   const hy_prediction *p, const HyImageMeta *meta,
                                   double folder_spacing, HyAnnotation *a) {
  if (!a) {
    g_autofree char *base = g_path_get_basename(image_path);
    g_autofree char *base_utf8 = g_filename_display_name(base);
    a = hy_annotation_new(base_utf8, p->image_w, p->image_h, j->info->landmark_set, p->K);
  }
  a->width = p->image_w;
  a->height = p->image_h;
  g_free(a->sha256);
  a->sha256 = g_strdup(sha256);
  HySpacingSource source;
  double spacing = image_spacing(j, meta, folder_spacing, &source);
  /* a spacing the user entered earlier for this image wins over the
   * header's and the model's, the header's over the folder's */
  if (a->spacing_mm > 0 && j->spacing <= 0 && !hy_spacing_source_overrides(source, a->spacing_source))
    spacing = 0;
  if (spacing > 0) {
    a->spacing_mm = spacing;
    a->spacing_source = source;
  }
  g_free(a->landmark_set);
  a->landmark_set = g_strdup(j->info->landmark_set);
  g_free(a->model);
  a->model = g_strdup(j->info->id);
  for (int k = 0; k < p->K; k++) {
    HyAnnotationPoint *q = &a->points[k];
    g_free(q->name);
    q->name = g_strdup(j->info->landmark_names[k]);
    g_free(q->model);
    q->model = g_strdup(j->info->id);
    q->predicted_x = p->points[k].x;
    q->predicted_y = p->points[k].y;
    q->confidence = p->confidence[k];
    if (q->state == HY_LANDMARK_PREDICTED) {
      q->x = p->points[k].x;
      q->y = p->points[k].y;
    }
  }
  return a;
}

/* The network's input px -> head px of stride s, from predict.h's mapping. */
static hy_affine input_to_head(int s) {
  double c = hy_head_from_input(0, s), a = hy_head_from_input(1, s) - c;
  return (hy_affine){{a, 0, c, 0, a, c}};
}

static gboolean write_overlay(const job *j, const hy_image *img, const hy_prediction *p,
                              const char *path, GError **error) {
  hy_affine to_head = input_to_head(p->heads.stride[2]);
  HyOverlayHeatmap hm = {
    .maps = p->heads.maps[2], .K = p->K, .h = p->heads.h[2], .w = p->heads.w[2],
    .image_to_map = hy_affine_compose(&p->to_input, &to_head),
  };
  g_autofree char *label = g_strdup_printf(_("prediction, model %s"), j->info->id);
  HyOverlayLayer layer = {label, p->points, p->K, NULL};
  cairo_surface_t *s = hy_overlay_render_heatmap(img, j->max_size, &hm, &layer, 1, error);
  if (!s) return FALSE;
  gboolean ok = hy_overlay_save_png(s, path, error);
  cairo_surface_destroy(s);
  return ok;
}

/* Predicts one image and writes its files; *summary receives the progress
 * text. */
static gboolean predict_one(const job *j, const char *path, char **summary, GError **error) {
  hy_error err = {0};
  hy_image img = {0};
  HyImageMeta meta;
  if (!hy_image_file_load(path, &img, &meta, error)) return FALSE;
  gboolean ok = FALSE;
  g_autoptr(HyAnnotation) a = NULL;
  g_autofree char *sha256 = sha256_of_file(path, error);
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *dir = j->out_dir ? g_strdup(j->out_dir) : g_path_get_dirname(path);
  g_autofree char *json_name = g_strconcat(base, HY_ANNOTATION_SUFFIX, NULL);
  g_autofree char *png_name = g_strconcat(base, ".overlay.png", NULL);
  g_autofree char *json_path = g_build_filename(dir, json_name, NULL);
  g_autofree char *png_path = g_build_filename(dir, png_name, NULL);
  g_autofree char *json_disp = NULL, *spacing_text = NULL;
  g_autofree char *folder = g_path_get_dirname(path);
  double folder_spacing = 0;
  hy_prediction *p = g_new(hy_prediction, 1);
  if (!sha256) goto done;
  if (hy_predictor_run(j->predictor, &img, p, &err) != HY_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, err.msg);
    goto done;
  }
  if (!read_existing(json_path, sha256, p->K, j->info->landmark_set, &a, error)) goto done;
  if (!hy_folder_spacing_load(folder, &folder_spacing, error)) goto done;
  a = annotation_of(j, path, sha256, p, &meta, folder_spacing, a);
  if (!hy_annotation_save(a, json_path, error)) goto done;
  if (j->overlay && !write_overlay(j, &img, p, png_path, error)) goto done;
  double mean = hy_annotation_mean_confidence(a);
  int kept = n_corrected(a);
  json_disp = g_filename_display_name(json_path);
  spacing_text = a->spacing_mm > 0
                     ? g_strdup_printf(_("spacing %g mm %s"), a->spacing_mm,
                                       hy_spacing_source_describe(a->spacing_source))
                     : g_strdup(_("no spacing known"));
  /* which attribute: Imager Pixel Spacing is at the detector, not the patient */
  if (a->spacing_source == HY_SPACING_DICOM && meta.spacing_tag) {
    char *with_tag = g_strdup_printf("%s (%s)", spacing_text, meta.spacing_tag);
    g_free(spacing_text);
    spacing_text = with_tag;
  }
  *summary = kept ? g_strdup_printf(_("%s: %d landmarks (%d corrected ones kept), mean "
                                      "confidence %.2f, %s"),
                                    json_disp, p->K, kept, mean, spacing_text)
                  : g_strdup_printf(_("%s: %d landmarks, mean confidence %.2f, %s"), json_disp,
                                    p->K, mean, spacing_text);
  ok = TRUE;
done:
  g_free(p);
  hy_image_free(&img);
  return ok;
}

/* Creates DIR if needed; fails if it is not a writable folder. */
static int prepare_out_dir(const char *out) {
  g_autofree char *disp = g_filename_display_name(out);
  if (g_mkdir_with_parents(out, 0777) != 0)
    return hy_cli_error(CMD, _("cannot create folder %s: %s"), disp, g_strerror(errno));
  if (!g_file_test(out, G_FILE_TEST_IS_DIR))
    return hy_cli_error(CMD, _("%s is not a folder"), disp);
  if (g_access(out, W_OK | X_OK) != 0)
    return hy_cli_error(CMD, _("folder %s is not writable (%s)"), disp, g_strerror(errno));
  return HY_EXIT_OK;
}

int hy_cmd_predict(int argc, char **argv) {
  g_autofree char *model = NULL, *out = NULL, *spacing_opt = NULL;
  gboolean overlay = FALSE;
  int max_size = 0, threads = (int)MIN(g_get_num_processors(), 64);
  const GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model, N_("The model file (.hyatt; required)"),
     N_("FILE")},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
     N_("Folder for the results, created if missing (default: each image's folder)"), N_("DIR")},
    {"overlay", 0, 0, G_OPTION_ARG_NONE, &overlay,
     N_("Also write IMAGE.overlay.png: heatmaps and points over the image"), NULL},
    {"max-size", 0, 0, G_OPTION_ARG_INT, &max_size,
     N_("Longer side of the overlay at most (default: the image's size)"), N_("PX")},
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads,
     N_("Threads (default: the number of processors)"), N_("N")},
    {"spacing", 0, 0, G_OPTION_ARG_STRING, &spacing_opt,
     N_("Pixel spacing in mm per pixel, over the DICOM header's and the model's"), N_("MM")},
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(_("IMAGE…"));
  g_option_context_set_summary(
      ctx, _("Predicts the landmarks of each image (PNG, JPEG or DICOM) and writes IMAGE.hyatt.json:\n"
             "per landmark its position in image pixels, its state and a confidence in [0, 1].\n"
             "Landmarks corrected in an existing IMAGE.hyatt.json are kept."));
  g_option_context_set_description(
      ctx, _("Example:\n  hyatt predict --model small.hyatt --out results --overlay 001.jpg 002.jpg"));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  if (!hy_cli_parse(ctx, CMD, &argc, &argv)) return HY_EXIT_USAGE;

  if (argc < 2) return hy_cli_usage_error(CMD, "%s", _("no IMAGE given"));
  if (!model) return hy_cli_usage_error(CMD, _("--model FILE is required"));
  if (max_size < 0 || (max_size > 0 && max_size < 16))
    return hy_cli_usage_error(CMD, _("--max-size must be at least 16 pixels"));
  if (threads < 1 || threads > 64) return hy_cli_usage_error(CMD, _("--threads must be in 1..64"));
  double spacing = 0;
  if (!hy_cli_spacing_option(CMD, spacing_opt, &spacing)) return HY_EXIT_USAGE;
  if (out) {
    int status = prepare_out_dir(out);
    if (status) return status;
  }

  job j = {.out_dir = out, .overlay = overlay, .max_size = max_size, .spacing = spacing};
  j.info = g_new0(hy_model_info, 1);
  hy_net *net = NULL;
  hy_error err = {0};
  if (hy_model_load(&net, j.info, model, HY_INFER, threads, &err) != HY_OK ||
      hy_predictor_new(&j.predictor, net, threads, &err) != HY_OK) {
    g_free(j.info);
    return hy_cli_error(CMD, "%s", err.msg);
  }

  int n = argc - 1, failed = 0;
  gint64 start = g_get_monotonic_time();
  for (int i = 0; i < n; i++) {
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_autofree char *summary = NULL;
    if (!predict_one(&j, argv[i + 1], &summary, &error)) {
      hy_cli_error(CMD, "%s", error->message);
      failed++;
      continue;
    }
    /* TRANSLATORS: [image number/count] what was written (seconds) */
    printf(_("[%d/%d] %s (%.2f s)\n"), i + 1, n, summary,
           (double)(g_get_monotonic_time() - t0) * 1e-6);
    fflush(stdout);
  }
  if (n > 1)
    printf(_("%d of %d images done in %.1f s\n"), n - failed, n,
           (double)(g_get_monotonic_time() - start) * 1e-6);
  hy_predictor_free(j.predictor);
  g_free(j.info);
  return failed ? HY_EXIT_ERROR : HY_EXIT_OK;
}
