#include "blas.h"

#include <cblas.h>
#include <stdio.h>

void hy_blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

int hy_blas_threads(void) { return openblas_get_num_threads(); }

const char *hy_blas_describe(char *buf, int size) {
  static const char *const kinds[] = {"sequential", "pthreads", "OpenMP"};
  int par = openblas_get_parallel();
  snprintf(buf, (size_t)size, "%s; core %s; %s", openblas_get_config(),
           openblas_get_corename(), par >= 0 && par <= 2 ? kinds[par] : "?");
  return buf;
}
