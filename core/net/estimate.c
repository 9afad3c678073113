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
  hy_net_walk(net, p);
  /* the second walk names the tensors; the arenas stay unallocated */
  st = hy_plan_commit(p, 0, err);
  if (st == HY_OK) {
    hy_net_walk(net, p);
    st = hy_plan_finish(p, err);
  }
  free(net);
  return st;
}

size_t hy_plan_bytes(const hy_plan *p) {
  const hy_arena *all[] = {&p->params, &p->grads, &p->buffers, &p->acts, &p->dacts, &p->transient};
  size_t total = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    total += all[i]->peak > all[i]->used ? all[i]->peak : all[i]->used;
  return total + p->scratch_floats * sizeof(float);
}
