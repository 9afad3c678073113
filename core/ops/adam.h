/* Adam and AdamW over the flat parameter arena (params, grads, m and v are
 * one contiguous float array each, in the same layout), following the
 * formulas of torch.optim.Adam / AdamW in PyTorch 1.13 (single-tensor path,
 * amsgrad off, maximize off), step t counted from 1:
 *
 *   Adam:   g ← g + wd·p                    (L2 in the gradient, not stored)
 *   AdamW:  p ← p·(1 − lr·wd)               (decoupled decay, before the rest)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 *
 * ε is added to √v̂, not inside the root. Weight decay applies to every
 * element (torch with one parameter group) except the `no_decay` ranges
 * (biases, norm weights), where wd is 0 for both variants.
 * Plus the helpers of a training step: global-norm gradient clipping, a
 * non-finite gradient check and the L2 pull towards base weights used when
 * fine-tuning. All are elementwise or deterministic reductions: split over
 * the pool in fixed chunks, results do not depend on the thread count. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "pool.h"

/* Elements [begin, end) of the flat parameter array. */
typedef struct hy_adam_range {
  size_t begin, end;
} hy_adam_range;

/* Hyper-parameters in double, as torch keeps them (Python floats): the
 * derived float constants then round the same way. */
typedef struct hy_adam {
  double beta1, beta2, eps;
  double weight_decay;
  int decoupled; /* 1: AdamW, 0: Adam */
  const hy_adam_range *no_decay; /* borrowed, sorted, disjoint; may be NULL */
  int n_no_decay;
  int64_t step; /* updates done so far (torch's state['step']); saved in checkpoints */
} hy_adam;

/* torch's defaults: betas (0.9, 0.999), eps 1e-8, step 0, no exemptions. */
void hy_adam_init(hy_adam *opt, int decoupled, double weight_decay);

/* Sets opt's exemptions from weight decay after checking that the ranges
 * are sorted, disjoint, non-empty and within [0, n). `ranges` is borrowed
 * and must outlive opt's use. */
hy_status hy_adam_set_no_decay(hy_adam *opt, const hy_adam_range *ranges,
                               int n_ranges, size_t n, hy_error *err);

/* One update with learning rate lr (the schedule is the caller's):
 * increments opt->step, then updates params, m and v in place. m and v start
 * zeroed (the arena commits zeroed memory). grads are only read. */
void hy_adam_update(hy_adam *opt,
                    float *params,      /* [n] */
                    float *m,           /* [n] first moments */
                    float *v,           /* [n] second moments */
                    const float *grads, /* [n] */
                    double lr, size_t n, hy_pool *pool);

/* torch.nn.utils.clip_grad_norm_ (norm 2): returns the total L2 norm before
 * clipping (accumulated in double, in a fixed chunk order) and multiplies
 * grads by max_norm / (norm + 1e-6) when that factor is below 1. Unlike
 * torch, a non-finite norm leaves grads unchanged (torch would fill them
 * with NaN): check the returned value, or use hy_grad_check_finite first. */
float hy_clip_grad_norm(float *grads, /* [n] */
                        size_t n, float max_norm, hy_pool *pool);

/* HY_OK, or HY_E_NUMERIC naming `what`, the first non-finite element's
 * index and value. */
hy_status hy_grad_check_finite(const float *grads, /* [n] */
                               size_t n, const char *what, hy_pool *pool,
                               hy_error *err);

/* Fine-tuning's pull towards the base model: grads += λ·(params − base),
 * i.e. the gradient of (λ/2)·‖p − p_base‖². */
void hy_grad_pull_to_base(float *grads,        /* [n] */
                          const float *params, /* [n] */
                          const float *base,   /* [n] */
                          float lambda, size_t n, hy_pool *pool);
