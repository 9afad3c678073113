/* Training (core/train.c) and what it is built from: metrics on hand-made
 * points, data set folders and each way they can be wrong, augmentation
 * that keeps landmarks on their image features, the loss falling on the
 * tiny configuration, bit-exact resume, the numeric guard and the stop
 * flag. Data sets are generated in tu_tmpdir(): small PNGs with a bright
 * blob at every landmark. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

/* ---- generated data sets ---- */

typedef struct tiny_set {
  int n, K, w, h;
  int n_test;       /* the last n_test ids go to test1.txt, the rest to train.txt */
  int junior_K;     /* landmarks in junior_px.csv (0: K) */
  int skip_image;   /* 1-based id whose image is not written (0: none) */
  const char *extra_train_id; /* appended to train.txt */
} tiny_set;

static void blob(hy_image *img, double x, double y, double sigma) {
  for (int j = 0; j < img->height; j++)
    for (int i = 0; i < img->width; i++) {
      double d2 = (i - x) * (i - x) + (j - y) * (j - y);
      float v = img->pixels[j * img->width + i] + (float)(0.75 * exp(-d2 / (2 * sigma * sigma)));
      img->pixels[j * img->width + i] = v > 1 ? 1 : v;
    }
}

/* Points of sample i (0-based), landmark k, deterministic. */
static hy_point tiny_point(const tiny_set *s, int i, int k) {
  tu_rng r = tu_rng_new(1000 + 37 * (uint64_t)i + k);
  return (hy_point){tu_int(&r, 12, s->w - 13), tu_int(&r, 10, s->h - 11)};
}

static char *make_set(const char *name, const tiny_set *s) {
  char *dir = g_build_filename(tu_tmpdir(), name, NULL);
  char *images = g_build_filename(dir, "images", NULL);
  g_assert_cmpint(g_mkdir_with_parents(images, 0755), ==, 0);
  GString *senior = g_string_new("image,split"), *junior = g_string_new("image,split");
  GString *train = g_string_new(""), *test = g_string_new("");
  int jK = s->junior_K ? s->junior_K : s->K;
  for (int k = 1; k <= s->K; k++) g_string_append_printf(senior, ",l%d_x,l%d_y", k, k);
  for (int k = 1; k <= jK; k++) g_string_append_printf(junior, ",l%d_x,l%d_y", k, k);
  g_string_append(senior, "\n");
  g_string_append(junior, "\n");
  for (int i = 0; i < s->n; i++) {
    char id[16];
    snprintf(id, sizeof id, "%03d", i + 1);
    int is_test = i >= s->n - s->n_test;
    g_string_append_printf(is_test ? test : train, "%s\n", id);
    g_string_append_printf(senior, "%s,%s", id, is_test ? "test1" : "train");
    g_string_append_printf(junior, "%s,%s", id, is_test ? "test1" : "train");
    hy_image img = {0};
    hy_error err = {0};
    g_assert_cmpint(hy_image_new(&img, s->w, s->h, &err), ==, HY_OK);
    tu_rng r = tu_rng_new(7 + (uint64_t)i);
    for (int p = 0; p < s->w * s->h; p++) img.pixels[p] = 0.15f + 0.05f * (float)tu_uniform(&r);
    for (int k = 0; k < s->K; k++) {
      hy_point p = tiny_point(s, i, k);
      blob(&img, p.x, p.y, 2.5);
      g_string_append_printf(senior, ",%g,%g", p.x, p.y);
      if (k < jK) g_string_append_printf(junior, ",%g,%g", p.x + 1, p.y - 1);
    }
    for (int k = s->K; k < jK; k++) g_string_append(junior, ",5,5");
    g_string_append(senior, "\n");
    g_string_append(junior, "\n");
    if (s->skip_image != i + 1) {
      char *path = g_strdup_printf("%s/%s.png", images, id);
      g_assert_cmpint(hy_image_save_png(&img, path, 8, &err), ==, HY_OK);
      g_free(path);
    }
    hy_image_free(&img);
  }
  if (s->extra_train_id) g_string_append_printf(train, "%s\n", s->extra_train_id);
  struct {
    const char *file;
    GString *text;
  } files[] = {{"senior_px.csv", senior}, {"junior_px.csv", junior}, {"train.txt", train},
               {"test1.txt", test}};
  for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
    char *path = g_build_filename(dir, files[f].file, NULL);
    tu_write_file(path, files[f].text->str, -1);
    g_free(path);
    g_string_free(files[f].text, TRUE);
  }
  g_free(images);
  return dir;
}

