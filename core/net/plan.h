/* Memory planning for a network (DESIGN §3.1): every module declares its
 * parameters, buffers, activations and scratch through a planner; the walk
 * runs twice, first measuring (pointers are NULL), then, after one
 * allocation per category, handing out the real pointers in the same order.
 *
 * Categories: params (trainable, packed: one flat array for the optimiser),
 * grads (same layout as params; training only), buffers (BatchNorm running
 * statistics: saved, not trained), acts (forward values), dacts (their
 * gradients; training only) and one shared scratch buffer sized to the
 * largest op's need.
 *
 * Liveness: training keeps every activation for the backward pass. In
 * inference a module's inner activations die when the module ends, so each
 * module (hy_plan_module) reuses one transient arena from its start; only
 * values marked kept (hy_plan_keep: stage outputs the neck reads, P, the
 * heads, folded weights) live in the acts arena. */
#pragma once

#include <stddef.h>

#include "arena.h"
#include "error.h"

typedef enum hy_mode { HY_INFER = 0, HY_TRAIN = 1 } hy_mode;

#define HY_NAME_MAX 96

typedef struct hy_param {
  char name[HY_NAME_MAX]; /* the PyTorch state_dict name */
  int ndim;
  int dims[4];
  size_t n;
  float *w; /* borrowed: params or buffers arena */
  float *g; /* borrowed: grads arena; NULL for buffers and in inference */
  int is_buffer;
} hy_param;

typedef struct hy_plan {
  hy_mode mode;
  int threads;      /* of the pool the network will run on (scratch sizes) */
  int measuring;
  hy_arena params, grads, buffers, acts, dacts;
  hy_arena transient; /* inference: inner activations of the current module */
  int keep;           /* > 0: hy_plan_act allocates kept values */
  size_t scratch_floats;
  float *scratch;   /* borrowed: the scratch arena's one buffer */
  hy_arena scratch_arena;
  hy_param *table;  /* owned */
  int n_params, cap_params;
  char prefix[HY_NAME_MAX];
  int depth;
  size_t prefix_len[16]; /* prefix length before each push */
} hy_plan;

void hy_plan_init(hy_plan *p, hy_mode mode, int threads);
/* After the measuring walk: starts the second walk, which names every
 * tensor in p->table. With allocate, every category is allocated first, so
 * the walk hands out real pointers; without, they stay NULL (the plan's
 * shape only: what a model file must hold, and what it would cost). */
hy_status hy_plan_commit(hy_plan *p, int allocate, hy_error *err);
/* After the real walk: 0 if it asked for exactly what was measured. */
hy_status hy_plan_finish(hy_plan *p, hy_error *err);
void hy_plan_free(hy_plan *p);

/* Scoped names: push "stages.0" then "block" gives "stages.0.block.<name>". */
void hy_plan_push(hy_plan *p, const char *fmt, ...);
void hy_plan_pop(hy_plan *p);

/* A trainable tensor; *grad receives its gradient (NULL in inference). */
float *hy_plan_param(hy_plan *p, const char *name, float **grad, int ndim, ...);
/* A saved, untrained tensor (BatchNorm running mean/var). */
float *hy_plan_buffer(hy_plan *p, const char *name, int ndim, ...);
/* A module starts: in inference its inner activations reuse the transient
 * arena from the beginning. */
void hy_plan_module(hy_plan *p);
/* Between hy_plan_keep(p, 1) and hy_plan_keep(p, 0), activations outlive
 * their module. */
void hy_plan_keep(hy_plan *p, int on);

/* n floats of activation; with dact, also its gradient (training only). */
float *hy_plan_act(hy_plan *p, size_t n, float **dact);
/* An activation gradient with no activation (training only, else NULL). */
float *hy_plan_dact(hy_plan *p, size_t n);
/* Reserves n floats of the shared scratch buffer. */
void hy_plan_scratch(hy_plan *p, size_t n);

const hy_param *hy_plan_find(const hy_plan *p, const char *name);
