#include "sample_loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "heatmap.h"
#include "predict.h"

hy_status hy_sample_loss_init(hy_sample_loss *s, const hy_net *net, hy_error *err) {
  memset(s, 0, sizeof *s);
  int K = net->cfg.landmarks;
  int ok = (s->head_points = calloc((size_t)2 * K, sizeof *s->head_points)) != NULL;
  for (int i = 0; ok && i < 3; i++)
    ok = (s->targets[i] = malloc((size_t)K * net->out_h[i] * net->out_w[i] * sizeof(float))) != NULL;
  if (ok) return HY_OK;
  hy_sample_loss_free(s);
  return hy_fail(err, HY_E_NOMEM, "no memory for the training targets");
}

void hy_sample_loss_free(hy_sample_loss *s) {
  for (int i = 0; i < 3; i++) free(s->targets[i]);
  free(s->head_points);
  memset(s, 0, sizeof *s);
}

double hy_sample_loss_backward(hy_sample_loss *s, hy_net *net, const hy_point *in_points,
                               const float *weights, const hy_run *run) {
  const hy_net_config *c = &net->cfg;
  int K = c->landmarks;
  for (int i = 0; i < 3; i++) {
    int stride = c->in_w / net->out_w[i];
    for (int k = 0; k < K; k++) {
      s->head_points[2 * k] = (float)hy_head_from_input(in_points[k].x, stride);
      s->head_points[2 * k + 1] = (float)hy_head_from_input(in_points[k].y, stride);
    }
    hy_heatmap_render(s->targets[i], NULL, s->head_points, c->sigmas[i], K, net->out_h[i],
                      net->out_w[i]);
  }
  hy_net_forward(net, run);
  /* backward adds to the activation gradients too, and those are this
   * sample's alone; the parameter gradients add up over the samples */
  hy_arena_zero(&net->plan.dacts);
  double loss = hy_net_loss(net, (const float *const *)s->targets, weights, 1, run);
  if (isfinite(loss)) hy_net_backward(net, run);
  return loss;
}