static const tiny_set TINY = {.n = 10, .K = 2, .w = 120, .h = 80, .n_test = 2};

static hy_dataset_spec tiny_spec(void) {
  hy_dataset_spec spec;
  memset(&spec, 0, sizeof spec);
  snprintf(spec.name, sizeof spec.name, "tiny");
  spec.spacing_mm = 0.1;
  spec.n_annotators = 2;
  snprintf(spec.annotators[0].name, sizeof spec.annotators[0].name, "senior");
  snprintf(spec.annotators[0].file, sizeof spec.annotators[0].file, "senior_px.csv");
  snprintf(spec.annotators[1].name, sizeof spec.annotators[1].name, "junior");
  snprintf(spec.annotators[1].file, sizeof spec.annotators[1].file, "junior_px.csv");
  spec.n_landmark_names = 2;
  snprintf(spec.landmark_names[0], sizeof spec.landmark_names[0], "left");
  snprintf(spec.landmark_names[1], sizeof spec.landmark_names[1], "right");
  return spec;
}

/* The tiny set, made once. */
static const char *tiny_dir(void) {
  static char *dir;
  if (!dir) dir = make_set("tiny", &TINY);
  return dir;
}

/* ---- metrics ---- */

static void test_metrics(void) {
  /* 4, 8, 10, 12, 20 px at 0.25 mm: 1, 2, 2.5, 3, 5 mm, all exact in binary */
  const hy_point ref[5] = {{10, 10}, {20, 20}, {0, 0}, {5, 5}, {-3, 7}};
  const hy_point pred[5] = {{10, 14}, {28, 20}, {6, 8}, {5, -7}, {9, 23}};
  double e[5];
  hy_radial_errors_mm(e, pred, ref, 5, 0.25);
  const double want[5] = {1, 2, 2.5, 3, 5};
  for (int i = 0; i < 5; i++) g_assert_cmpfloat(e[i], ==, want[i]);
  hy_error_stats s;
  hy_error_stats_compute(&s, e, 5, 1);
  g_assert_cmpuint(s.n, ==, 5);
  g_assert_cmpfloat(s.mre_mm, ==, 13.5 / 5);
  g_assert_cmpfloat_with_epsilon(s.sd_mm, sqrt(8.8 / 5), 1e-12);
  /* SDR counts errors <= the radius */
  g_assert_cmpfloat(s.sdr[0], ==, 0.4);
  g_assert_cmpfloat(s.sdr[1], ==, 0.6);
  g_assert_cmpfloat(s.sdr[2], ==, 0.8);
  g_assert_cmpfloat(s.sdr[3], ==, 0.8);
  /* a column of an [images][K] table: errors 1, 2.5, 5 */
  hy_error_stats_compute(&s, e, 3, 2);
  g_assert_cmpfloat(s.mre_mm, ==, 8.5 / 3);
  g_assert_cmpfloat(s.sdr[0], ==, 1.0 / 3);
  g_assert_cmpfloat(s.sdr[1], ==, 2.0 / 3);
  /* a missing prediction is a miss */
  hy_point nan_pred = {NAN, 0};
  hy_radial_errors_mm(e, &nan_pred, ref, 1, 0.1);
  g_assert_true(isinf(e[0]));
  hy_error_stats_compute(&s, e, 1, 1);
  g_assert_cmpfloat(s.sdr[3], ==, 0);
  hy_error_stats_compute(&s, e, 0, 1);
  g_assert_cmpuint(s.n, ==, 0);
  g_assert_cmpfloat(s.mre_mm, ==, 0);
}

static void test_lr_schedule(void) {
  g_assert_cmpfloat(hy_train_lr(0, 100, 10, 1e-3), ==, 1e-4);
  g_assert_cmpfloat_with_epsilon(hy_train_lr(9, 100, 10, 1e-3), 1e-3, 1e-15);
  g_assert_cmpfloat(hy_train_lr(10, 100, 10, 1e-3), ==, 1e-3);
  g_assert_cmpfloat_with_epsilon(hy_train_lr(55, 100, 10, 1e-3), 0.5e-3, 1e-15);
  g_assert_cmpfloat(hy_train_lr(99, 100, 10, 1e-3), <, 1e-6);
  g_assert_cmpfloat(hy_train_lr(99, 100, 10, 1e-3), >, 0);
}

