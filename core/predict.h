/* From an image to landmarks with HYATT-Net (DESIGN §3.3, NETWORK.md §5, §7,
 * §10): letterboxed, standardised input; forward; coarse-to-fine decoding of
 * the three heads; the inverse letterbox back to original pixels; a
 * confidence per landmark.
 *
 * Coordinates everywhere use the pixel-centre convention of affine.h: pixel
 * (i, j) is centred at (i, j). Three frames are involved:
 *   original  pixels of the image as loaded;
 *   input     pixels of the network input (in_w × in_h), reached from the
 *             original by an affine (the letterbox, plus augmentation when
 *             training);
 *   head      pixels of one output head of stride s = in / out (4, 2, 1
 *             for O1, O2, O3): head pixel X covers input pixels
 *             [s X - 0.5, s (X + 1) - 0.5), so its centre is at input
 *             s (X + 0.5) - 0.5. The two functions below are the only
 *             place this mapping is written down. */
#pragma once

#include "affine.h"
#include "error.h"
#include "heatmap.h"
#include "image.h"
#include "landmarks.h"
#include "net.h"

/* Head pixel coordinate of an input pixel coordinate, and back. */
static inline double hy_head_from_input(double v, int stride) {
  return (v + 0.5) / stride - 0.5;
}
static inline double hy_input_from_head(double v, int stride) {
  return (v + 0.5) * stride - 0.5;
}

/* ---- input preparation ------------------------------------------------ */

/* Fills input [in_h][in_w] with img warped by to_input (original px → input
 * px; hy_affine_letterbox for inference, composed with augmentation for
 * training), with hy_image_warp (bilinear, box prefilter when shrinking).
 * Intensities (already in [0, 1]) are then standardised over the input
 * pixels that fall inside the image, in double: (v - mean) / std, with std
 * floored at 1e-3 so that a flat image gives zeros, not amplified noise.
 * Input pixels outside the image (the letterbox padding) are 0, i.e. the
 * mean. *mean_out, *std_out (either may be NULL) receive the statistics.
 * Refuses (HY_E_ARG) an empty image, a singular affine, or an affine that
 * puts no pixel of the image on the input. */
hy_status hy_predict_prepare(float *input, /* [in_h][in_w] */
                             int in_w, int in_h, const hy_image *img,
                             const hy_affine *to_input, double *mean_out,
                             double *std_out, hy_error *err);

/* ---- decoding ----------------------------------------------------------- */

/* How the three heads' points become one. */
typedef enum hy_combine {
  HY_COMBINE_MEAN3 = 0, /* the mean of O1, O2, O3's points in input px: what
                           the reference code does and what NETWORK.md §10
                           measured (1.63 mm on ISBI test1) */
  HY_COMBINE_FINEST = 1 /* O3's point alone */
} hy_combine;

typedef struct hy_decode_options {
  hy_combine combine;
  int radius2; /* O2 is searched within ±radius2 of its pixels around O1's point */
  int radius3; /* O3 within ±radius3 around O2's point */
} hy_decode_options;

/* {HY_COMBINE_MEAN3, 4, 6}: NETWORK.md §10. */
hy_decode_options hy_decode_options_default(void);

/* The network's three outputs for one image, coarsest first (net->out order). */
typedef struct hy_heads_view {
  int K;
  const float *maps[3]; /* borrowed: [K][h[i]][w[i]] */
  int h[3], w[3];
  int stride[3];        /* input px per head px: 4, 2, 1 */
  float sigma[3];       /* σ of the training targets, in each head's pixels */
} hy_heads_view;

/* The view of net's outputs for image n of its batch. */
hy_heads_view hy_heads_view_of(const hy_net *net, int n);

#define HY_PREDICT_MAX_LANDMARKS 256 /* = the limit of hy_net_config_check */

typedef struct hy_prediction {
  int K;
  int image_w, image_h;  /* of the original image */
  hy_point points[HY_PREDICT_MAX_LANDMARKS];  /* [K] original px */
  float confidence[HY_PREDICT_MAX_LANDMARKS]; /* [K] in [0, 1] */
  hy_point input_points[HY_PREDICT_MAX_LANDMARKS]; /* [K] the same in input px */
  hy_affine to_input;    /* original px → input px */
  int in_w, in_h;
  hy_heads_view heads;   /* borrowed maps: valid until the producer runs again */
} hy_prediction;

/* Confidence of the peak at (x, y) (head px, refined) with height `value` in
 * one plane [H][W] whose targets had spread sigma:
 *   c = clamp(value, 0, 1) · min(1, m_ideal / m)
 * where m is the mean squared distance from (x, y) of the plane's positive
 * mass in the (2⌊3σ⌋ + 1)² window around the peak's pixel (clipped to the
 * map), and m_ideal the same for an exact target (a Gaussian of spread σ on
 * a pixel centre, same window, unclipped). A clean peak of height 1 scores
 * 1; lower peaks, broader or multi-modal mass score less; a plane without
 * positive mass there, or non-finite values, score 0. Not calibrated. */
float hy_predict_confidence(const float *map, /* [H][W] */
                            int H, int W, float x, float y, float value,
                            float sigma);

/* Decodes heads coarse to fine (NETWORK.md §10) for an image_w × image_h
 * image put on the input by to_input:
 *   1. O1: the argmax over the pixels that show the image (the letterbox
 *      padding cannot hold a landmark), refined to sub-pixel;
 *   2. O2: searched within ±radius2 of its pixels around O1's point mapped
 *      to O2 (hy_head_from_input ∘ hy_input_from_head), refined;
 *   3. O3: the same within ±radius3 around O2's point;
 *   4. the points combined per opt (NULL = defaults) in input px, then
 *      to_input's inverse to original px, clamped to the image's area
 *      [-0.5, image_w - 0.5] × [-0.5, image_h - 0.5].
 * Confidence comes from O3 (hy_predict_confidence with sigma[2]). Fills all
 * of *out but in_w, in_h (the caller's). Refuses a singular to_input or K
 * outside 1..HY_PREDICT_MAX_LANDMARKS. */
hy_status hy_predict_decode(hy_prediction *out, const hy_heads_view *heads,
                            const hy_affine *to_input, int image_w,
                            int image_h, const hy_decode_options *opt,
                            hy_error *err);

/* ---- the predictor ------------------------------------------------------ */

typedef struct hy_predictor hy_predictor;

/* A predictor that owns net (from this call on, also when it fails: it is
 * freed then), a pool of `threads` threads and its buffers. net must be an
 * inference network (HY_INFER) for one image (N = 1) planned for at least
 * `threads` threads. */
hy_status hy_predictor_new(hy_predictor **out, hy_net *net, int threads,
                           hy_error *err);
void hy_predictor_free(hy_predictor *p);

/* Replaces the decoding options (defaults: hy_decode_options_default). */
void hy_predictor_set_options(hy_predictor *p, const hy_decode_options *opt);

/* The owned network (its config: landmarks, input size, σ). */
const hy_net *hy_predictor_net(const hy_predictor *p);

/* Letterbox + standardise img, forward (BatchNorm with running statistics;
 * OpenBLAS set to the predictor's thread count), decode. out->heads points
 * into the network's outputs until the next run or hy_predictor_free. The
 * result does not depend on the thread count. */
hy_status hy_predictor_run(hy_predictor *p, const hy_image *img,
                           hy_prediction *out, hy_error *err);
