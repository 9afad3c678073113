/* The training's random numbers: xoshiro256** (Blackman and Vigna), seeded
 * through splitmix64. Its whole state is four 64-bit words, saved in
 * checkpoints so that a resumed run draws the same numbers. Every draw is a
 * fixed number of steps of the generator, so results are the same on every
 * machine for a given seed. */
#pragma once

#include <stdint.h>

typedef struct hy_rng {
  uint64_t s[4];
} hy_rng;

/* A generator for `seed` (any value; the state is never all zero). */
void hy_rng_seed(hy_rng *r, uint64_t seed);

uint64_t hy_rng_next(hy_rng *r);

/* [0, 1) with 53 random bits: one step. */
double hy_rng_uniform(hy_rng *r);

/* [lo, hi): one step. */
double hy_rng_range(hy_rng *r, double lo, double hi);

/* N(0, 1) by Box-Muller from two uniforms: two steps (the second value is
 * not kept, so the state alone determines the sequence). */
double hy_rng_normal(hy_rng *r);

/* An integer in [0, n), n >= 1, without modulo bias (Lemire): usually one
 * step, occasionally more. */
uint32_t hy_rng_below(hy_rng *r, uint32_t n);
