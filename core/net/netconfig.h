/* HYATT-Net's configuration (NETWORK.md §3). A model file carries its
 * configuration, so the loader builds whichever network it finds. */
#pragma once

#include "error.h"
#include "tensorfile.h"

#define HY_STAGES 5

typedef struct hy_net_config {
  char name[32];
  int in_h, in_w;               /* network input, multiples of 32 */
  int widths[HY_STAGES];        /* C1..C5 */
  int bra_heads[HY_STAGES - 1]; /* BRA heads, stages 1-4 */
  int regions[HY_STAGES - 1];   /* S, stages 1-4 */
  int topk[HY_STAGES - 1];
  int mlp_ratio[HY_STAGES];
  int s5_heads;   /* stage-5 global attention heads */
  int neck;       /* D */
  int img_width;  /* E: H3's image branch */
  int mid_width;  /* M: H3's middle width */
  int landmarks;  /* K */
  int pool;       /* pooled key/value tokens per region side (4) */
  float sigmas[3];       /* Gaussian σ of the targets of heads 1..3, in their pixels */
  float loss_weights[3]; /* 1000, 3000, 3000 */
} hy_net_config;

/* "paper", "small" or "tiny" (the test configuration). */
hy_status hy_net_config_named(hy_net_config *cfg, const char *name, hy_error *err);

/* Every constraint the network relies on, with limits that keep a damaged or
 * hostile model file from asking for absurd memory. */
hy_status hy_net_config_check(const hy_net_config *cfg, hy_error *err);

/* Reads the config keys of a model file's header (and checks it). */
hy_status hy_net_config_from_meta(hy_net_config *cfg, const hy_tensorfile *tf,
                                  hy_error *err);
void hy_net_config_to_meta(const hy_net_config *cfg, hy_tensorfile_writer *w);

/* Spatial size of stage s (0-based) output: in / 2^(s+1). */
static inline int hy_stage_h(const hy_net_config *c, int s) { return c->in_h >> (s + 1); }
static inline int hy_stage_w(const hy_net_config *c, int s) { return c->in_w >> (s + 1); }
