#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hy_plan_init(hy_plan *p, hy_mode mode, int threads) {
  memset(p, 0, sizeof *p);
  p->mode = mode;
  p->threads = threads;
  p->measuring = 1;
  hy_arena_init_packed(&p->params);
  hy_arena_init_packed(&p->grads);
  hy_arena_init_packed(&p->buffers);
  hy_arena_init(&p->acts);
  hy_arena_init(&p->dacts);
  hy_arena_init(&p->transient);
  p->transient.reused = 1;
  hy_arena_init(&p->scratch_arena);
}

hy_status hy_plan_commit(hy_plan *p, int allocate, hy_error *err) {
  p->table = calloc(p->n_params ? (size_t)p->n_params : 1, sizeof *p->table);
  if (!p->table) return hy_fail(err, HY_E_NOMEM, "cannot allocate the parameter table");
  p->cap_params = p->n_params;
  p->n_params = 0;
  hy_arena_rewind(&p->transient);
  hy_arena *all[] = {&p->params, &p->grads, &p->buffers, &p->acts, &p->dacts, &p->transient};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    hy_status st = allocate ? hy_arena_commit(all[i], err) : HY_OK;
    if (st != HY_OK) return st;
    hy_arena_rewind(all[i]);
  }
  if (allocate) {
    hy_arena_floats(&p->scratch_arena, p->scratch_floats);
    hy_status st = hy_arena_commit(&p->scratch_arena, err);
    if (st != HY_OK) return st;
    p->scratch = hy_arena_floats(&p->scratch_arena, p->scratch_floats);
  }
  p->measuring = 0;
  p->prefix[0] = 0;
  p->depth = 0;
  return HY_OK;
}

hy_status hy_plan_finish(hy_plan *p, hy_error *err) {
  hy_arena *all[] = {&p->params, &p->grads, &p->buffers, &p->acts, &p->dacts};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (hy_arena_overflowed(all[i]) || all[i]->used != all[i]->peak)
      return hy_fail(err, HY_E_ARG, "internal error: the network's second planning walk differs from the first");
  if (p->n_params != p->cap_params)
    return hy_fail(err, HY_E_ARG, "internal error: %d parameters planned, %d placed", p->cap_params, p->n_params);
  return HY_OK;
}

void hy_plan_free(hy_plan *p) {
  hy_arena_free(&p->params);
  hy_arena_free(&p->grads);
  hy_arena_free(&p->buffers);
  hy_arena_free(&p->acts);
  hy_arena_free(&p->dacts);
  hy_arena_free(&p->transient);
  hy_arena_free(&p->scratch_arena);
  free(p->table);
  memset(p, 0, sizeof *p);
}

void hy_plan_push(hy_plan *p, const char *fmt, ...) {
  size_t len = strlen(p->prefix);
  if (p->depth < 16) p->prefix_len[p->depth] = len;
  p->depth++;
  char part[HY_NAME_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(part, sizeof part, fmt, ap);
  va_end(ap);
  snprintf(p->prefix + len, sizeof p->prefix - len, "%s%s", len ? "." : "", part);
}

void hy_plan_pop(hy_plan *p) {
  if (p->depth > 0 && --p->depth < 16) p->prefix[p->prefix_len[p->depth]] = 0;
}

static float *declare(hy_plan *p, const char *name, int is_buffer, float **grad, int ndim, va_list ap) {
  int dims[4] = {1, 1, 1, 1};
  size_t n = 1;
  for (int i = 0; i < ndim && i < 4; i++) {
    dims[i] = va_arg(ap, int);
    n *= (size_t)dims[i];
  }
  float *w = hy_arena_floats(is_buffer ? &p->buffers : &p->params, n);
  float *g = NULL;
  if (!is_buffer && p->mode == HY_TRAIN) g = hy_arena_floats(&p->grads, n);
  if (grad) *grad = g;
  if (p->measuring) {
    p->n_params++;
    return NULL;
  }
  if (p->n_params < p->cap_params) {
    hy_param *t = &p->table[p->n_params];
    char full[2 * HY_NAME_MAX + 2];
    snprintf(full, sizeof full, "%s%s%s", p->prefix, p->prefix[0] ? "." : "", name);
    snprintf(t->name, sizeof t->name, "%.*s", (int)sizeof t->name - 1, full);
    t->ndim = ndim;
    memcpy(t->dims, dims, sizeof dims);
    t->n = n;
    t->w = w;
    t->g = g;
    t->is_buffer = is_buffer;
  }
  p->n_params++;
  return w;
}

float *hy_plan_param(hy_plan *p, const char *name, float **grad, int ndim, ...) {
  va_list ap;
  va_start(ap, ndim);
  float *w = declare(p, name, 0, grad, ndim, ap);
  va_end(ap);
  return w;
}

float *hy_plan_buffer(hy_plan *p, const char *name, int ndim, ...) {
  va_list ap;
  va_start(ap, ndim);
  float *w = declare(p, name, 1, NULL, ndim, ap);
  va_end(ap);
  return w;
}

void hy_plan_module(hy_plan *p) {
  if (p->mode == HY_INFER) hy_arena_rewind(&p->transient);
}

void hy_plan_keep(hy_plan *p, int on) { p->keep += on ? 1 : -1; }

float *hy_plan_act(hy_plan *p, size_t n, float **dact) {
  int transient = p->mode == HY_INFER && p->keep <= 0;
  float *a = hy_arena_floats(transient ? &p->transient : &p->acts, n);
  if (dact) *dact = hy_plan_dact(p, n);
  return a;
}

float *hy_plan_dact(hy_plan *p, size_t n) {
  return p->mode == HY_TRAIN ? hy_arena_floats(&p->dacts, n) : NULL;
}

void hy_plan_scratch(hy_plan *p, size_t n) {
  if (n > p->scratch_floats) p->scratch_floats = n;
}

const hy_param *hy_plan_find(const hy_plan *p, const char *name) {
  for (int i = 0; i < p->n_params; i++)
    if (strcmp(p->table[i].name, name) == 0) return &p->table[i];
  return NULL;
}
