#include "augment.h"

#include <math.h>
#include <string.h>

#include "predict.h"

#define PI 3.14159265358979323846

void hy_augment_defaults(hy_augment *a) {
  *a = (hy_augment){
      .rotate_p = 0.6, .rotate_sigma_deg = 10, .rotate_max_deg = 25,
      .scale_sigma = 0.1, .scale_max = 0.2,
      .shift = 0.05,
      .flip_p = 0,
      .gamma_p = 0.5, .gamma_log = 0.3,
      .contrast_p = 0.5, .contrast_lo = 0.5, .contrast_hi = 1.5,
      .brightness_p = 0.5, .brightness = 32.0 / 255.0,
      .noise_p = 0.5, .noise_max = 0.02,
  };
}

void hy_augment_off(hy_augment *a) {
  memset(a, 0, sizeof *a);
  a->contrast_lo = a->contrast_hi = 1;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

void hy_augment_draw_params(hy_augment_draw *d, const hy_augment *a, hy_rng *rng, int in_w,
                            int in_h) {
  /* every value is drawn, used or not: a fixed count of generator steps */
  double u_flip = hy_rng_uniform(rng);
  double n_scale = hy_rng_normal(rng);
  double u_rot = hy_rng_uniform(rng), n_rot = hy_rng_normal(rng);
  double u_tx = hy_rng_range(rng, -1, 1), u_ty = hy_rng_range(rng, -1, 1);
  double u_gamma = hy_rng_uniform(rng), v_gamma = hy_rng_range(rng, -1, 1);
  double u_con = hy_rng_uniform(rng), v_con = hy_rng_uniform(rng);
  double u_bri = hy_rng_uniform(rng), v_bri = hy_rng_range(rng, -1, 1);
  double u_noise = hy_rng_uniform(rng), v_noise = hy_rng_uniform(rng);

  memset(d, 0, sizeof *d);
  d->flipped = u_flip < a->flip_p;
  d->scale = 1 + clampd(a->scale_sigma * n_scale, -a->scale_max, a->scale_max);
  d->angle_deg = u_rot < a->rotate_p
                     ? clampd(a->rotate_sigma_deg * n_rot, -a->rotate_max_deg, a->rotate_max_deg)
                     : 0;
  d->shift_x = u_tx * a->shift * in_w;
  d->shift_y = u_ty * a->shift * in_h;
  d->gamma = u_gamma < a->gamma_p ? exp(v_gamma * a->gamma_log) : 1;
  d->contrast = u_con < a->contrast_p ? a->contrast_lo + v_con * (a->contrast_hi - a->contrast_lo)
                                      : 1;
  d->brightness = u_bri < a->brightness_p ? v_bri * a->brightness : 0;
  d->noise_sigma = u_noise < a->noise_p ? v_noise * a->noise_max : 0;

  double cx = 0.5 * (in_w - 1), cy = 0.5 * (in_h - 1);
  hy_affine g = d->flipped ? hy_affine_scale(-1, 1, cx, cy) : hy_affine_identity();
  hy_affine s = hy_affine_scale(d->scale, d->scale, cx, cy);
  hy_affine r = hy_affine_rotate(d->angle_deg * PI / 180, cx, cy);
  hy_affine t = hy_affine_translate(d->shift_x, d->shift_y);
  g = hy_affine_compose(&g, &s);
  g = hy_affine_compose(&g, &r);
  d->geometry = hy_affine_compose(&g, &t);
}

static float clampf(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void hy_augment_intensity(float *px, size_t n, const hy_augment_draw *d, hy_rng *rng) {
  float gamma = (float)d->gamma, c = (float)d->contrast, b = (float)d->brightness;
  if (gamma != 1.0f || c != 1.0f || b != 0.0f)
    for (size_t i = 0; i < n; i++) {
      float v = gamma != 1.0f ? powf(px[i] > 0 ? px[i] : 0, gamma) : px[i];
      px[i] = clampf(c * v + b);
    }
  if (d->noise_sigma > 0) {
    /* four 16-bit uniforms summed: mean 2, variance 4/12 */
    const float scale = (float)(d->noise_sigma * sqrt(3.0)) / 65536.0f;
    for (size_t i = 0; i < n; i++) {
      uint64_t u = hy_rng_next(rng);
      float sum = (float)((u & 0xFFFF) + ((u >> 16) & 0xFFFF) + ((u >> 32) & 0xFFFF) + (u >> 48));
      px[i] = clampf(px[i] + (sum - 2.0f * 65535.0f) * scale);
    }
  }
}

hy_status hy_augment_sample(float *input, hy_point *input_points, float *weights,
                            hy_augment_draw *d_out, hy_image *src,
                            const hy_affine *orig_to_src, int orig_w, int orig_h,
                            const hy_point *points, int K, int in_w, int in_h,
                            const hy_augment *a, hy_rng *rng, hy_error *err) {
  hy_augment_draw d;
  hy_augment_draw_params(&d, a, rng, in_w, in_h);
  if (d_out) *d_out = d;
  hy_augment_intensity(src->pixels, (size_t)src->width * src->height, &d, rng);
  hy_affine letterbox = hy_affine_letterbox(orig_w, orig_h, in_w, in_h, NULL);
  hy_affine to_input = hy_affine_compose(&letterbox, &d.geometry), src_to_orig;
  hy_status st = hy_affine_invert(&src_to_orig, orig_to_src, err);
  if (st != HY_OK) return st;
  hy_affine src_to_input = hy_affine_compose(&src_to_orig, &to_input);
  st = hy_predict_prepare(input, in_w, in_h, src, &src_to_input, NULL, NULL, err);
  if (st != HY_OK) return st;
  for (int k = 0; k < K; k++) {
    double x, y;
    hy_affine_apply(&to_input, points[k].x, points[k].y, &x, &y);
    input_points[k] = (hy_point){x, y};
    weights[k] = x >= -0.5 && x < in_w - 0.5 && y >= -0.5 && y < in_h - 0.5 ? 1.0f : 0.0f;
  }
  return HY_OK;
}
