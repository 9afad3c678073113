#include "block.h"

#include <string.h>

#include "activation.h"
#include "elementwise.h"
#include "linear.h"
#include "mlp.h"
#include "transpose.h"

#define LN_EPS 1e-6f
/* hidden floats per band of the MLP (256 KB: stays in L2) */
#define MLP_BAND_FLOATS 65536

void hy_block_plan(hy_block *b, hy_plan *p, const char *name, int N, int C, int H, int W,
                   int mlp_ratio, int global, int heads, int S, int topk, int pool) {
  memset(b, 0, sizeof *b);
  b->N = N, b->C = C, b->H = H, b->W = W, b->global = global;
  int T = N * H * W;
  size_t n = (size_t)T * C;
  hy_plan_push(p, "%s", name);
  hy_conv_layer_plan(&b->pos, p, "pos", N, C, H, W, C, 3, 1, 1, 1, C, 1);
  b->dx1 = hy_plan_dact(p, n);
  b->t0 = hy_plan_act(p, n, &b->dt0);
  hy_ln_layer_plan(&b->norm1, p, "norm1", T, C, LN_EPS);
  hy_plan_push(p, "attn");
  b->qkv_w = hy_plan_param(p, "qkv.weight", &b->gqkv_w, 2, 3 * C, C);
  if (!global) b->qkv_b = hy_plan_param(p, "qkv.bias", &b->gqkv_b, 1, 3 * C);
  b->lepe_w = hy_plan_param(p, "lepe.weight", &b->glepe_w, 4, C, 1, 5, 5);
  b->lepe_b = hy_plan_param(p, "lepe.bias", &b->glepe_b, 1, C);
  b->proj_w = hy_plan_param(p, "proj.weight", &b->gproj_w, 2, C, C);
  b->proj_b = hy_plan_param(p, "proj.bias", &b->gproj_b, 1, C);
  hy_plan_pop(p);
  if (global) {
    b->mhsa = (hy_mhsa_dims){N, H, W, C, heads};
    b->cache = hy_plan_act(p, hy_mhsa_cache_size(b->mhsa), NULL);
    hy_plan_scratch(p, hy_mhsa_scratch_size(b->mhsa, p->threads));
  } else {
    b->bra = (hy_bra_dims){N, H, W, C, S, topk, heads, pool, p->mode == HY_INFER};
    b->cache = hy_plan_act(p, hy_bra_cache_size(b->bra), NULL);
    hy_plan_scratch(p, hy_bra_scratch_size(b->bra, p->threads));
  }
  if (global)
    b->att = hy_plan_act(p, n, &b->datt);
  else
    b->datt = hy_plan_dact(p, n);
  b->t1 = hy_plan_act(p, n, &b->dt1);
  hy_ln_layer_plan(&b->norm2, p, "norm2", T, C, LN_EPS);
  hy_linear_layer_plan(&b->fc1, p, "mlp.0", T, C, mlp_ratio * C, 1);
  b->g = hy_plan_act(p, (size_t)T * mlp_ratio * C, &b->dg);
  hy_linear_layer_plan(&b->fc2, p, "mlp.2", T, mlp_ratio * C, C, 1);
  b->fused_mlp = p->mode == HY_INFER && hy_mlp_fused_available();
  if (b->fused_mlp) hy_plan_scratch(p, hy_mlp_scratch_size(C, mlp_ratio * C, p->threads));
  b->t2 = hy_plan_act(p, n, &b->dt2);
  hy_plan_pop(p);
  b->y = hy_plan_act(p, n, &b->dy);
}

/* fc2(GELU(fc1(x))) by bands of tokens: each band's hidden activations are
 * still in cache for the GELU (which adds fc1's bias) and for fc2. */
static void mlp_forward(hy_block *b, const hy_run *r) {
  hy_linear_layer *f1 = &b->fc1, *f2 = &b->fc2;
  int T = f1->T, C = f1->cin, R = f1->cout;
  int band = MLP_BAND_FLOATS / R > 0 ? MLP_BAND_FLOATS / R : 1;
  f1->x = b->norm2.y, f2->x = b->g;
  for (int t0 = 0; t0 < T; t0 += band) {
    int n = T - t0 < band ? T - t0 : band;
    float *h = f1->y + (size_t)t0 * R, *g = b->g + (size_t)t0 * R;
    hy_linear_forward(h, f1->x + (size_t)t0 * C, f1->w, NULL, n, C, R);
    hy_gelu_bias_forward(g, h, f1->b, n, R, r->pool);
    hy_linear_forward(f2->y + (size_t)t0 * C, g, f2->w, f2->b, n, R, C);
  }
}