/* ---- data sets ---- */

static void test_dataset(void) {
  hy_dataset_spec spec = tiny_spec();
  hy_dataset ds;
  hy_error err = {0};
  if (hy_dataset_open(&ds, tiny_dir(), &spec, NULL, &err)) g_error("%s", err.msg);
  g_assert_cmpstr(ds.split, ==, "train");
  g_assert_cmpint(ds.n, ==, 8);
  g_assert_cmpint(ds.K, ==, 2);
  g_assert_cmpstr(ds.ids[0], ==, "001");
  g_assert_true(g_str_has_suffix(ds.paths[7], "/images/008.png"));
  hy_point s = tiny_point(&TINY, 3, 1);
  const hy_point *senior = hy_dataset_points(&ds, 0, 3), *junior = hy_dataset_points(&ds, 1, 3);
  const hy_point *mean = hy_dataset_points(&ds, HY_DATASET_MEAN, 3);
  g_assert_cmpfloat(senior[1].x, ==, s.x);
  g_assert_cmpfloat(junior[1].y, ==, s.y - 1);
  g_assert_cmpfloat(mean[1].x, ==, s.x + 0.5);
  g_assert_cmpfloat(mean[1].y, ==, s.y - 0.5);
  g_assert_cmpfloat(ds.spacing[5], ==, 0.1);
  int ref = 99;
  g_assert_cmpint(hy_dataset_reference(&ds, "mean", &ref, &err), ==, HY_OK);
  g_assert_cmpint(ref, ==, HY_DATASET_MEAN);
  g_assert_cmpint(hy_dataset_reference(&ds, "junior", &ref, &err), ==, HY_OK);
  g_assert_cmpint(ref, ==, 1);
  g_assert_cmpint(hy_dataset_reference(&ds, "intern", &ref, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "mean, senior, junior"));
  hy_dataset_free(&ds);

  if (hy_dataset_open(&ds, tiny_dir(), &spec, "test1", &err)) g_error("%s", err.msg);
  g_assert_cmpint(ds.n, ==, 2);
  g_assert_cmpstr(ds.ids[1], ==, "010");
  hy_dataset_free(&ds);

  /* detected annotators (sorted: junior, senior), numbered names, "all" */
  hy_dataset_spec detect;
  memset(&detect, 0, sizeof detect);
  detect.spacing_mm = 0.2;
  if (hy_dataset_open(&ds, tiny_dir(), &detect, "all", &err)) g_error("%s", err.msg);
  g_assert_cmpint(ds.n, ==, 10);
  g_assert_cmpint(ds.n_annotators, ==, 2);
  g_assert_cmpstr(ds.spec.annotators[0].name, ==, "junior");
  g_assert_cmpstr(ds.spec.landmark_names[1], ==, "2");
  g_assert_cmpstr(ds.spec.name, ==, "tiny");
  hy_dataset_free(&ds);
  /* without a spacing: refused */
  g_assert_cmpint(hy_dataset_open(&ds, tiny_dir(), NULL, "all", &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "no pixel spacing"));
}

/* A spacing rule, and a split taken from the CSV's split column. */
static void test_dataset_spacing_rule(void) {
  static const tiny_set set = {.n = 4, .K = 3, .w = 60, .h = 50, .n_test = 1};
  char *dir = make_set("rule", &set);
  char *train = g_build_filename(dir, "train.txt", NULL);
  g_assert_cmpint(remove(train), ==, 0);
  hy_dataset_spec spec = tiny_spec();
  spec.n_landmark_names = 0;
  spec.spacing_mm = 0;
  spec.spacing_landmarks[0] = 1;
  spec.spacing_landmarks[1] = 3;
  spec.spacing_distance_mm = 50;
  hy_dataset ds;
  hy_error err = {0};
  if (hy_dataset_open(&ds, dir, &spec, "train", &err)) g_error("%s", err.msg);
  g_assert_cmpint(ds.n, ==, 3);
  for (int i = 0; i < ds.n; i++) {
    hy_point a = tiny_point(&set, i, 0), b = tiny_point(&set, i, 2);
    g_assert_cmpfloat_with_epsilon(ds.spacing[i], 50 / hypot(a.x - b.x, a.y - b.y), 1e-12);
  }
  hy_dataset_free(&ds);
  spec.spacing_landmarks[1] = 4;
  g_assert_cmpint(hy_dataset_open(&ds, dir, &spec, "train", &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "spacing landmarks 1 and 4"));
  g_free(train);
  g_free(dir);
}

