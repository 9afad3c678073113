#include "estimate.h"

#include <stdlib.h>
#include <string.h>

#include "net.h"

double hy_net_memory_floor(const hy_net_config *c, int N) {
  double H = c->in_h, W = c->in_w, n = N;
  double floats = n * H * W + n * c->landmarks * H * W; /* input, O3 */
  int cin = 1;
  for (int s = 0; s < HY_STAGES; s++) {
    double hw = (double)hy_stage_h(c, s) * hy_stage_w(c, s), C = c->widths[s];
    if (s > 0) floats += n * C * hw;             /* the output the neck reads */
    floats += C * cin * 16.0;                    /* patch embedding 4×4 */
    floats += 2.0 * C * C * c->mlp_ratio[s];     /* the block's MLP */
    cin = c->widths[s];
  }
  return floats * sizeof(float);
}

/* The walk of net.c's hy_net_create (same calls, same order): the table
 * test in tests/test-model.c fails if the two drift apart. */
static void walk(hy_net *net, hy_plan *p) {
  const hy_net_config *c = &net->cfg;
  int N = net->N;
  hy_plan_keep(p, 1);
  net->input = hy_plan_act(p, (size_t)N * c->in_h * c->in_w, NULL);
  hy_plan_keep(p, 0);
  int cin = 1, H = c->in_h, W = c->in_w, h[4], w[4];
  for (int s = 0; s < HY_STAGES; s++) {
    hy_stage_plan(&net->stages[s], p, c, s, N, cin, H, W);
    cin = c->widths[s];
    H = net->stages[s].embed.Ho;
    W = net->stages[s].embed.Wo;
    if (s > 0) h[s - 1] = H, w[s - 1] = W;
  }
  hy_neck_plan(&net->neck, p, c, N, h, w);
  hy_heads_plan(&net->heads, p, c, N);
}

hy_status hy_net_plan_shape(hy_plan *p, const hy_net_config *cfg, int N, hy_mode mode,
                            int threads, hy_error *err) {
  hy_plan_init(p, mode, threads < 1 ? 1 : threads);
  hy_status st = hy_net_config_check(cfg, err);
  if (st != HY_OK) return st;
  if (N < 1 || N > 64) return hy_fail(err, HY_E_ARG, "batch size %d is not in 1..64", N);
  hy_net *net = calloc(1, sizeof *net);
  if (!net) return hy_fail(err, HY_E_NOMEM, "cannot allocate a network");
  net->cfg = *cfg;
  net->N = N;
  walk(net, p);
  /* the second walk names the tensors; the arenas stay uncommitted (NULL) */
  p->table = calloc(p->n_params ? (size_t)p->n_params : 1, sizeof *p->table);
  if (!p->table) {
    free(net);
    return hy_fail(err, HY_E_NOMEM, "cannot allocate the parameter table");
  }
  p->cap_params = p->n_params;
  p->n_params = 0;
  hy_arena *all[] = {&p->params, &p->grads, &p->buffers, &p->acts, &p->dacts, &p->transient};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) hy_arena_rewind(all[i]);
  p->measuring = 0;
  p->prefix[0] = 0;
  p->depth = 0;
  walk(net, p);
  free(net);
  return hy_plan_finish(p, err);
}

size_t hy_plan_bytes(const hy_plan *p) {
  const hy_arena *all[] = {&p->params, &p->grads, &p->buffers, &p->acts, &p->dacts, &p->transient};
  size_t total = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    total += all[i]->peak > all[i]->used ? all[i]->peak : all[i]->used;
  return total + p->scratch_floats * sizeof(float);
}
