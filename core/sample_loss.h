/* One training sample's part of a step, shared by training (train.c) and
 * fine-tuning (finetune.c): the heatmap targets of each head rendered with
 * hy_heatmap_render at the head's σ from the landmarks in input pixels
 * (mapped to the head by hy_head_from_input), forward, the deep-supervision
 * loss with per-landmark weights (0: outside the input, or not confirmed
 * when fine-tuning: out of the loss and its gradient), and backward, which
 * adds to the parameter gradients. */
#pragma once

#include "error.h"
#include "landmarks.h"
#include "net.h"

typedef struct hy_sample_loss {
  float *targets[3];  /* owned [K][h_i][w_i] */
  float *head_points; /* owned [K][2] */
} hy_sample_loss;

hy_status hy_sample_loss_init(hy_sample_loss *s, const hy_net *net, hy_error *err);
void hy_sample_loss_free(hy_sample_loss *s);

/* net->input must hold the sample's input. Returns the loss; backward runs
 * only when it is finite. bn says how BatchNorm runs (HY_BN_RUNNING: the
 * statistics frozen). */
double hy_sample_loss_backward(hy_sample_loss *s, hy_net *net,
                               const hy_point *in_points, /* [K] input px */
                               const float *weights,      /* [K] */
                               const hy_run *run);
