#include "bench.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activation.h"
#include "adam.h"
#include "batchnorm.h"
#include "blas.h"
#include "bra.h"
#include "concat.h"
#include "conv.h"
#include "conv_transpose.h"
#include "elementwise.h"
#include "layernorm.h"
#include "linear.h"
#include "mhsa.h"
#include "mlp.h"
#include "mse.h"
#include "net/net.h"
#include "pooling.h"
#include "resize.h"
#include "transpose.h"

static double now_ms(void) {
  static int cpu = -1;
  if (cpu < 0) {
    const char *c = getenv("HY_BENCH_CLOCK");
    cpu = c && strcmp(c, "cpu") == 0;
  }
  struct timespec t;
  clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double hy_bench_time(void (*fn)(void *ctx), void *ctx, int reps) {
  if (reps < 1) reps = 1;
  if (reps > 101) reps = 101;
  double t[101];
  fn(ctx);
  for (int i = 0; i < reps; i++) {
    double t0 = now_ms();
    fn(ctx);
    t[i] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], by_value);
  return t[reps / 2];
}

typedef struct {
  float *a, *b, *c;
  int n;
} gemm_ctx;

static void run_gemm(void *p) {
  gemm_ctx *g = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, 1.0f, g->a, g->n,
              g->b, g->n, 0.0f, g->c, g->n);
}

double hy_bench_sgemm_peak(int reps) {
  int n = 2048;
  size_t sz = (size_t)n * n;
  gemm_ctx g = {malloc(sz * 4), malloc(sz * 4), malloc(sz * 4), n};
  double gflops = 0;
  if (g.a && g.b && g.c) {
    for (size_t i = 0; i < sz; i++) g.a[i] = g.b[i] = (float)(i % 17) * 0.01f;
    double ms = hy_bench_time(run_gemm, &g, reps);
    gflops = 2.0 * n * (double)n * n / (ms * 1e6);
  }
  free(g.a), free(g.b), free(g.c);
  return gflops;
}

typedef struct {
  char *src, *dst;
  size_t n;
} copy_ctx;

static void run_copy(void *p) {
  copy_ctx *c = p;
  memcpy(c->dst, c->src, c->n);
}

double hy_bench_memcpy(int reps) {
  copy_ctx c = {malloc(64u << 20), malloc(64u << 20), 64u << 20};
  double gbs = 0;
  if (c.src && c.dst) {
    memset(c.src, 1, c.n);
    memset(c.dst, 0, c.n);
    gbs = 2.0 * c.n / (hy_bench_time(run_copy, &c, reps) * 1e6);
  }
  free(c.src), free(c.dst);
  return gbs;
}

/* ---- one op at one shape ---- */

typedef enum {
  OP_CONV, OP_CONVT, OP_LINEAR, OP_LAYERNORM, OP_GELU, OP_RELU, OP_SIGMOID, OP_BN,
  OP_BRA, OP_MHSA, OP_GAP, OP_GMP, OP_MEANMAX, OP_MUL_CH, OP_ADD, OP_TOKENS, OP_NEAREST,
  OP_BILINEAR, OP_CONCAT, OP_MSE, OP_ADAM, OP_MLP,
} op_kind;

typedef struct {
  op_kind kind;
  int N, C, H, W, Cout, k, stride, pad, dil, groups, Ho, Wo; /* conv-like */
  hy_bra_dims bra;
  hy_mhsa_dims mhsa;
  size_t nx, ny, nw, nb, ncache, nscratch;
  float *x, *y, *dx, *dy, *w, *gw, *b, *gb, *cache, *scratch, *aux, *aux2;
  int32_t *arg;
  hy_pool *pool;
  hy_adam adam;
} op_case;

static float *filled(size_t n, float scale) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (p)
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)((int)((i * 2654435761u) % 2001) - 1000) / 1000.0f;
  return p;
}

