#include "netconfig.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hy_net_config NAMED[] = {
    {"paper", 1216, 1024, {64, 128, 320, 512, 1024}, {2, 4, 10, 16}, {16, 16, 16, 8},
     {1, 4, 8, 16}, {8, 8, 8, 4, 4}, 8, 256, 32, 256 + 32 + 19, 19, 4,
     {2, 2, 4}, {1000, 3000, 3000}},
    {"small", 512, 416, {8, 16, 40, 64, 128}, {1, 2, 5, 8}, {8, 8, 8, 4},
     {1, 4, 8, 4}, {8, 8, 8, 4, 4}, 8, 32, 8, 16, 19, 4,
     {2, 2, 4}, {1000, 3000, 3000}},
    {"tiny", 64, 96, {4, 8, 8, 16, 16}, {1, 2, 2, 2}, {4, 2, 3, 1},
     {2, 3, 4, 1}, {2, 2, 2, 2, 2}, 8, 8, 4, 8, 2, 4,
     {2, 2, 4}, {1000, 3000, 3000}},
};

hy_status hy_net_config_named(hy_net_config *cfg, const char *name, hy_error *err) {
  for (size_t i = 0; i < sizeof NAMED / sizeof NAMED[0]; i++)
    if (strcmp(NAMED[i].name, name) == 0) {
      *cfg = NAMED[i];
      return HY_OK;
    }
  return hy_fail(err, HY_E_ARG, "unknown network configuration '%s' (paper, small or tiny)", name);
}

#define CHECK(cond, ...) \
  do {                   \
    if (!(cond)) return hy_fail(err, HY_E_FORMAT, __VA_ARGS__); \
  } while (0)

hy_status hy_net_config_check(const hy_net_config *c, hy_error *err) {
  CHECK(c->in_h >= 32 && c->in_w >= 32 && c->in_h <= 4096 && c->in_w <= 4096 &&
            c->in_h % 32 == 0 && c->in_w % 32 == 0,
        "network input %dx%d must be multiples of 32 between 32 and 4096", c->in_h, c->in_w);
  for (int s = 0; s < HY_STAGES; s++) {
    CHECK(c->widths[s] >= 1 && c->widths[s] <= 4096, "stage %d width %d is not in 1..4096", s + 1, c->widths[s]);
    CHECK(c->mlp_ratio[s] >= 1 && c->mlp_ratio[s] <= 16, "stage %d MLP ratio %d is not in 1..16", s + 1, c->mlp_ratio[s]);
  }
  for (int s = 0; s < HY_STAGES - 1; s++) {
    int h = hy_stage_h(c, s), w = hy_stage_w(c, s);
    CHECK(c->bra_heads[s] >= 1 && c->widths[s] % c->bra_heads[s] == 0,
          "stage %d: %d heads do not divide width %d", s + 1, c->bra_heads[s], c->widths[s]);
    CHECK(c->regions[s] >= 1 && c->regions[s] <= h && c->regions[s] <= w,
          "stage %d: %d regions per side do not fit %dx%d tokens", s + 1, c->regions[s], h, w);
    CHECK(c->topk[s] >= 1 && c->topk[s] <= c->regions[s] * c->regions[s],
          "stage %d: top-k %d is not in 1..%d", s + 1, c->topk[s], c->regions[s] * c->regions[s]);
  }
  CHECK(c->s5_heads >= 1 && c->widths[4] % c->s5_heads == 0,
        "stage 5: %d heads do not divide width %d", c->s5_heads, c->widths[4]);
  CHECK(c->neck >= 1 && c->neck <= 4096, "neck width %d is not in 1..4096", c->neck);
  CHECK(c->img_width >= 1 && c->img_width <= 4096, "image branch width %d is not in 1..4096", c->img_width);
  CHECK(c->mid_width >= 1 && c->mid_width <= 8192, "head 3 width %d is not in 1..8192", c->mid_width);
  CHECK(c->landmarks >= 1 && c->landmarks <= 256, "landmark count %d is not in 1..256", c->landmarks);
  CHECK(c->pool >= 1 && c->pool <= 16, "pooled size %d is not in 1..16", c->pool);
  for (int i = 0; i < 3; i++) {
    CHECK(isfinite(c->sigmas[i]) && c->sigmas[i] > 0.1f && c->sigmas[i] < 100,
          "head %d sigma %g is not in (0.1, 100)", i + 1, c->sigmas[i]);
    CHECK(isfinite(c->loss_weights[i]) && c->loss_weights[i] >= 0,
          "head %d loss weight %g is not a finite non-negative number", i + 1, c->loss_weights[i]);
  }
  return HY_OK;
}