static void expect_error(const char *dir, const hy_dataset_spec *spec, const char *split,
                         hy_status want, const char *w1, const char *w2) {
  hy_dataset ds;
  hy_error err = {0};
  hy_status st = hy_dataset_open(&ds, dir, spec, split, &err);
  g_test_message("%s", err.msg);
  if (st != want || !strstr(err.msg, w1) || (w2 && !strstr(err.msg, w2)) || strchr(err.msg, '\n'))
    g_error("status %d (want %d), message '%s' should name '%s'%s%s", st, want, err.msg, w1,
            w2 ? " and " : "", w2 ? w2 : "");
  g_assert_null(ds.ids);
}

static void test_dataset_errors(void) {
  hy_dataset_spec spec = tiny_spec();
  /* an image missing */
  tiny_set s = TINY;
  s.skip_image = 4;
  char *dir = make_set("no-image", &s);
  expect_error(dir, &spec, "train", HY_E_IO, "'004'", "no image file");
  g_free(dir);
  /* an id of the split not in the CSVs */
  s = TINY;
  s.extra_train_id = "077";
  dir = make_set("no-row", &s);
  expect_error(dir, &spec, "train", HY_E_FORMAT, "senior_px.csv: id '077'", "not in the file");
  g_free(dir);
  /* landmark counts differ between annotators, or from the descriptor */
  s = TINY;
  s.junior_K = 3;
  dir = make_set("counts", &s);
  expect_error(dir, &spec, "train", HY_E_FORMAT, "junior_px.csv has 3 landmarks", "senior_px.csv has 2");
  g_free(dir);
  hy_dataset_spec three = tiny_spec();
  three.n_landmark_names = 3;
  snprintf(three.landmark_names[2], sizeof three.landmark_names[2], "extra");
  expect_error(tiny_dir(), &three, "train", HY_E_FORMAT, "senior_px.csv has 2", "names 3");
  /* splits: unknown, listed twice, leaking, empty */
  expect_error(tiny_dir(), &spec, "test9", HY_E_ARG, "no split 'test9'", "test9.txt");
  s = TINY;
  s.extra_train_id = "002";
  dir = make_set("twice", &s);
  expect_error(dir, &spec, "train", HY_E_FORMAT, "train.txt:9: id '002' listed twice", NULL);
  g_free(dir);
  /* a split file that lists a test image */
  s = TINY;
  s.extra_train_id = "010";
  dir = make_set("leak", &s);
  expect_error(dir, &spec, "train", HY_E_FORMAT, "senior_px.csv: id '010' is in split 'train'",
               "says 'test1'");
  /* a subset the split column does not name may mix them (an experiment's) */
  char *subset = g_build_filename(dir, "subset.txt", NULL);
  tu_write_file(subset, "001\n010\n", -1);
  hy_dataset ds;
  hy_error err = {0};
  if (hy_dataset_open(&ds, dir, &spec, "subset", &err)) g_error("%s", err.msg);
  g_assert_cmpint(ds.n, ==, 2);
  hy_dataset_free(&ds);
  g_free(subset);
  char *empty = g_build_filename(dir, "empty.txt", NULL);
  tu_write_file(empty, "\n# nothing\n", -1);
  expect_error(dir, &spec, "empty", HY_E_FORMAT, "empty.txt: no sample ids", NULL);
  g_free(empty);
  g_free(dir);
  /* no spacing, a missing annotator file, a missing folder */
  hy_dataset_spec nospacing = tiny_spec();
  nospacing.spacing_mm = 0;
  expect_error(tiny_dir(), &nospacing, "train", HY_E_ARG, "no pixel spacing", NULL);
  hy_dataset_spec missing = tiny_spec();
  snprintf(missing.annotators[1].file, sizeof missing.annotators[1].file, "intern_px.csv");
  expect_error(tiny_dir(), &missing, "train", HY_E_IO, "intern_px.csv", NULL);
  expect_error("/nonexistent/data", &spec, "train", HY_E_IO, "/nonexistent/data", NULL);
}

