#include "predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "pool.h"
#include "resample.h"

#define STD_FLOOR 1e-3

hy_status hy_predict_prepare(float *input, int in_w, int in_h, const hy_image *img,
                             const hy_affine *to_input, double *mean_out,
                             double *std_out, hy_error *err) {
  if (!img || !img->pixels || img->width <= 0 || img->height <= 0)
    return hy_fail(err, HY_E_ARG, "predict: the image is empty");
  if (in_w <= 0 || in_h <= 0)
    return hy_fail(err, HY_E_ARG, "predict: network input %dx%d is empty", in_w, in_h);
  /* NaN marks the padding: hy_image_warp never blends fill into image pixels */
  hy_image dst = {in_w, in_h, 8, input};
  hy_status st = hy_image_warp(&dst, img, to_input, NAN, err);
  if (st != HY_OK) return st;
  size_t n = (size_t)in_w * in_h, real = 0;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(input[i])) {
      sum += input[i];
      real++;
    }
  if (real == 0)
    return hy_fail(err, HY_E_ARG,
                   "predict: the affine puts no pixel of the %dx%d image on the %dx%d input",
                   img->width, img->height, in_w, in_h);
  double mean = sum / (double)real, var = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(input[i])) var += ((double)input[i] - mean) * ((double)input[i] - mean);
  double sd = sqrt(var / (double)real);
  double inv = 1.0 / (sd > STD_FLOOR ? sd : STD_FLOOR);
  for (size_t i = 0; i < n; i++)
    input[i] = isnan(input[i]) ? 0.0f : (float)(((double)input[i] - mean) * inv);
  if (mean_out) *mean_out = mean;
  if (std_out) *std_out = sd;
  return HY_OK;
}

hy_decode_options hy_decode_options_default(void) {
  return (hy_decode_options){HY_COMBINE_MEAN3, 4, 6};
}

hy_heads_view hy_heads_view_of(const hy_net *net, int n) {
  hy_heads_view v = {.K = net->cfg.landmarks};
  for (int i = 0; i < 3; i++) {
    v.h[i] = net->out_h[i];
    v.w[i] = net->out_w[i];
    v.maps[i] = net->out[i] + (size_t)n * v.K * v.h[i] * v.w[i];
    v.stride[i] = net->cfg.in_w / net->out_w[i];
    v.sigma[i] = net->cfg.sigmas[i];
  }
  return v;
}

/* Mean squared distance from (x, y) of the positive mass of m in the window
 * [x0, x1] × [y0, y1]; -1 when there is none. */
static double spread(const float *m, int W, int x0, int x1, int y0, int y1, double x,
                     double y) {
  double mass = 0, moment = 0;
  for (int Y = y0; Y <= y1; Y++)
    for (int X = x0; X <= x1; X++) {
      double v = m[(size_t)Y * W + X];
      if (!(v > 0)) continue;
      mass += v;
      moment += v * ((X - x) * (X - x) + (Y - y) * (Y - y));
    }
  return mass > 0 ? moment / mass : -1;
}

float hy_predict_confidence(const float *map, int H, int W, float x, float y, float value,
                            float sigma) {
  if (!(isfinite(x) && isfinite(y) && isfinite(value) && sigma > 0)) return 0.0f;
  double height = value < 0 ? 0 : value > 1 ? 1 : value;
  int r = (int)floor(3.0 * sigma);
  double ideal_m = 0, ideal_mass = 0, inv = 1.0 / (2.0 * (double)sigma * sigma);
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++) {
      double d2 = (double)dx * dx + (double)dy * dy, g = exp(-d2 * inv);
      ideal_mass += g;
      ideal_m += g * d2;
    }
  ideal_m /= ideal_mass;
  int cx = (int)floor(x + 0.5), cy = (int)floor(y + 0.5);
  cx = cx < 0 ? 0 : cx > W - 1 ? W - 1 : cx;
  cy = cy < 0 ? 0 : cy > H - 1 ? H - 1 : cy;
  int x0 = cx - r > 0 ? cx - r : 0, x1 = cx + r < W - 1 ? cx + r : W - 1;
  int y0 = cy - r > 0 ? cy - r : 0, y1 = cy + r < H - 1 ? cy + r : H - 1;
  double m = spread(map, W, x0, x1, y0, y1, x, y);
  if (!(m >= 0) || !isfinite(m)) return 0.0f;
  double factor = m > ideal_m ? ideal_m / m : 1.0;
  return (float)(height * factor);
}