/* "8,16,40" into n ints; every field present and numeric. */
static int parse_ints(const char *s, int *out, int n) {
  if (!s) return 0;
  for (int i = 0; i < n; i++) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno || v < -1000000 || v > 1000000) return 0;
    out[i] = (int)v;
    s = end;
    if (i < n - 1) {
      if (*s != ',') return 0;
      s++;
    }
  }
  return *s == 0;
}

static int parse_floats(const char *s, float *out, int n) {
  if (!s) return 0;
  for (int i = 0; i < n; i++) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v)) return 0;
    out[i] = (float)v;
    s = end;
    if (i < n - 1) {
      if (*s != ',') return 0;
      s++;
    }
  }
  return *s == 0;
}

hy_status hy_net_config_from_meta(hy_net_config *c, const hy_tensorfile *tf, hy_error *err) {
  memset(c, 0, sizeof *c);
  const char *name = hy_tensorfile_meta(tf, "config");
  if (!name || strlen(name) >= sizeof c->name)
    return hy_fail(err, HY_E_FORMAT, "the model has no valid 'config' name in its header");
  strcpy(c->name, name);
  struct {
    const char *key;
    int *v;
    int n;
  } ints[] = {
      {"input_h", &c->in_h, 1}, {"input_w", &c->in_w, 1},
      {"widths", c->widths, 5}, {"bra_heads", c->bra_heads, 4},
      {"regions", c->regions, 4}, {"topk", c->topk, 4},
      {"mlp_ratio", c->mlp_ratio, 5}, {"s5_heads", &c->s5_heads, 1},
      {"neck", &c->neck, 1}, {"img_width", &c->img_width, 1},
      {"mid_width", &c->mid_width, 1}, {"landmarks", &c->landmarks, 1},
      {"pool", &c->pool, 1},
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (!parse_ints(hy_tensorfile_meta(tf, ints[i].key), ints[i].v, ints[i].n))
      return hy_fail(err, HY_E_FORMAT, "the model header's '%s' is missing or not %d integer(s)",
                     ints[i].key, ints[i].n);
  if (!parse_floats(hy_tensorfile_meta(tf, "sigmas"), c->sigmas, 3) ||
      !parse_floats(hy_tensorfile_meta(tf, "loss_weights"), c->loss_weights, 3))
    return hy_fail(err, HY_E_FORMAT, "the model header's 'sigmas' or 'loss_weights' is missing or malformed");
  return hy_net_config_check(c, err);
}

static void put_ints(hy_tensorfile_writer *w, const char *key, const int *v, int n) {
  char buf[256];
  int len = 0;
  for (int i = 0; i < n; i++) len += snprintf(buf + len, sizeof buf - (size_t)len, i ? ",%d" : "%d", v[i]);
  hy_tensorfile_writer_meta(w, key, "%s", buf);
}

void hy_net_config_to_meta(const hy_net_config *c, hy_tensorfile_writer *w) {
  hy_tensorfile_writer_meta(w, "config", "%s", c->name);
  hy_tensorfile_writer_meta(w, "input_h", "%d", c->in_h);
  hy_tensorfile_writer_meta(w, "input_w", "%d", c->in_w);
  put_ints(w, "widths", c->widths, 5);
  put_ints(w, "bra_heads", c->bra_heads, 4);
  put_ints(w, "regions", c->regions, 4);
  put_ints(w, "topk", c->topk, 4);
  put_ints(w, "mlp_ratio", c->mlp_ratio, 5);
  hy_tensorfile_writer_meta(w, "s5_heads", "%d", c->s5_heads);
  hy_tensorfile_writer_meta(w, "neck", "%d", c->neck);
  hy_tensorfile_writer_meta(w, "img_width", "%d", c->img_width);
  hy_tensorfile_writer_meta(w, "mid_width", "%d", c->mid_width);
  hy_tensorfile_writer_meta(w, "landmarks", "%d", c->landmarks);
  hy_tensorfile_writer_meta(w, "pool", "%d", c->pool);
  hy_tensorfile_writer_meta(w, "sigmas", "%.9g,%.9g,%.9g", c->sigmas[0], c->sigmas[1], c->sigmas[2]);
  hy_tensorfile_writer_meta(w, "loss_weights", "%.9g,%.9g,%.9g", c->loss_weights[0],
                            c->loss_weights[1], c->loss_weights[2]);
}
