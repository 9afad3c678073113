/* Landmark detection metrics (DESIGN §3.6): radial errors in millimetres,
 * their mean (MRE), standard deviation and the successful detection rates
 * (SDR) at 2, 2.5, 3 and 4 mm. The pixel spacing is always the caller's
 * (from the data set's descriptor): nothing here knows a data set. */
#pragma once

#include <stddef.h>

#include "landmarks.h"

#define HY_SDR_RADII 4
/* The radii of the SDR columns, in mm: 2, 2.5, 3, 4. */
extern const double hy_sdr_radii_mm[HY_SDR_RADII];

typedef struct hy_error_stats {
  size_t n;                 /* radial errors summarised */
  double mre_mm;            /* mean radial error */
  double sd_mm;             /* population standard deviation (divides by n) */
  double sdr[HY_SDR_RADII]; /* fraction of errors <= radius, in [0, 1] */
} hy_error_stats;

/* out[k] = |pred[k] - ref[k]| · spacing_mm for k < n (points in the same
 * pixel frame, usually original pixels). A non-finite point gives +Inf. */
void hy_radial_errors_mm(double *out,            /* [n] */
                         const hy_point *pred,   /* [n] */
                         const hy_point *ref,    /* [n] */
                         int n, double spacing_mm);

/* Summarises errors[0], errors[stride], ..., n values (e.g. stride K to
 * pick one landmark of an [images][K] table). Sums run in double in index
 * order. n = 0 gives all zeros; an infinite error counts as a miss in every
 * SDR and makes MRE and SD infinite. */
void hy_error_stats_compute(hy_error_stats *out, const double *errors, size_t n,
                            size_t stride);
