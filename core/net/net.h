/* HYATT-Net (NETWORK.md), assembled from the modules over one memory plan:
 * 5 stages → neck → heads O1 (H/4), O2 (H/2), O3 (H). */
#pragma once

#include "netconfig.h"
#include "heads.h"
#include "neck.h"
#include "plan.h"
#include "stage.h"

typedef struct hy_net {
  hy_net_config cfg;
  int N;               /* images per step */
  hy_plan plan;        /* owns all memory */
  float *input;        /* [N][1][H][W] the caller fills it */
  hy_stage stages[HY_STAGES];
  hy_neck neck;
  hy_heads heads;
  float *out[3];       /* borrowed views: O1, O2, O3 [N][K][h_i][w_i] */
  float *dout[3];      /* their gradients (training) */
  int out_h[3], out_w[3];
} hy_net;

/* Plans and allocates a network for N images; `threads` is the thread count
 * of the pool it will run on. Parameters start at zero (see hy_net_init_*). */
hy_status hy_net_create(hy_net **out, const hy_net_config *cfg, int N, hy_mode mode,
                        int threads, hy_error *err);
void hy_net_free(hy_net *net);

/* The planning walk of hy_net_create over every module, in order (for
 * estimate.c, which plans without allocating). */
void hy_net_walk(hy_net *net, hy_plan *p);

/* Parameters U(±1/√fan_in) from (seed, name) with hy_param_uniform: the same
 * bits as tests/reference/make_net_fixtures.py's init_params. Norm weights
 * 1 ± 0.1, norm biases ±0.1, running mean 0, var 1. */
void hy_net_init_seeded(hy_net *net, uint64_t seed);

/* n floats in [-1, 1), a function of (seed, name, index) only. */
void hy_param_uniform(float *out, size_t n, uint64_t seed, const char *name);

/* Inference plans: folds every BatchNorm into the conv before it, from the
 * current parameters; call after loading or changing them. Training plans:
 * nothing to do. The parameters themselves are untouched (what is saved). */
void hy_net_fold_bn(hy_net *net);

void hy_net_forward(hy_net *net, const hy_run *r);
/* Zeroes parameter and activation gradients (once per step). */
void hy_net_zero_grad(hy_net *net);
/* Backward from net->dout[] (filled by the loss); accumulates parameter gradients. */
void hy_net_backward(hy_net *net, const hy_run *r);

/* The deep-supervision loss (NETWORK.md §4) of the last forward against
 * targets[i] [N][K][h_i][w_i] with per-landmark weights [N][K]; with
 * backward != 0 also writes net->dout. */
double hy_net_loss(hy_net *net, const float *const targets[3], const float *weights,
                   int backward, const hy_run *r);

/* Trainable parameters (running statistics not counted). */
size_t hy_net_param_count(const hy_net *net);