/* The shared sets, when present: ISBI 2015's two annotators and splits,
 * the hand set's single annotator and measured spacing. */
static void test_dataset_shared(void) {
  const char *data = tu_shared_data();
  if (!data) {
    g_test_skip("shared data not found");
    return;
  }
  char *isbi = g_build_filename(data, "isbi2015", NULL);
  hy_dataset_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.spacing_mm = 0.1;
  hy_dataset ds;
  hy_error err = {0};
  if (hy_dataset_open(&ds, isbi, &spec, "test1", &err)) g_error("%s", err.msg);
  g_assert_cmpint(ds.n, ==, 150);
  g_assert_cmpint(ds.K, ==, 19);
  g_assert_cmpstr(ds.ids[0], ==, "151");
  g_assert_true(g_str_has_suffix(ds.paths[0], "images/151.jpg"));
  int senior = -1;
  g_assert_cmpint(hy_dataset_reference(&ds, "senior", &senior, &err), ==, HY_OK);
  const hy_point *m = hy_dataset_points(&ds, HY_DATASET_MEAN, 0);
  const hy_point *a = hy_dataset_points(&ds, 0, 0), *b = hy_dataset_points(&ds, 1, 0);
  g_assert_cmpfloat(m[0].x, ==, (a[0].x + b[0].x) / 2);
  hy_dataset_free(&ds);
  g_free(isbi);

  char *hand = g_build_filename(data, "hand", NULL);
  memset(&spec, 0, sizeof spec);
  spec.spacing_landmarks[0] = 2;
  spec.spacing_landmarks[1] = 6;
  spec.spacing_distance_mm = 50;
  if (hy_dataset_open(&ds, hand, &spec, NULL, &err)) g_error("%s", err.msg);
  g_assert_cmpstr(ds.split, ==, "all");
  g_assert_cmpint(ds.n, ==, 9);
  g_assert_cmpint(ds.K, ==, 37);
  for (int i = 0; i < ds.n; i++) {
    g_assert_cmpfloat(ds.spacing[i], >, 0.05);
    g_assert_cmpfloat(ds.spacing[i], <, 0.2);
  }
  hy_dataset_free(&ds);
  g_free(hand);
}

/* ---- augmentation ---- */

/* Centre of the bright blob near (x, y) in an [h][w] input: the centroid of
 * the values above the window's border mean. */
static hy_point blob_centre(const float *in, int w, int h, double x, double y, int r) {
  int cx = (int)lround(x), cy = (int)lround(y);
  double border = 0, nb = 0;
  for (int j = cy - r; j <= cy + r; j++)
    for (int i = cx - r; i <= cx + r; i++)
      if ((abs(i - cx) == r || abs(j - cy) == r) && i >= 0 && j >= 0 && i < w && j < h) {
        border += in[j * w + i];
        nb++;
      }
  border /= nb;
  double sx = 0, sy = 0, sm = 0;
  for (int j = cy - r; j <= cy + r; j++)
    for (int i = cx - r; i <= cx + r; i++) {
      if (i < 0 || j < 0 || i >= w || j >= h) continue;
      double v = in[j * w + i] - border;
      if (v <= 0) continue;
      sx += v * i;
      sy += v * j;
      sm += v;
    }
  return (hy_point){sx / sm, sy / sm};
}

