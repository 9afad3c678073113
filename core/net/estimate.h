/* What a network would need, without allocating it: the model loader checks
 * a file's configuration and tensors against this before hy_net_create, so
 * a damaged or hostile file cannot make it allocate absurd memory. */
#pragma once

#include <stddef.h>

#include "netconfig.h"
#include "plan.h"

/* A lower bound, from the configuration alone, of the bytes a network for N
 * images needs (its input, the stage outputs the neck reads, full-size
 * heatmaps and the main weights). Computed in double: safe for any config that passed
 * hy_net_config_check, so it can refuse one before any planning walk. */
double hy_net_memory_floor(const hy_net_config *cfg, int N);

/* Runs hy_net_create's planning walks over a plan whose arenas are never
 * committed: afterwards p->table holds every parameter and buffer (names,
 * dims, n; w and g are NULL) and hy_plan_bytes(p) is what hy_net_create
 * would allocate. Free with hy_plan_free. */
hy_status hy_net_plan_shape(hy_plan *p, const hy_net_config *cfg, int N, hy_mode mode,
                            int threads, hy_error *err);

/* Bytes the committed plan would hold: every arena and the scratch. */
size_t hy_plan_bytes(const hy_plan *p);
