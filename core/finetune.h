/* Fine-tuning HYATT-Net from the user's corrections (DESIGN §3.5,
 * NETWORK.md §10).
 *
 * A sample is an image file and its K landmarks, each confirmed or not;
 * unconfirmed ones have weight 0 in the loss (as landmarks outside the
 * input have in training), so they neither pull nor push.
 *
 * A round starts from the network as given (the current model) and runs a
 * fixed number of steps, one sample a step: with replay samples (earlier
 * corrections), a step takes one of them with probability replay_fraction
 * (uniformly), else the next of the new samples in a shuffled order
 * (reshuffled each pass). Each sample is augmented (augment.h), its targets
 * rendered and its loss and gradients computed as in training
 * (sample_loss.h), but with BatchNorm in inference form: the running
 * statistics are used and never updated (so a few images cannot shift
 * them); the BN affine stays trainable. The gradient gets the L2 pull
 * towards the weights the round started from, λ·(p − p_base) (the gradient
 * of (λ/2)·‖p − p_base‖², hy_grad_pull_to_base), then global-norm clipping
 * and AdamW without weight decay, with the learning rate of hy_train_lr
 * (linear warm-up, cosine to 0 at the last step).
 *
 * Determinism: the order, the replay draws and every augmentation come from
 * one generator seeded with `seed`; the ops do not depend on the thread
 * count; so the same inputs and seed give the same weights.
 *
 * Bounds: images are read from disk when a step needs them and kept
 * downscaled (kept_image.h) in a direct-mapped cache of cache_images slots,
 * at most cache_images·(2·in_w + 1)·(2·in_h + 1)·2 bytes (small: 16 images,
 * 27 MB) however many samples there are; the other memory is the network,
 * a copy of its parameters and Adam's two moments. Time: steps·(one
 * training step + at most one image decode).
 *
 * The stop flag is read before each step; a stopped round returns
 * HY_E_CANCELLED and leaves the network part-tuned (the caller discards
 * it). */
#pragma once

#include <signal.h>
#include <stdint.h>

#include "augment.h"
#include "error.h"
#include "landmarks.h"
#include "net.h"
#include "predict.h"

typedef struct hy_ft_sample {
  const char *image;        /* borrowed: the image file */
  const hy_point *points;   /* borrowed [K] original px */
  const uint8_t *confirmed; /* borrowed [K]: 1 in the loss, 0 masked out */
  double spacing_mm;        /* of the image (> 0), for the MRE */
} hy_ft_sample;

typedef struct hy_ft_progress {
  int64_t step, steps;     /* steps done, steps in all */
  double loss;             /* of this step (the heatmap loss, without the pull) */
  double seconds_per_step; /* moving average */
  double eta_seconds;      /* for the remaining steps at that rate */
} hy_ft_progress;

typedef void (*hy_ft_progress_fn)(const hy_ft_progress *p, void *user);

typedef struct hy_finetune_options {
  int64_t steps;
  double lr;
  int64_t warmup;
  double pull;             /* λ of the L2 pull to the starting weights */
  double replay_fraction;  /* of the steps, when there are replay samples */
  double clip_norm;
  uint64_t seed;
  hy_augment augment;
  double cache_factor;     /* kept images: this times the letterbox size */
  int cache_images;        /* decoded images kept at most */
  int threads;
  volatile sig_atomic_t *stop; /* may be NULL; read before each step */
  hy_ft_progress_fn progress;  /* may be NULL; after each step */
  void *user;
} hy_finetune_options;

/* NETWORK.md §10's round but 100 steps instead of 200, so that a round
 * stays within a minute on one thread of this machine (`small`: 0.45 s a
 * step): lr 1e-4, warm-up 10, pull 1e-2, replay fraction 0.3, clip 5,
 * seed 1, hy_augment_defaults, cache factor 2, 16 cached images, 1 thread. */
void hy_finetune_options_defaults(hy_finetune_options *o);

/* Tunes net in place: a training network (HY_TRAIN, one image a step, BN
 * not folded) planned for at least o->threads threads. fresh: the new
 * samples (at least one); replay (may be empty): earlier ones. HY_OK when
 * all steps ran; HY_E_CANCELLED when stopped; HY_E_NUMERIC when a loss or
 * the weights are not finite; image errors name the file. */
hy_status hy_finetune(hy_net *net, const hy_ft_sample *fresh, int n_fresh,
                      const hy_ft_sample *replay, int n_replay,
                      const hy_finetune_options *o, hy_error *err);

/* The mean radial error (mm) of p's predictions on samples' confirmed
 * landmarks (each image decoded when used); *count receives how many
 * landmarks it averages (0: *mre_mm is NaN). */
hy_status hy_finetune_mre(hy_predictor *p, const hy_ft_sample *samples, int n,
                          double *mre_mm, int *count, hy_error *err);