static int alloc_case(op_case *c) {
  c->x = filled(c->nx, 1), c->dx = filled(c->nx, 0);
  c->y = filled(c->ny, 1), c->dy = filled(c->ny, 0.01f);
  c->w = filled(c->nw, 0.1f), c->gw = filled(c->nw, 0);
  c->b = filled(c->nb, 0.1f), c->gb = filled(c->nb, 0);
  c->cache = filled(c->ncache, 0);
  c->scratch = filled(c->nscratch, 0);
  c->aux = filled(c->nx > c->ny ? c->nx : c->ny, 0.5f);
  c->aux2 = filled(c->nx > c->ny ? c->nx : c->ny, 0.5f);
  c->arg = calloc((c->nx > c->ny ? c->nx : c->ny) + 1, sizeof *c->arg);
  return c->x && c->dx && c->y && c->dy && c->w && c->gw && c->b && c->gb && c->cache &&
         c->scratch && c->aux && c->aux2 && c->arg;
}

static void free_case(op_case *c) {
  float *all[] = {c->x, c->dx, c->y, c->dy, c->w, c->gw, c->b, c->gb, c->cache, c->scratch, c->aux, c->aux2};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
  free(c->arg);
}

/* Attention parameters packed in w = qkv [3C][C] | lepe [C][25] | proj [C][C]
 * and b = qkv [3C] | lepe [C] | proj [C]. */
static size_t attn_w_size(int C) { return (size_t)3 * C * C + (size_t)25 * C + (size_t)C * C; }
#define LEPE_W(c) ((c)->w + (size_t)3 * (c)->C * (c)->C)
#define PROJ_W(c) (LEPE_W(c) + (size_t)25 * (c)->C)
#define LEPE_B(c) ((c)->b + (size_t)3 * (c)->C)
#define PROJ_B(c) (LEPE_B(c) + (c)->C)

