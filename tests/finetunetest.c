#include "finetunetest.h"

#include <math.h>
#include <string.h>

#include "annotation.h"
#include "finetune_job.h"
#include "testutil.h"

#define K FT_K
#define W 96
#define H 64

const hy_point ft_layout[K] = {{20, 16}, {60, 24}, {44, 48}};

char *ft_tiny_model(const char *name) {
  hy_net_config cfg;
  hy_error err = {0};
  g_assert_cmpint(hy_net_config_named(&cfg, "tiny", &err), ==, HY_OK);
  cfg.landmarks = K;
  hy_net *net = NULL;
  g_assert_cmpint(hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err), ==, HY_OK);
  hy_net_init_seeded(net, 4);
  hy_model_info info = {0};
  strcpy(info.landmark_set, "test3");
  info.landmark_count = K;
  strcpy(info.landmark_names[0], "a");
  strcpy(info.landmark_names[1], "b");
  strcpy(info.landmark_names[2], "c");
  info.spacing_mm = 0.1;
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  if (hy_model_save(net, &info, path, &err) != HY_OK) g_error("%s", err.msg);
  hy_net_free(net);
  return path;
}

char *ft_image(const char *dir, const char *name) {
  hy_image img = {0};
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&img, W, H, &err), ==, HY_OK);
  tu_rng r = tu_rng_new(g_str_hash(name));
  for (int p = 0; p < W * H; p++) img.pixels[p] = 0.1f + 0.1f * (float)tu_uniform(&r);
  for (int k = 0; k < K; k++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        double ddx = x - ft_layout[k].x, ddy = y - ft_layout[k].y, d2 = ddx * ddx + ddy * ddy;
        img.pixels[y * W + x] = fminf(1, img.pixels[y * W + x] + (float)(0.7 * exp(-d2 / 8)));
      }
  g_autofree char *file = g_strconcat(name, ".png", NULL);
  char *image = g_build_filename(dir, file, NULL);
  g_assert_cmpint(hy_image_save_png(&img, image, 8, &err), ==, HY_OK);
  hy_image_free(&img);
  return image;
}

char *ft_corrected_image(const char *dir, const char *name, double dx, double dy) {
  g_autofree char *image = ft_image(dir, name);
  g_autofree char *file = g_path_get_basename(image);
  g_autoptr(HyAnnotation) a = hy_annotation_new(file, W, H, "test3", K);
  a->spacing_mm = 0.1;
  for (int k = 0; k < K; k++) {
    a->points[k].x = ft_layout[k].x + dx;
    a->points[k].y = ft_layout[k].y + dy;
    a->points[k].state = k == 2 && dx == 0 ? HY_LANDMARK_MOVED : HY_LANDMARK_CONFIRMED;
  }
  char *path = hy_annotation_path_for_image(image);
  g_autoptr(GError) error = NULL;
  g_assert_true(hy_annotation_save(a, path, &error));
  return path;
}

GPtrArray *ft_corrected_set(const char *dir, const char *tag, int n, GPtrArray *all,
                                double dx, double dy) {
  GPtrArray *paths = all ? g_ptr_array_ref(all) : g_ptr_array_new_with_free_func(g_free);
  if (paths->len && !g_ptr_array_index(paths, paths->len - 1)) g_ptr_array_remove_index(paths, paths->len - 1);
  guint first = paths->len;
  for (int i = 0; i < n; i++) {
    g_autofree char *name = g_strdup_printf("%s%d", tag, i);
    g_ptr_array_add(paths, ft_corrected_image(dir, name, 0, 0));
  }
  g_ptr_array_add(paths, NULL);
  g_auto(GStrv) held = hy_finetune_held_out((const char *const *)paths->pdata);
  for (guint i = first; (dx || dy) && i < paths->len - 1; i++) {
    const char *p = g_ptr_array_index(paths, i);
    if (g_strv_contains((const char *const *)held, p)) continue;
    g_autofree char *name = g_strdup_printf("%s%u", tag, i - first);
    g_free(ft_corrected_image(dir, name, dx, dy));
  }
  return paths;
}