static void test_augment_keeps_landmarks(void) {
  /* a 512 x 384 original kept at half size, as the cache keeps it for a
   * 128 x 96 input with factor 2 */
  const int W = 512, H = 384, in_w = 128, in_h = 96;
  const hy_point pts[3] = {{150.3, 120.8}, {380.0, 250.5}, {-100, -100}};
  hy_image orig = {0}, kept = {0}, work = {0};
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&orig, W, H, &err), ==, HY_OK);
  for (int p = 0; p < W * H; p++) orig.pixels[p] = 0.2f;
  blob(&orig, pts[0].x, pts[0].y, 8);
  blob(&orig, pts[1].x, pts[1].y, 8);
  g_assert_cmpint(hy_image_new(&kept, W / 2, H / 2, &err), ==, HY_OK);
  g_assert_cmpint(hy_image_resize(&kept, &orig, &err), ==, HY_OK);
  hy_affine to_kept = hy_affine_resize(W, H, W / 2, H / 2);
  g_assert_cmpint(hy_image_new(&work, W / 2, H / 2, &err), ==, HY_OK);

  hy_augment aug;
  hy_augment_defaults(&aug);
  aug.rotate_p = 1;
  aug.flip_p = 0.5;
  hy_rng rng;
  hy_rng_seed(&rng, 42);
  float input[96 * 128], weights[3];
  hy_point in_pts[3];
  double worst = 0;
  int flips = 0, turned = 0;
  for (int trial = 0; trial < 12; trial++) {
    memcpy(work.pixels, kept.pixels, sizeof(float) * (size_t)(W / 2) * (H / 2));
    hy_augment_draw d;
    g_assert_cmpint(hy_augment_sample(input, in_pts, weights, &d, &work, &to_kept, W, H, pts, 3,
                                      in_w, in_h, &aug, &rng, &err),
                    ==, HY_OK);
    flips += d.flipped;
    turned += fabs(d.angle_deg) > 3;
    g_assert_cmpfloat(weights[2], ==, 0);
    for (int k = 0; k < 2; k++) {
      g_assert_cmpfloat(weights[k], ==, 1);
      hy_point c = blob_centre(input, in_w, in_h, in_pts[k].x, in_pts[k].y, 7);
      double e = hypot(c.x - in_pts[k].x, c.y - in_pts[k].y);
      worst = fmax(worst, e);
      if (!(e < 0.5))
        g_error("trial %d landmark %d: blob at (%.2f, %.2f), landmark mapped to (%.2f, %.2f) "
                "(angle %.1f, scale %.2f, flip %d)",
                trial, k, c.x, c.y, in_pts[k].x, in_pts[k].y, d.angle_deg, d.scale, d.flipped);
    }
  }
  g_test_message("worst blob-to-landmark distance %.3f input px", worst);
  g_assert_cmpint(flips, >, 0);
  g_assert_cmpint(turned, >, 0);
  /* the identity: the letterbox alone */
  hy_augment off;
  hy_augment_off(&off);
  memcpy(work.pixels, kept.pixels, sizeof(float) * (size_t)(W / 2) * (H / 2));
  g_assert_cmpint(hy_augment_sample(input, in_pts, weights, NULL, &work, &to_kept, W, H, pts, 3,
                                    in_w, in_h, &off, &rng, &err),
                  ==, HY_OK);
  g_assert_cmpfloat_with_epsilon(in_pts[0].x, (pts[0].x + 0.5) * 0.25 - 0.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(in_pts[0].y, (pts[0].y + 0.5) * 0.25 - 0.5, 1e-9);
  hy_image_free(&work);
  hy_image_free(&kept);
  hy_image_free(&orig);
}

/* ---- training ---- */

typedef struct run_log {
  double loss[64];
  int steps, checkpoints, validations;
  int stop_at;           /* set the stop flag after this step */
  int stop_after_caching; /* ... or once the images are cached */
  volatile sig_atomic_t stop;
} run_log;

static void on_progress(const hy_train_progress *p, void *user) {
  run_log *log = user;
  if (p->event == HY_TRAIN_STEP && p->step <= 64) {
    log->loss[p->step - 1] = p->loss;
    log->steps = (int)p->step;
    if (log->stop_at && p->step == log->stop_at) log->stop = 1;
  }
  if (p->event == HY_TRAIN_CACHING && p->cached == p->to_cache && log->stop_after_caching)
    log->stop = 1;
  log->checkpoints += p->event == HY_TRAIN_CHECKPOINT;
  log->validations += p->event == HY_TRAIN_VALIDATED;
}

static hy_train_options tiny_options(const char *out, run_log *log, const hy_dataset_spec *spec) {
  hy_train_options o;
  hy_train_options_defaults(&o);
  o.data_dir = tiny_dir();
  o.spec = spec;
  o.config = "tiny";
  o.out_dir = out;
  o.steps = 6;
  o.warmup = 2;
  o.threads = 2;
  o.val_every = 2;
  o.val_fraction = 0.25;
  o.stop = &log->stop;
  o.progress = on_progress;
  o.user = log;
  return o;
}

static char *out_dir(const char *name) { return g_build_filename(tu_tmpdir(), name, NULL); }