static void forward(void *p) {
  op_case *c = p;
  int n = (int)c->nx;
  switch (c->kind) {
  case OP_CONV:
    hy_conv_forward(c->y, c->x, c->w, c->b, c->N, c->C, c->H, c->W, c->Cout, c->k, c->k, c->stride,
                    c->pad, c->pad, c->dil, c->groups, c->scratch, c->pool);
    break;
  case OP_CONVT:
    hy_conv_transpose_forward(c->y, c->x, c->w, NULL, c->N, c->C, c->H, c->W, c->Cout, c->k, c->k,
                              c->stride, c->pad, c->pad, c->scratch, c->pool);
    break;
  case OP_LINEAR: hy_linear_forward(c->y, c->x, c->w, c->b, c->H * c->W, c->C, c->Cout); break;
  case OP_LAYERNORM:
    hy_layernorm_forward(c->y, c->aux, c->aux2, c->x, c->w, c->b, c->H * c->W, c->C, 1e-6f, c->pool);
    break;
  case OP_GELU: hy_gelu_forward(c->y, c->x, n, c->pool); break;
  case OP_RELU: hy_relu_forward(c->y, c->x, n, c->pool); break;
  case OP_SIGMOID: hy_sigmoid_forward(c->y, c->x, n, c->pool); break;
  case OP_BN:
    hy_batchnorm_forward_train(c->y, c->aux, c->aux2, NULL, NULL, c->x, c->w, c->b, c->N, c->C,
                               c->H * c->W, 1e-5f, 0.1f, c->pool);
    break;
  case OP_BRA:
    hy_bra_forward(c->y, c->cache, c->x, NULL, c->w, c->b, LEPE_W(c), LEPE_B(c), PROJ_W(c), PROJ_B(c),
                   c->bra, c->scratch, c->pool);
    break;
  case OP_MHSA:
    hy_mhsa_forward(c->y, c->cache, c->x, c->w, LEPE_W(c), LEPE_B(c), PROJ_W(c), PROJ_B(c), c->mhsa,
                    c->scratch, c->pool);
    break;
  case OP_GAP: hy_global_avgpool_forward(c->y, c->x, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_GMP: hy_global_maxpool_forward(c->y, c->arg, c->x, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_MEANMAX: hy_channel_meanmax_forward(c->y, c->arg, c->x, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_MUL_CH: hy_mul_forward(c->y, c->x, c->b, HY_BCAST_CHANNEL, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_ADD: hy_add_forward(c->y, c->x, c->aux, HY_BCAST_NONE, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_TOKENS: hy_to_tokens_forward(c->y, c->x, NULL, c->N, c->C, c->H * c->W, c->pool); break;
  case OP_NEAREST:
    hy_resize_nearest_forward(c->y, c->x, c->N, c->C, c->H, c->W, c->Ho, c->Wo, c->pool);
    break;
  case OP_BILINEAR:
    hy_resize_bilinear_forward(c->y, c->x, c->N, c->C, c->H, c->W, c->Ho, c->Wo, c->scratch, c->pool);
    break;
  case OP_CONCAT: {
    const float *parts[2] = {c->x, c->aux};
    int chans[2] = {c->C, c->C};
    hy_concat_forward(c->y, parts, chans, 2, c->N, c->H, c->W, c->pool);
    break;
  }
  case OP_MSE: hy_mse_forward(c->x, c->aux, c->b, 1000.0f, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_ADAM: hy_adam_update(&c->adam, c->x, c->aux, c->aux2, c->dx, 1e-4, c->nx, c->pool); break;
  case OP_MLP: { /* w = w1 | w2 | LN weight, b = b1 | b2 | LN bias */
    size_t rc = (size_t)c->Cout * c->C;
    hy_mlp_weights w = {c->w + 2 * rc, c->b + c->Cout + c->C, 1e-6f, c->w, c->b, c->w + rc,
                        c->b + c->Cout};
    hy_mlp_residual_forward(c->y, c->x, &w, c->H * c->W, c->C, c->Cout, c->scratch, c->pool);
    break;
  }
  }
}

static void backward(void *p) {
  op_case *c = p;
  int n = (int)c->nx;
  switch (c->kind) {
  case OP_CONV:
    hy_conv_backward(c->dx, c->gw, c->gb, c->dy, c->x, c->w, c->N, c->C, c->H, c->W, c->Cout, c->k,
                     c->k, c->stride, c->pad, c->pad, c->dil, c->groups, c->scratch, c->pool);
    break;
  case OP_CONVT:
    hy_conv_transpose_backward(c->dx, c->gw, NULL, c->dy, c->x, c->w, c->N, c->C, c->H, c->W,
                               c->Cout, c->k, c->k, c->stride, c->pad, c->pad, c->scratch, c->pool);
    break;
  case OP_LINEAR:
    hy_linear_backward(c->dx, c->gw, c->gb, c->dy, c->x, c->w, c->H * c->W, c->C, c->Cout);
    break;
  case OP_LAYERNORM:
    hy_layernorm_backward(c->dx, c->gw, c->gb, c->dy, c->x, c->aux, c->aux2, c->w, c->H * c->W,
                          c->C, c->scratch, c->pool);
    break;
  case OP_GELU: hy_gelu_backward(c->dx, c->dy, c->x, n, c->pool); break;
  case OP_RELU: hy_relu_backward(c->dx, c->dy, c->x, n, c->pool); break;
  case OP_SIGMOID: hy_sigmoid_backward(c->dx, c->dy, c->y, n, c->pool); break;
  case OP_BN:
    hy_batchnorm_backward_train(c->dx, c->gw, c->gb, c->dy, c->x, c->aux, c->aux2, c->w, c->N,
                                c->C, c->H * c->W, c->pool);
    break;
  case OP_BRA:
    hy_bra_backward(c->dx, c->gw, c->gb, c->gw + (LEPE_W(c) - c->w), c->gb + (LEPE_B(c) - c->b),
                    c->gw + (PROJ_W(c) - c->w), c->gb + (PROJ_B(c) - c->b), c->dy, c->cache, c->x,
                    c->w, LEPE_W(c), PROJ_W(c), c->bra, c->scratch, c->pool);
    break;
  case OP_MHSA:
    hy_mhsa_backward(c->dx, c->gw, c->gw + (LEPE_W(c) - c->w), c->gb + (LEPE_B(c) - c->b),
                     c->gw + (PROJ_W(c) - c->w), c->gb + (PROJ_B(c) - c->b), c->dy, c->cache, c->x,
                     c->w, LEPE_W(c), PROJ_W(c), c->mhsa, c->scratch, c->pool);
    break;
  case OP_GAP: hy_global_avgpool_backward(c->dx, c->dy, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_GMP: hy_global_maxpool_backward(c->dx, c->dy, c->arg, c->N, c->C, c->H, c->W); break;
  case OP_MEANMAX: hy_channel_meanmax_backward(c->dx, c->dy, c->arg, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_MUL_CH:
    hy_mul_backward(c->dx, c->gb, c->dy, c->x, c->b, HY_BCAST_CHANNEL, c->N, c->C, c->H, c->W, c->pool);
    break;
  case OP_ADD: hy_add_backward(c->dx, c->aux2, c->dy, HY_BCAST_NONE, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_TOKENS: hy_to_tokens_backward(c->dx, c->dy, c->N, c->C, c->H * c->W, c->pool); break;
  case OP_NEAREST:
    hy_resize_nearest_backward(c->dx, c->dy, c->N, c->C, c->H, c->W, c->Ho, c->Wo, c->pool);
    break;
  case OP_BILINEAR:
    hy_resize_bilinear_backward(c->dx, c->dy, c->N, c->C, c->H, c->W, c->Ho, c->Wo, c->scratch, c->pool);
    break;
  case OP_CONCAT: {
    float *const parts[2] = {c->dx, c->aux2};
    int chans[2] = {c->C, c->C};
    hy_concat_backward(parts, c->dy, chans, 2, c->N, c->H, c->W, c->pool);
    break;
  }
  case OP_MSE: hy_mse_backward(c->dx, c->x, c->aux, c->b, 1000.0f, c->N, c->C, c->H, c->W, c->pool); break;
  case OP_ADAM: case OP_MLP: break;
  }
}

typedef struct {
  hy_pool *pool;
  int reps;
  hy_bench_sink sink;
  void *ctx;
  int failed;
  int dense; /* the case being measured is a dense convolution */
} runner;

/* Measures forward and (where the op has one) backward of c. gbyte and
 * gbyte_bwd: each pass's memory traffic, for memory-bound ops. */
static void measure2(runner *r, op_case *c, const char *name, double gflop, double gbyte,
                     double gbyte_bwd) {
  c->pool = r->pool;
  if (!alloc_case(c)) {
    r->failed = 1;
    free_case(c);
    return;
  }
  hy_adam_init(&c->adam, 1, 0.01);
  hy_bench_row row = {0};
  snprintf(row.name, sizeof row.name, "%s", name);
  snprintf(row.pass, sizeof row.pass, "fwd");
  row.gflop = gflop;
  row.gbyte = gbyte;
  row.dense = r->dense;
  row.ms = hy_bench_time(forward, c, r->reps);
  r->sink(&row, r->ctx);
  if (c->kind != OP_ADAM && c->kind != OP_MLP) {
    snprintf(row.pass, sizeof row.pass, "bwd");
    row.gflop = 2 * gflop;
    row.gbyte = gbyte_bwd;
    row.ms = hy_bench_time(backward, c, r->reps);
    r->sink(&row, r->ctx);
  }
  free_case(c);
}

static void measure(runner *r, op_case *c, const char *name, double gflop, double gbyte) {
  measure2(r, c, name, gflop, gbyte, 2 * gbyte);
}

static void bench_conv(runner *r, const char *what, int N, int C, int H, int W, int Cout, int k,
                       int stride, int pad, int dil, int groups) {
  op_case c = {.kind = OP_CONV, .N = N, .C = C, .H = H, .W = W, .Cout = Cout, .k = k,
               .stride = stride, .pad = pad, .dil = dil, .groups = groups};
  c.Ho = hy_conv_out_size(H, k, stride, pad, dil);
  c.Wo = hy_conv_out_size(W, k, stride, pad, dil);
  c.nx = (size_t)N * C * H * W, c.ny = (size_t)N * Cout * c.Ho * c.Wo;
  c.nw = (size_t)Cout * (C / groups) * k * k, c.nb = (size_t)Cout;
  c.nscratch = hy_conv_scratch(C, H, W, Cout, k, k, stride, pad, pad, dil, groups,
                               hy_pool_threads(r->pool));
  char name[128];
  snprintf(name, sizeof name, "%s %dx%d %d->%d @%dx%d", what, k, k, C, Cout, H, W);
  double gflop = hy_conv_flops(N, C, H, W, Cout, k, k, stride, pad, pad, dil, groups) / 1e9;
  /* depthwise convs are memory-bound: report their traffic too */
  double gbyte = groups > 1 ? 4.0 * (double)(c.nx + c.ny) / 1e9 : 0;
  r->dense = groups == 1;
  measure(r, &c, name, gflop, gbyte);
  r->dense = 0;
}

/* A memory-bound op: fwd_floats and bwd_floats are the floats each pass
 * reads and writes. */
static void bench_mem(runner *r, op_kind kind, const char *what, int N, int C, int H, int W,
                      size_t nx, size_t ny, double fwd_floats, double bwd_floats) {
  op_case c = {.kind = kind, .N = N, .C = C, .H = H, .W = W, .Ho = 2 * H, .Wo = 2 * W};
  c.nx = nx, c.ny = ny, c.nw = (size_t)C, c.nb = (size_t)(C > N * C ? C : N * C);
  c.nscratch = hy_resize_bilinear_scratch(2 * W, hy_pool_threads(r->pool)) +
               hy_layernorm_scratch(H * W, C);
  char name[128];
  snprintf(name, sizeof name, "%s C=%d @%dx%d", what, C, H, W);
  measure2(r, &c, name, 0, 4.0 * fwd_floats / 1e9, 4.0 * bwd_floats / 1e9);
}

hy_status hy_bench_ops(const hy_net_config *cfg, hy_pool *pool, int reps, hy_bench_sink sink,
                       void *ctx, hy_error *err) {
  runner r = {pool, reps, sink, ctx, 0, 0};
  int N = 1, D = cfg->neck, K = cfg->landmarks;
  for (int s = 0; s < HY_STAGES; s++) {
    int C = cfg->widths[s], H = hy_stage_h(cfg, s), W = hy_stage_w(cfg, s), T = H * W;
    int cin = s ? cfg->widths[s - 1] : 1, R = cfg->mlp_ratio[s] * C;
    char tag[16];
    snprintf(tag, sizeof tag, "s%d ", s + 1);
    char what[48];
    snprintf(what, sizeof what, "%sembed conv", tag);
    bench_conv(&r, what, N, cin, 2 * H, 2 * W, C, 4, 2, 1, 1, 1);
    snprintf(what, sizeof what, "%sARM conv", tag);
    bench_conv(&r, what, N, C, H, W, C, 3, 1, 1, 1, 1);
    snprintf(what, sizeof what, "%sARM conv dil2", tag);
    bench_conv(&r, what, N, C, H, W, C, 3, 1, 2, 2, 1);
    snprintf(what, sizeof what, "%spos dwconv", tag);
    bench_conv(&r, what, N, C, H, W, C, 3, 1, 1, 1, C);
    op_case lin = {.kind = OP_LINEAR, .H = H, .W = W, .C = C, .Cout = R};
    lin.nx = (size_t)T * C, lin.ny = (size_t)T * R, lin.nw = (size_t)R * C, lin.nb = (size_t)R;
    char name[128];
    snprintf(name, sizeof name, "%sMLP linear %d->%d x%d tokens", tag, C, R, T);
    measure(&r, &lin, name, 2.0 * T * C * R / 1e9, 0);
    if (hy_mlp_fused_available()) { /* inference only: no backward */
      op_case mlp = {.kind = OP_MLP, .H = H, .W = W, .C = C, .Cout = R};
      mlp.nx = mlp.ny = (size_t)T * C, mlp.nw = (size_t)2 * R * C + C, mlp.nb = (size_t)R + 2 * C;
      mlp.nscratch = hy_mlp_scratch_size(C, R, hy_pool_threads(pool));
      snprintf(name, sizeof name, "%sfused LN + MLP + add %d->%d->%d x%d tokens", tag, C, R, C, T);
      measure(&r, &mlp, name, 4.0 * T * C * R / 1e9, 0);
    }
    snprintf(what, sizeof what, "%slayernorm", tag);
    bench_mem(&r, OP_LAYERNORM, what, N, C, H, W, (size_t)T * C, (size_t)T * C, 2.0 * T * C, 4.0 * T * C);
    snprintf(what, sizeof what, "%sGELU (x%d)", tag, cfg->mlp_ratio[s]);
    bench_mem(&r, OP_GELU, what, N, C, H, W, (size_t)T * R, (size_t)T * R, 2.0 * T * R, 4.0 * T * R);
    snprintf(what, sizeof what, "%sbatchnorm", tag);
    bench_mem(&r, OP_BN, what, N, C, H, W, (size_t)T * C, (size_t)T * C, 3.0 * T * C, 6.0 * T * C);
    snprintf(what, sizeof what, "%srelu", tag);
    bench_mem(&r, OP_RELU, what, N, C, H, W, (size_t)T * C, (size_t)T * C, 2.0 * T * C, 4.0 * T * C);
    snprintf(what, sizeof what, "%sto tokens", tag);
    bench_mem(&r, OP_TOKENS, what, N, C, H, W, (size_t)T * C, (size_t)T * C, 2.0 * T * C, 3.0 * T * C);
    snprintf(what, sizeof what, "%sresidual add", tag);
    bench_mem(&r, OP_ADD, what, N, C, H, W, (size_t)T * C, (size_t)T * C, 3.0 * T * C, 5.0 * T * C);
    snprintf(what, sizeof what, "%sCBAM channel mul", tag);
    bench_mem(&r, OP_MUL_CH, what, N, C, H, W, (size_t)T * C, (size_t)T * C, 2.0 * T * C, 4.0 * T * C);
    snprintf(what, sizeof what, "%sCBAM mean/max over C", tag);
    bench_mem(&r, OP_MEANMAX, what, N, C, H, W, (size_t)T * C, (size_t)2 * T, (double)T * C + 2.0 * T, 2.0 * T * C + 2.0 * T);
    snprintf(what, sizeof what, "%sglobal max pool", tag);
    bench_mem(&r, OP_GMP, what, N, C, H, W, (size_t)T * C, (size_t)C, (double)T * C, 3.0 * C);
    if (s < HY_STAGES - 1) {
      op_case a = {.kind = OP_BRA, .C = C};
      a.bra = (hy_bra_dims){N, H, W, C, cfg->regions[s], cfg->topk[s], cfg->bra_heads[s], cfg->pool, 0};
      a.nx = a.ny = (size_t)T * C, a.nw = attn_w_size(C), a.nb = (size_t)5 * C;
      a.ncache = hy_bra_cache_size(a.bra);
      a.nscratch = hy_bra_scratch_size(a.bra, hy_pool_threads(pool));
      snprintf(name, sizeof name, "%sBRA C=%d @%dx%d S=%d top%d h%d", tag, C, H, W,
               cfg->regions[s], cfg->topk[s], cfg->bra_heads[s]);
      measure(&r, &a, name, hy_bra_flops(a.bra) / 1e9, 0);
    } else {
      op_case a = {.kind = OP_MHSA, .C = C};
      a.mhsa = (hy_mhsa_dims){N, H, W, C, cfg->s5_heads};
      a.nx = a.ny = (size_t)T * C, a.nw = attn_w_size(C), a.nb = (size_t)5 * C;
      a.ncache = hy_mhsa_cache_size(a.mhsa);
      a.nscratch = hy_mhsa_scratch_size(a.mhsa, hy_pool_threads(pool));
      snprintf(name, sizeof name, "%sMHSA C=%d @%dx%d h%d", tag, C, H, W, cfg->s5_heads);
      measure(&r, &a, name, hy_mhsa_flops(a.mhsa) / 1e9, 0);
    }
    if (s > 0) {
      snprintf(what, sizeof what, "neck lateral%d conv", s + 1);
      bench_conv(&r, what, N, C, H, W, D, 3, 1, 1, 1, 1);
    }
  }
  int H4 = cfg->in_h / 4, W4 = cfg->in_w / 4, H2 = cfg->in_h / 2, W2 = cfg->in_w / 2;
  bench_conv(&r, "head1 conv", N, D, H4, W4, D, 3, 1, 1, 1, 1);
  bench_conv(&r, "head1 out conv", N, D, H4, W4, K, 1, 1, 0, 1, 1);
  op_case up = {.kind = OP_CONVT, .N = N, .C = D, .H = H4, .W = W4, .Cout = D, .k = 4, .stride = 2,
                .pad = 1, .Ho = H2, .Wo = W2};
  up.nx = (size_t)D * H4 * W4, up.ny = (size_t)D * H2 * W2, up.nw = (size_t)D * D * 16;
  up.nscratch = hy_conv_transpose_scratch(D, H4, W4, D, 4, 4, 2, 1, 1, hy_pool_threads(pool));
  char name[128];
  snprintf(name, sizeof name, "head2 convT 4x4 %d->%d @%dx%d", D, D, H4, W4);
  measure(&r, &up, name, hy_conv_transpose_flops(N, D, H4, W4, D, 4, 4) / 1e9, 0);
  bench_conv(&r, "head2 conv", N, D, H2, W2, D, 3, 1, 1, 1, 1);
  bench_conv(&r, "head3 conv", N, D + cfg->img_width + K, H2, W2, cfg->mid_width, 3, 1, 1, 1, 1);
  bench_mem(&r, OP_CONCAT, "head3 concat (2 parts)", N, D, H2, W2, (size_t)D * H2 * W2,
            (size_t)2 * D * H2 * W2, 4.0 * D * H2 * W2, 6.0 * D * H2 * W2);
  bench_mem(&r, OP_BILINEAR, "head3 bilinear x2", N, K, H2, W2, (size_t)K * H2 * W2,
            (size_t)4 * K * H2 * W2, 5.0 * K * H2 * W2, 6.0 * K * H2 * W2);
  bench_mem(&r, OP_NEAREST, "neck nearest x2", N, D, H4 / 2, W4 / 2, (size_t)D * H4 * W4 / 4,
            (size_t)D * H4 * W4, 1.25 * D * H4 * W4, 1.5 * D * H4 * W4);
  size_t heat = (size_t)K * cfg->in_h * cfg->in_w;
  bench_mem(&r, OP_MSE, "loss MSE head3", N, K, cfg->in_h, cfg->in_w, heat, 0, 2.0 * heat, 4.0 * heat);
  hy_net *net = NULL;
  if (hy_net_create(&net, cfg, 1, HY_INFER, 1, err) != HY_OK) return err->status;
  size_t n_params = hy_net_param_count(net);
  hy_net_free(net);
  op_case adam = {.kind = OP_ADAM};
  adam.nx = adam.ny = n_params;
  snprintf(name, sizeof name, "AdamW over %zu parameters", n_params);
  measure(&r, &adam, name, 0, 4.0 * 7 * (double)n_params / 1e9);
  if (r.failed) return hy_fail(err, HY_E_NOMEM, "not enough memory for some benchmark buffers");
  return HY_OK;
}

typedef struct {
  hy_net *net;
  hy_run run;
  float *targets[3];
  float *weights;
  float *m, *v;
  hy_adam adam;
} net_ctx;

static void net_forward(void *p) {
  net_ctx *c = p;
  hy_net_forward(c->net, &c->run);
}

static void net_backward(void *p) {
  net_ctx *c = p;
  hy_net_zero_grad(c->net);
  hy_net_loss(c->net, (const float *const *)c->targets, c->weights, 1, &c->run);
  hy_net_backward(c->net, &c->run);
}

static void net_step(void *p) {
  net_ctx *c = p;
  net_forward(c);
  net_backward(c);
  hy_arena *params = &c->net->plan.params;
  hy_adam_update(&c->adam, (float *)params->base, c->m, c->v,
                 (const float *)c->net->plan.grads.base, 1e-5, params->used / 4, c->run.pool);
}

static hy_status net_ctx_init(net_ctx *c, const hy_net_config *cfg, hy_mode mode, hy_pool *pool,
                              hy_error *err) {
  memset(c, 0, sizeof *c);
  hy_status st = hy_net_create(&c->net, cfg, 1, mode, hy_pool_threads(pool), err);
  if (st != HY_OK) return st;
  hy_net_init_seeded(c->net, 1);
  hy_net_fold_bn(c->net); /* inference only, as hyatt predict runs it */
  for (size_t i = 0; i < (size_t)cfg->in_h * cfg->in_w; i++)
    c->net->input[i] = (float)((int)(i * 2654435761u % 2001) - 1000) / 1000.0f;
  c->run = (hy_run){pool, c->net->plan.scratch, mode == HY_TRAIN ? HY_BN_BATCH : HY_BN_RUNNING};
  if (mode == HY_INFER) return HY_OK;
  size_t n = c->net->plan.params.used / 4;
  c->m = calloc(n, 4), c->v = calloc(n, 4);
  c->weights = filled((size_t)cfg->landmarks, 0);
  int ok = c->m && c->v && c->weights;
  for (int i = 0; i < 3; i++) {
    c->targets[i] = filled((size_t)cfg->landmarks * c->net->out_h[i] * c->net->out_w[i], 0);
    ok = ok && c->targets[i];
  }
  for (int k = 0; ok && k < cfg->landmarks; k++) c->weights[k] = 1;
  hy_adam_init(&c->adam, 1, 0.01);
  return ok ? HY_OK : hy_fail(err, HY_E_NOMEM, "not enough memory for the training benchmark");
}

static void net_ctx_free(net_ctx *c) {
  hy_net_free(c->net);
  free(c->m), free(c->v), free(c->weights);
  for (int i = 0; i < 3; i++) free(c->targets[i]);
}

static double plan_mb(const hy_plan *p) {
  const hy_arena *all[] = {&p->params, &p->grads, &p->buffers, &p->acts, &p->dacts, &p->scratch_arena};
  double b = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) b += (double)all[i]->capacity;
  return b / 1048576.0;
}

static double net_flops(const hy_net *net) {
  double f = 0;
  for (int s = 0; s < HY_STAGES; s++) {
    const hy_stage *st = &net->stages[s];
    const hy_conv_layer *convs[] = {&st->embed, &st->block.pos, &st->arm.shortcut, &st->arm.conv1,
                                    &st->arm.conv2};
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
      const hy_conv_layer *l = convs[i];
      f += hy_conv_flops(l->N, l->cin, l->H, l->W, l->cout, l->k, l->k, l->stride, l->pad, l->pad,
                         l->dil, l->groups);
    }
    const hy_block *b = &st->block;
    f += 2.0 * b->fc1.T * b->fc1.cin * b->fc1.cout * 2;
    f += b->global ? hy_mhsa_flops(b->mhsa) : hy_bra_flops(b->bra);
  }
  const hy_conv_layer *rest[] = {&net->neck.lateral[0], &net->neck.lateral[1], &net->neck.lateral[2],
                                 &net->neck.lateral[3], &net->neck.smooth, &net->heads.h1.conv,
                                 &net->heads.h1.out, &net->heads.h2.conv, &net->heads.h2.out,
                                 &net->heads.h3.conv, &net->heads.h3.out, &net->heads.img};
  for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
    const hy_conv_layer *l = rest[i];
    f += hy_conv_flops(l->N, l->cin, l->H, l->W, l->cout, l->k, l->k, l->stride, l->pad, l->pad,
                       l->dil, l->groups);
  }
  const hy_convt_layer *u = &net->heads.up;
  f += hy_conv_transpose_flops(u->N, u->cin, u->H, u->W, u->cout, u->k, u->k);
  return f;
}

hy_status hy_bench_net(const hy_net_config *cfg, int which, hy_pool *pool, int reps,
                       hy_bench_sink sink, void *ctx, double *infer_mb, double *train_mb,
                       hy_error *err) {
  net_ctx c;
  hy_bench_row row = {0};
  *infer_mb = *train_mb = 0;
  if (which & HY_BENCH_INFER) {
    hy_status st = net_ctx_init(&c, cfg, HY_INFER, pool, err);
    if (st != HY_OK) return st;
    *infer_mb = plan_mb(&c.net->plan);
    snprintf(row.name, sizeof row.name, "%s network, inference plan @%dx%d", cfg->name, cfg->in_h, cfg->in_w);
    snprintf(row.pass, sizeof row.pass, "fwd");
    row.gflop = net_flops(c.net) / 1e9;
    row.ms = hy_bench_time(net_forward, &c, reps);
    sink(&row, ctx);
    net_ctx_free(&c);
  }
  if (!(which & HY_BENCH_TRAIN)) return HY_OK;
  hy_status st = net_ctx_init(&c, cfg, HY_TRAIN, pool, err);
  if (st != HY_OK) return st;
  double gflop = net_flops(c.net) / 1e9;
  *train_mb = plan_mb(&c.net->plan) + 2.0 * (double)c.net->plan.params.used / 1048576.0;
  snprintf(row.name, sizeof row.name, "%s network, training plan @%dx%d", cfg->name, cfg->in_h, cfg->in_w);
  snprintf(row.pass, sizeof row.pass, "fwd");
  row.gflop = gflop;
  row.ms = hy_bench_time(net_forward, &c, reps);
  sink(&row, ctx);
  snprintf(row.pass, sizeof row.pass, "bwd");
  row.gflop = 2 * gflop;
  row.ms = hy_bench_time(net_backward, &c, reps);
  sink(&row, ctx);
  snprintf(row.pass, sizeof row.pass, "step");
  row.gflop = 3 * gflop;
  row.ms = hy_bench_time(net_step, &c, reps);
  sink(&row, ctx);
  net_ctx_free(&c);
  return HY_OK;
}