/* The pixels of a head of stride s whose centres lie within the image's area
 * mapped by to_input (its bounding box, for a rotated image). */
static void image_window(const hy_affine *to_input, int image_w, int image_h, int s,
                         int win[4]) {
  double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (int c = 0; c < 4; c++) {
    double p[2];
    hy_affine_apply(to_input, (c & 1) ? image_w - 0.5 : -0.5, (c & 2) ? image_h - 0.5 : -0.5,
                    &p[0], &p[1]);
    for (int a = 0; a < 2; a++) {
      p[a] = hy_head_from_input(p[a], s);
      lo[a] = fmin(lo[a], p[a]);
      hi[a] = fmax(hi[a], p[a]);
    }
  }
  /* clamped before the int conversion; hy_heatmap_decode_window clips the rest */
  for (int a = 0; a < 2; a++) {
    win[2 * a] = (int)fmax(-1.0, fmin(ceil(lo[a]), 1e6));
    win[2 * a + 1] = (int)fmax(-1.0, fmin(floor(hi[a]), 1e6));
  }
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

hy_status hy_predict_decode(hy_prediction *out, const hy_heads_view *heads,
                            const hy_affine *to_input, int image_w, int image_h,
                            const hy_decode_options *opt, hy_error *err) {
  int K = heads->K;
  if (K < 1 || K > HY_PREDICT_MAX_LANDMARKS)
    return hy_fail(err, HY_E_ARG, "predict: %d landmarks is not in 1..%d", K,
                   HY_PREDICT_MAX_LANDMARKS);
  if (image_w <= 0 || image_h <= 0)
    return hy_fail(err, HY_E_ARG, "predict: image size %dx%d is empty", image_w, image_h);
  hy_affine back;
  hy_status st = hy_affine_invert(&back, to_input, err);
  if (st != HY_OK) return st;
  hy_decode_options o = opt ? *opt : hy_decode_options_default();
  hy_peak *peaks = malloc((size_t)3 * K * sizeof *peaks);
  float *centres = malloc((size_t)2 * K * sizeof *centres);
  if (!peaks || !centres) {
    free(peaks);
    free(centres);
    return hy_fail(err, HY_E_NOMEM, "predict: no memory to decode %d landmarks", K);
  }
  int win[4];
  image_window(to_input, image_w, image_h, heads->stride[0], win);
  hy_heatmap_decode_window(peaks, heads->maps[0], win[0], win[1], win[2], win[3], K,
                           heads->h[0], heads->w[0]);
  const int radius[3] = {0, o.radius2, o.radius3};
  for (int i = 1; i < 3; i++) {
    const hy_peak *prev = peaks + (size_t)(i - 1) * K;
    for (int k = 0; k < K; k++) {
      centres[2 * k] = (float)hy_head_from_input(
          hy_input_from_head(prev[k].x, heads->stride[i - 1]), heads->stride[i]);
      centres[2 * k + 1] = (float)hy_head_from_input(
          hy_input_from_head(prev[k].y, heads->stride[i - 1]), heads->stride[i]);
    }
    hy_heatmap_decode_near(peaks + (size_t)i * K, heads->maps[i], centres,
                           radius[i] < 0 ? 0 : radius[i], K, heads->h[i], heads->w[i]);
  }
  out->K = K;
  out->image_w = image_w;
  out->image_h = image_h;
  out->heads = *heads;
  out->to_input = *to_input;
  const hy_peak *fine = peaks + (size_t)2 * K;
  size_t plane = (size_t)heads->h[2] * heads->w[2];
  for (int k = 0; k < K; k++) {
    double x = 0, y = 0;
    if (o.combine == HY_COMBINE_FINEST) {
      x = hy_input_from_head(fine[k].x, heads->stride[2]);
      y = hy_input_from_head(fine[k].y, heads->stride[2]);
    } else {
      for (int i = 0; i < 3; i++) {
        x += hy_input_from_head(peaks[(size_t)i * K + k].x, heads->stride[i]) / 3.0;
        y += hy_input_from_head(peaks[(size_t)i * K + k].y, heads->stride[i]) / 3.0;
      }
    }
    out->input_points[k] = (hy_point){x, y};
    double ox, oy;
    hy_affine_apply(&back, x, y, &ox, &oy);
    out->points[k] = (hy_point){clampd(ox, -0.5, image_w - 0.5), clampd(oy, -0.5, image_h - 0.5)};
    out->confidence[k] = hy_predict_confidence(heads->maps[2] + (size_t)k * plane, heads->h[2],
                                               heads->w[2], fine[k].x, fine[k].y,
                                               fine[k].value, heads->sigma[2]);
  }
  free(peaks);
  free(centres);
  return HY_OK;
}

struct hy_predictor {
  hy_net *net;   /* owned */
  hy_pool *pool; /* owned */
  int threads;
  hy_decode_options opt;
};

hy_status hy_predictor_new(hy_predictor **out, hy_net *net, int threads, hy_error *err) {
  *out = NULL;
  if (!net) return hy_fail(err, HY_E_ARG, "predictor: no network");
  hy_status st = HY_OK;
  if (net->plan.mode != HY_INFER || net->N != 1)
    st = hy_fail(err, HY_E_ARG, "predictor: the network must be for inference of 1 image "
                                "(it is for %s of %d)",
                 net->plan.mode == HY_INFER ? "inference" : "training", net->N);
  else if (threads < 1 || threads > net->plan.threads)
    st = hy_fail(err, HY_E_ARG, "predictor: %d threads is not in 1..%d (the network's plan)",
                 threads, net->plan.threads);
  else if (net->cfg.landmarks > HY_PREDICT_MAX_LANDMARKS)
    st = hy_fail(err, HY_E_ARG, "predictor: %d landmarks, at most %d", net->cfg.landmarks,
                 HY_PREDICT_MAX_LANDMARKS);
  hy_predictor *p = NULL;
  if (st == HY_OK) {
    p = calloc(1, sizeof *p);
    if (!p) st = hy_fail(err, HY_E_NOMEM, "predictor: no memory");
  }
  if (st == HY_OK) st = hy_pool_create(&p->pool, threads, err);
  if (st != HY_OK) {
    free(p);
    hy_net_free(net);
    return st;
  }
  p->net = net;
  p->threads = threads;
  p->opt = hy_decode_options_default();
  *out = p;
  return HY_OK;
}

void hy_predictor_free(hy_predictor *p) {
  if (!p) return;
  hy_pool_destroy(p->pool);
  hy_net_free(p->net);
  free(p);
}

void hy_predictor_set_options(hy_predictor *p, const hy_decode_options *opt) {
  p->opt = *opt;
}

const hy_net *hy_predictor_net(const hy_predictor *p) { return p->net; }

hy_status hy_predictor_run(hy_predictor *p, const hy_image *img, hy_prediction *out,
                           hy_error *err) {
  hy_net *net = p->net;
  const hy_net_config *c = &net->cfg;
  if (!img || !img->pixels || img->width <= 0 || img->height <= 0)
    return hy_fail(err, HY_E_ARG, "predict: the image is empty");
  hy_affine to_input = hy_affine_letterbox(img->width, img->height, c->in_w, c->in_h, NULL);
  hy_status st = hy_predict_prepare(net->input, c->in_w, c->in_h, img, &to_input, NULL, NULL, err);
  if (st != HY_OK) return st;
  hy_blas_set_threads(p->threads);
  hy_run run = {p->pool, net->plan.scratch, HY_BN_RUNNING};
  hy_net_forward(net, &run);
  hy_heads_view heads = hy_heads_view_of(net, 0);
  st = hy_predict_decode(out, &heads, &to_input, img->width, img->height, &p->opt, err);
  if (st != HY_OK) return st;
  out->in_w = c->in_w;
  out->in_h = c->in_h;
  return HY_OK;
}
