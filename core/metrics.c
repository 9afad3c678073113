#include "metrics.h"

#include <math.h>
#include <string.h>

const double hy_sdr_radii_mm[HY_SDR_RADII] = {2.0, 2.5, 3.0, 4.0};

void hy_radial_errors_mm(double *out, const hy_point *pred, const hy_point *ref, int n,
                         double spacing_mm) {
  for (int k = 0; k < n; k++) {
    double d = hypot(pred[k].x - ref[k].x, pred[k].y - ref[k].y) * spacing_mm;
    out[k] = isfinite(d) ? d : INFINITY;
  }
}

void hy_error_stats_compute(hy_error_stats *out, const double *errors, size_t n,
                            size_t stride) {
  memset(out, 0, sizeof *out);
  out->n = n;
  if (n == 0) return;
  double sum = 0;
  size_t hits[HY_SDR_RADII] = {0};
  for (size_t i = 0; i < n; i++) {
    double e = errors[i * stride];
    sum += e;
    for (int r = 0; r < HY_SDR_RADII; r++) hits[r] += e <= hy_sdr_radii_mm[r];
  }
  double mean = sum / (double)n, var = 0;
  for (size_t i = 0; i < n; i++) {
    double d = errors[i * stride] - mean;
    var += d * d;
  }
  out->mre_mm = mean;
  out->sd_mm = isfinite(mean) ? sqrt(var / (double)n) : INFINITY;
  for (int r = 0; r < HY_SDR_RADII; r++) out->sdr[r] = (double)hits[r] / (double)n;
}
