/* Training HYATT-Net from a data set (DESIGN §3.4, NETWORK.md §4, §6, §10).
 *
 * One step: the next sample of a shuffled order (reshuffled each epoch;
 * size·accumulate of them when data parallel, below), taken from an image
 * cache and augmented (augment.h) with a generator seeded for that sample
 * from the shared one; targets per head rendered with hy_heatmap_render
 * at the head's σ from the landmarks mapped input → head
 * (hy_head_from_input), weight 0 for a landmark outside the input; forward with batch statistics (batch 1, as published); the
 * deep-supervision loss; backward; a check that loss and gradients are
 * finite; global-norm clipping; AdamW with a linear warm-up and a cosine
 * decay to 0 at the last step.
 *
 * Image cache (kept_image.h): every training image is decoded once and
 * kept downscaled to cache_factor (default 2) times its letterbox size in
 * the network input, never upscaled, with the exact affine from the original; 8-bit sources
 * are kept as 8 bits a pixel, deeper ones as 16. Its size is at most
 * n · (cache_factor·in_w) · (cache_factor·in_h) · bytes: for `small`
 * (416×512) and ISBI 2015's 135 training images (1935×2400, 8-bit) 826×1024
 * px each, 114 MB. Validation images are decoded when used.
 *
 * Validation: the last val_fraction (default 10 %) of the training split,
 * never the test set, every val_every steps and after the last step:
 * BatchNorm with running statistics, predict.h's coarse-to-fine decoding,
 * MRE in mm with the data set's spacing. The model with the best validation
 * MRE so far is written to OUT/best.hyatt (without validation, the last
 * model is).
 *
 * Checkpoints: OUT/last.hyatt, a hyatt-checkpoint (model.h) with the Adam
 * moments (optim/m, optim/v), the sample order (train/order), the generator
 * state (rng/state) and, in the header, the step, the position in the
 * order, the best validation so far and every setting that affects the
 * result. Written atomically every checkpoint_seconds, after the last step
 * and when stopped; never after a numeric failure, so the last good one
 * stays. Resuming restores all of it, so with the same thread count the
 * weights are the same bits as an uninterrupted run.
 *
 * Threads: one pool of `threads` for the ops and OpenBLAS set to the same
 * count.
 *
 * Data parallel (docs/distributed.md): `size` processes with the same
 * options train one model. Each step takes size·accumulate consecutive
 * samples of the one shuffled order, process `rank` those at rank,
 * rank + size, ...; every process advances the order and draws each
 * sample's augmentation seed for all of them, so order and augmentations
 * do not depend on the process count and a checkpoint resumes with any.
 * The summed gradients (allreduce) are divided by size·accumulate before
 * clipping and the same AdamW step everywhere; the loss reported is the
 * mean over the step's samples. BatchNorm batch statistics stay per
 * sample and running statistics per process, as published. Rank 0 alone
 * validates and writes OUT/; the stop flag takes effect when any process
 * has it set. */
#pragma once

#include <signal.h>
#include <stdint.h>

#include "augment.h"
#include "dataset.h"
#include "error.h"
#include "net.h"

typedef enum hy_train_event {
  HY_TRAIN_CACHING,    /* cached of to_cache images decoded */
  HY_TRAIN_STEP,       /* a step finished */
  HY_TRAIN_VALIDATED,  /* a validation finished */
  HY_TRAIN_CHECKPOINT, /* path was written */
} hy_train_event;

typedef struct hy_train_progress {
  hy_train_event event;
  int64_t step, steps;     /* steps done, steps in all */
  double loss;             /* of this step */
  double lr;               /* used by this step */
  double grad_norm;        /* global L2 norm before clipping */
  double seconds_per_step; /* moving average of the steps' wall time */
  double eta_seconds;      /* for the remaining steps at that rate */
  int cached, to_cache;
  double val_mre_mm, val_sd_mm, val_sdr2; /* validation: MRE, SD, SDR 2 mm (fraction) */
  int val_images;
  int val_best;            /* 1: this validation is the best so far */
  const char *path;        /* borrowed: the file written */
} hy_train_progress;

typedef void (*hy_train_progress_fn)(const hy_train_progress *p, void *user);

typedef struct hy_train_options {
  /* data */
  const char *data_dir;
  const hy_dataset_spec *spec; /* NULL: detect */
  const char *split;           /* NULL: "train", or all samples without one */
  const char *reference;       /* "mean" or an annotator's name */
  double val_fraction;         /* held out from the end of the split */
  /* network (ignored when resuming: the checkpoint has them) */
  const char *config;          /* "small", "paper" or "tiny" */
  int in_h, in_w;              /* 0: the configuration's */
  /* optimisation (when resuming, the checkpoint's, except steps if > 0) */
  int64_t steps;
  double lr, weight_decay, clip_norm;
  int64_t warmup;
  uint64_t seed;
  hy_augment augment;
  double cache_factor;
  /* running */
  int threads;
  int64_t val_every;           /* 0: validate after the last step only */
  double checkpoint_seconds;
  const char *out_dir;         /* created if missing (one level) */
  const char *resume;          /* a checkpoint, or NULL */
  const char *version;         /* recorded in the models, may be NULL */
  volatile sig_atomic_t *stop; /* may be NULL; checked between steps */
  /* data parallel: this process's rank of size (0 of 1: alone) */
  int rank, size;
  int accumulate;              /* samples per process and step */
  /* Sums buf[0..n) over the processes in place, the same result on each;
   * 0 on success. Needed when size > 1. */
  int (*allreduce)(float *buf, size_t n, void *user);
  void *allreduce_user;
  hy_train_progress_fn progress;
  void *user;
} hy_train_options;

/* config "small", reference "mean", val_fraction 0.1, lr 1e-3, weight decay
 * 0.01, clip 5, warm-up 200, seed 1, hy_augment_defaults, cache_factor 2,
 * 1 thread, validation every 500 steps, checkpoints every 300 s, one
 * process, one sample a step. */
void hy_train_options_defaults(hy_train_options *o);

/* The learning rate of update t (0-based): lr·(t+1)/warmup during the
 * warm-up, then lr·(1 + cos(π·(t − warmup)/(steps − warmup)))/2. */
double hy_train_lr(int64_t t, int64_t steps, int64_t warmup, double lr);

typedef struct hy_trainer hy_trainer;

/* Opens the data set, builds or resumes the network, fills the image
 * cache. Options are copied (strings too). */
hy_status hy_trainer_new(hy_trainer **out, const hy_train_options *o, hy_error *err);
void hy_trainer_free(hy_trainer *t);

/* Trains up to the last step. HY_OK when done; HY_E_CANCELLED (after a
 * checkpoint) when *stop was set; HY_E_NUMERIC naming the step when the
 * loss or a gradient is not finite (no checkpoint written then). */
hy_status hy_trainer_run(hy_trainer *t, hy_error *err);

/* The network being trained (e.g. for tests), and the steps done. */
hy_net *hy_trainer_net(hy_trainer *t);
int64_t hy_trainer_step(const hy_trainer *t);
/* The data set's training samples (validation ones excluded), validation
 * samples, and the best validation MRE so far (+Inf: none yet). */
int hy_trainer_train_count(const hy_trainer *t);
int hy_trainer_val_count(const hy_trainer *t);
double hy_trainer_best_val(const hy_trainer *t);

/* new + run + free. */
hy_status hy_train(const hy_train_options *o, hy_error *err);