static void test_loss_decreases(void) {
  hy_dataset_spec spec = tiny_spec();
  run_log log = {0};
  char *out = out_dir("loss");
  hy_train_options o = tiny_options(out, &log, &spec);
  o.steps = 30;
  o.warmup = 5;
  o.val_every = 0;
  hy_error err = {0};
  if (hy_train(&o, &err)) g_error("%s", err.msg);
  g_assert_cmpint(log.steps, ==, 30);
  double first = 0, last = 0;
  for (int i = 0; i < 5; i++) first += log.loss[i] / 5, last += log.loss[25 + i] / 5;
  g_test_message("loss: first 5 steps %.4f, last 5 %.4f", first, last);
  g_assert_cmpfloat(last, <, 0.7 * first);
  g_assert_cmpint(log.validations, ==, 1);
  /* the best model is a plain model with the data set's landmarks */
  char *best = g_build_filename(out, "best.hyatt", NULL);
  hy_net_config cfg;
  hy_model_info info;
  if (hy_model_inspect(&cfg, &info, best, &err)) g_error("%s", err.msg);
  g_assert_false(info.checkpoint);
  g_assert_cmpint(info.landmark_count, ==, 2);
  g_assert_cmpstr(info.landmark_names[1], ==, "right");
  g_assert_cmpfloat(info.spacing_mm, ==, 0.1);
  g_free(best);
  g_free(out);
}

/* Every parameter, buffer and optimiser moment of two checkpoints. */
static void assert_same_checkpoint(const char *a, const char *b) {
  hy_tensorfile *ta = NULL, *tb = NULL;
  hy_error err = {0};
  if (hy_tensorfile_load(&ta, a, 0, &err) || hy_tensorfile_load(&tb, b, 0, &err))
    g_error("%s", err.msg);
  g_assert_cmpint(ta->n_tensors, ==, tb->n_tensors);
  for (int i = 0; i < ta->n_tensors; i++) {
    const hy_tensor_entry *x = &ta->tensors[i], *y = hy_tensorfile_find(tb, x->name);
    g_assert_nonnull(y);
    g_assert_cmpuint(x->nbytes, ==, y->nbytes);
    if (memcmp(x->data, y->data, x->nbytes) != 0) g_error("tensor %s differs", x->name);
  }
  const char *keys[] = {"optim.step", "train.position", "train.best_val_mre", "steps"};
  for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
    g_assert_cmpstr(hy_tensorfile_meta(ta, keys[k]), ==, hy_tensorfile_meta(tb, keys[k]));
  hy_tensorfile_free(ta);
  hy_tensorfile_free(tb);
}

static void test_resume_is_exact(void) {
  hy_dataset_spec spec = tiny_spec();
  hy_error err = {0};
  char *straight = out_dir("straight"), *split = out_dir("split");
  run_log log = {0};
  hy_train_options o = tiny_options(straight, &log, &spec);
  if (hy_train(&o, &err)) g_error("%s", err.msg);
  g_assert_cmpint(log.validations, ==, 3);

  run_log first = {.stop_at = 3};
  o = tiny_options(split, &first, &spec);
  g_assert_cmpint(hy_train(&o, &err), ==, HY_E_CANCELLED);
  g_assert_nonnull(strstr(err.msg, "step 3"));
  g_assert_cmpint(first.steps, ==, 3);
  g_assert_cmpint(first.checkpoints, ==, 1);

  char *ckpt = g_build_filename(split, "last.hyatt", NULL);
  run_log second = {0};
  o = tiny_options(split, &second, &spec);
  o.resume = ckpt;
  o.steps = 0; /* the checkpoint's */
  o.lr = 0.5;  /* ignored: the checkpoint's */
  if (hy_train(&o, &err)) g_error("%s", err.msg);
  g_assert_cmpint(second.steps, ==, 6);
  for (int i = 3; i < 6; i++) g_assert_cmpfloat(second.loss[i], ==, log.loss[i]);
  char *a = g_build_filename(straight, "last.hyatt", NULL);
  assert_same_checkpoint(a, ckpt);
  char *best_a = g_build_filename(straight, "best.hyatt", NULL);
  char *best_b = g_build_filename(split, "best.hyatt", NULL);
  assert_same_checkpoint(best_a, best_b);
  g_free(best_b);
  g_free(best_a);
  g_free(a);
  g_free(ckpt);
  g_free(split);
  g_free(straight);
}

