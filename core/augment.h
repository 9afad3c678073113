/* On-the-fly augmentation of training samples (DESIGN §3.4, NETWORK.md §6,
 * §10): a random affine in the network input's frame applied after the
 * letterbox, the same affine applied to the landmarks, and a random
 * intensity change. All randomness comes from a hy_rng, drawn in a fixed
 * order and number per sample (every parameter is drawn whether or not its
 * probability fires), so a seeded run is reproducible and a resumed one
 * continues the same sequence.
 *
 * Geometry, about the centre c of the input (input pixels):
 *   p ↦ T(t) · R(θ, c) · S(s, c) · F(c) · p
 * F: horizontal mirror with probability flip_p (default 0: no flip, the
 * landmark order is kept, so only for sets without left/right pairs);
 * s = 1 + clamp(scale_sigma·N(0,1), ±scale_max);
 * θ = clamp(rotate_sigma·N(0,1), ±rotate_max) with probability rotate_p;
 * t = (U(±shift)·in_w, U(±shift)·in_h).
 *
 * Intensity, on the source's values in [0, 1], before the input is
 * standardised per image (hy_predict_prepare):
 *   v ↦ clamp(contrast · v^γ + brightness, 0, 1) + noise, clamped again
 * γ = exp(U(±gamma_log)) with probability gamma_p; contrast U(contrast_lo,
 * contrast_hi) with probability contrast_p; brightness U(±brightness) with
 * probability brightness_p; noise ~ σ·N(0,1) per source pixel
 * (approximately: a sum of four uniforms), σ = U(0, noise_max), with
 * probability noise_p. Since the input is standardised afterwards, contrast
 * and brightness change the picture only through the clamping: which parts
 * saturate. */
#pragma once

#include <stddef.h>

#include "affine.h"
#include "error.h"
#include "image.h"
#include "landmarks.h"
#include "rng.h"

typedef struct hy_augment {
  double rotate_p, rotate_sigma_deg, rotate_max_deg;
  double scale_sigma, scale_max;
  double shift;  /* fraction of the input size */
  double flip_p;
  double gamma_p, gamma_log;
  double contrast_p, contrast_lo, contrast_hi;
  double brightness_p, brightness;
  double noise_p, noise_max;
} hy_augment;

/* NETWORK.md §10: rotation σ 10° clipped at ±25° with p 0.6, scale σ 0.1
 * clipped at ±0.2, shift ±5 %, no flip; gamma exp(±0.3) p 0.5, contrast
 * ×[0.5, 1.5] p 0.5, brightness ±32/255 p 0.5, noise σ up to 0.02 p 0.5. */
void hy_augment_defaults(hy_augment *a);

/* Everything off: the identity (the letterbox alone). */
void hy_augment_off(hy_augment *a);

/* The parameters drawn for one sample. */
typedef struct hy_augment_draw {
  hy_affine geometry; /* input px → input px */
  int flipped;
  double angle_deg, scale, shift_x, shift_y;
  double gamma, contrast, brightness, noise_sigma;
} hy_augment_draw;

/* Draws one sample's parameters (a fixed number of generator steps). */
void hy_augment_draw_params(hy_augment_draw *d, const hy_augment *a, hy_rng *rng, int in_w,
                            int in_h);

/* Applies d's intensity change to n values in place; noise draws one
 * generator step per value when d->noise_sigma > 0, none otherwise. */
void hy_augment_intensity(float *px, /* [n] in [0, 1] */
                          size_t n, const hy_augment_draw *d, hy_rng *rng);

/* One training input. src is the image as it is kept (e.g. a downscaled
 * copy of the original); orig_to_src maps original pixels to src's pixels;
 * orig_w × orig_h is the original's size, whose letterbox defines the
 * input frame (so a sample from a downscaled copy lands exactly where the
 * original would). src's pixels are changed in place (intensity). Writes
 * the standardised input, the landmarks in input pixels, and weights[k] = 1
 * for a landmark inside the input ([-0.5, in - 0.5) on both axes), else 0.
 * d (may be NULL) receives the parameters drawn. */
hy_status hy_augment_sample(float *input,               /* [in_h][in_w] */
                            hy_point *input_points,     /* [K] */
                            float *weights,             /* [K] */
                            hy_augment_draw *d, hy_image *src,
                            const hy_affine *orig_to_src, int orig_w, int orig_h,
                            const hy_point *points,     /* [K] original px */
                            int K, int in_w, int in_h, const hy_augment *a, hy_rng *rng,
                            hy_error *err);