void hy_block_forward(hy_block *b, const float *x, const hy_run *r) {
  int N = b->N, C = b->C, HW = b->H * b->W;
  int n = N * HW * C;
  b->x = x;
  hy_conv_layer_forward(&b->pos, x, r);
  hy_to_tokens_forward(b->t0, x, b->pos.y, N, C, HW, r->pool);
  hy_ln_layer_forward(&b->norm1, b->t0, r);
  if (b->global) {
    hy_mhsa_forward(b->att, b->cache, b->norm1.y, b->qkv_w, b->lepe_w, b->lepe_b, b->proj_w,
                    b->proj_b, b->mhsa, r->scratch, r->pool);
    hy_add_forward(b->t1, b->t0, b->att, HY_BCAST_NONE, 1, 1, 1, n, r->pool);
  } else { /* the residual is added as BRA writes its output */
    hy_bra_forward(b->t1, b->cache, b->norm1.y, b->t0, b->qkv_w, b->qkv_b, b->lepe_w, b->lepe_b,
                   b->proj_w, b->proj_b, b->bra, r->scratch, r->pool);
  }
  if (b->fused_mlp) {
    hy_mlp_weights w = {b->norm2.w, b->norm2.b, b->norm2.eps, b->fc1.w, b->fc1.b, b->fc2.w, b->fc2.b};
    hy_mlp_residual_forward(b->t2, b->t1, &w, b->fc1.T, C, b->fc1.cout, r->scratch, r->pool);
  } else {
    hy_ln_layer_forward(&b->norm2, b->t1, r);
    mlp_forward(b, r);
    hy_add_forward(b->t2, b->t1, b->fc2.y, HY_BCAST_NONE, 1, 1, 1, n, r->pool);
  }
  hy_from_tokens_forward(b->y, b->t2, N, C, HW, r->pool);
}

void hy_block_backward(hy_block *b, float *dx, const hy_run *r) {
  int N = b->N, C = b->C, HW = b->H * b->W;
  int n = N * HW * C;
  hy_from_tokens_backward(b->dt2, b->dy, N, C, HW, r->pool);
  hy_add_backward(b->dt1, b->fc2.dy, b->dt2, HY_BCAST_NONE, 1, 1, 1, n, r->pool);
  hy_linear_layer_backward(&b->fc2, b->dg, r);
  hy_gelu_backward(b->fc1.dy, b->dg, b->fc1.y, b->fc1.T * b->fc1.cout, r->pool);
  hy_linear_layer_backward(&b->fc1, b->norm2.dy, r);
  hy_ln_layer_backward(&b->norm2, b->dt1, r);
  hy_add_backward(b->dt0, b->datt, b->dt1, HY_BCAST_NONE, 1, 1, 1, n, r->pool);
  if (b->global)
    hy_mhsa_backward(b->norm1.dy, b->gqkv_w, b->glepe_w, b->glepe_b, b->gproj_w, b->gproj_b,
                     b->datt, b->cache, b->norm1.y, b->qkv_w, b->lepe_w, b->proj_w, b->mhsa,
                     r->scratch, r->pool);
  else
    hy_bra_backward(b->norm1.dy, b->gqkv_w, b->gqkv_b, b->glepe_w, b->glepe_b, b->gproj_w,
                    b->gproj_b, b->datt, b->cache, b->norm1.y, b->qkv_w, b->lepe_w, b->proj_w,
                    b->bra, r->scratch, r->pool);
  hy_ln_layer_backward(&b->norm1, b->dt0, r);
  hy_to_tokens_backward(b->dx1, b->dt0, N, C, HW, r->pool);
  hy_add_backward(dx, b->pos.dy, b->dx1, HY_BCAST_NONE, N, C, b->H, b->W, r->pool);
  hy_conv_layer_backward(&b->pos, dx, r);
}

const int32_t *hy_block_routing(const hy_block *b) {
  return b->global ? NULL : hy_bra_cache_idx(b->cache, b->bra);
}