static void test_numeric_failure_keeps_checkpoint(void) {
  hy_dataset_spec spec = tiny_spec();
  hy_error err = {0};
  char *out = out_dir("nan");
  run_log log = {.stop_at = 2};
  hy_train_options o = tiny_options(out, &log, &spec);
  g_assert_cmpint(hy_train(&o, &err), ==, HY_E_CANCELLED);
  char *ckpt = g_build_filename(out, "last.hyatt", NULL);
  gchar *before = NULL, *after = NULL;
  gsize n_before = 0, n_after = 0;
  g_assert_true(g_file_get_contents(ckpt, &before, &n_before, NULL));

  run_log again = {0};
  o = tiny_options(out, &again, &spec);
  o.resume = ckpt;
  hy_trainer *t = NULL;
  if (hy_trainer_new(&t, &o, &err)) g_error("%s", err.msg);
  g_assert_cmpint(hy_trainer_step(t), ==, 2);
  hy_net *net = hy_trainer_net(t);
  net->plan.table[2].w[0] = NAN; /* a weight of the first block */
  g_assert_cmpint(hy_trainer_run(t, &err), ==, HY_E_NUMERIC);
  g_test_message("%s", err.msg);
  g_assert_nonnull(strstr(err.msg, "step 3"));
  g_assert_cmpint(again.checkpoints, ==, 0);
  hy_trainer_free(t);

  g_assert_true(g_file_get_contents(ckpt, &after, &n_after, NULL));
  g_assert_cmpuint(n_before, ==, n_after);
  g_assert_true(memcmp(before, after, n_after) == 0);
  hy_model_info info;
  hy_net *loaded = NULL;
  if (hy_model_load(&loaded, &info, ckpt, HY_INFER, 1, &err)) g_error("%s", err.msg);
  g_assert_true(info.checkpoint);
  g_assert_cmpint(info.steps, ==, 2);
  hy_net_free(loaded);
  g_free(before);
  g_free(after);
  g_free(ckpt);
  g_free(out);
}

static void test_stop_flag_writes_checkpoint(void) {
  hy_dataset_spec spec = tiny_spec();
  hy_error err = {0};
  char *out = out_dir("stop");
  run_log log = {.stop_after_caching = 1}; /* as if SIGINT came before the first step */
  hy_train_options o = tiny_options(out, &log, &spec);
  g_assert_cmpint(hy_train(&o, &err), ==, HY_E_CANCELLED);
  g_assert_cmpint(log.steps, ==, 0);
  g_assert_cmpint(log.checkpoints, ==, 1);
  char *ckpt = g_build_filename(out, "last.hyatt", NULL);
  hy_model_info info;
  hy_net_config cfg;
  if (hy_model_inspect(&cfg, &info, ckpt, &err)) g_error("%s", err.msg);
  g_assert_true(info.checkpoint);
  g_assert_cmpint(info.steps, ==, 0);
  g_assert_cmpint(cfg.landmarks, ==, 2);
  /* a model is not a checkpoint */
  char *best = g_build_filename(tu_tmpdir(), "loss", "best.hyatt", NULL);
  if (g_file_test(best, G_FILE_TEST_EXISTS)) {
    o.resume = best;
    g_assert_cmpint(hy_train(&o, &err), ==, HY_E_FORMAT);
    g_assert_nonnull(strstr(err.msg, "is not a checkpoint"));
  }
  g_free(best);
  g_free(ckpt);
  g_free(out);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/train/metrics", test_metrics);
  g_test_add_func("/train/lr-schedule", test_lr_schedule);
  g_test_add_func("/train/dataset", test_dataset);
  g_test_add_func("/train/dataset-spacing-rule", test_dataset_spacing_rule);
  g_test_add_func("/train/dataset-errors", test_dataset_errors);
  g_test_add_func("/train/dataset-shared", test_dataset_shared);
  g_test_add_func("/train/augment-keeps-landmarks", test_augment_keeps_landmarks);
  g_test_add_func("/train/loss-decreases", test_loss_decreases);
  g_test_add_func("/train/resume-is-exact", test_resume_is_exact);
  g_test_add_func("/train/numeric-failure-keeps-checkpoint", test_numeric_failure_keeps_checkpoint);
  g_test_add_func("/train/stop-flag-writes-checkpoint", test_stop_flag_writes_checkpoint);
  return g_test_run();
}
