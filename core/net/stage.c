#include "stage.h"

void hy_stage_plan(hy_stage *st, hy_plan *p, const hy_net_config *cfg, int s, int N,
                   int cin, int H, int W) {
  int C = cfg->widths[s];
  hy_plan_module(p);
  hy_plan_push(p, "stages.%d", s);
  hy_conv_layer_plan(&st->embed, p, "embed", N, cin, H, W, C, 4, 2, 1, 1, 1, 1);
  int h = st->embed.Ho, w = st->embed.Wo;
  if (s < HY_STAGES - 1)
    hy_block_plan(&st->block, p, "block", N, C, h, w, cfg->mlp_ratio[s], 0, cfg->bra_heads[s],
                  cfg->regions[s], cfg->topk[s], cfg->pool);
  else
    hy_block_plan(&st->block, p, "block", N, C, h, w, cfg->mlp_ratio[s], 1, cfg->s5_heads, 1, 1, 1);
  hy_arm_plan(&st->arm, p, "arm", N, C, h, w);
  hy_plan_pop(p);
}

void hy_stage_forward(hy_stage *st, const float *x, const hy_run *r) {
  hy_conv_layer_forward(&st->embed, x, r);
  hy_block_forward(&st->block, st->embed.y, r);
  hy_arm_forward(&st->arm, st->block.y, r);
}

void hy_stage_backward(hy_stage *st, float *dx, const hy_run *r) {
  hy_arm_backward(&st->arm, st->block.dy, r);
  hy_block_backward(&st->block, st->embed.dy, r);
  hy_conv_layer_backward(&st->embed, dx, r);
}
