#include "blas.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Exported by every OpenBLAS build (pthreads and OpenMP), not declared in
 * cblas.h: re-read the OPENBLAS_* environment; stop the worker threads (the
 * next threaded call starts them again, with the timeout just read). */
void openblas_read_env(void);
int blas_thread_shutdown_(void);

/* OpenBLAS's idle workers spin on sched_yield for 2^28 cycles (~0.1 s)
 * after every threaded call before they sleep. Between two sgemms the
 * network runs its own pool's jobs, whose threads then share the cores
 * with the spinning workers: on 2 cores that cost a quarter of a forward
 * pass. 2^4 cycles makes them sleep at once; waking one per sgemm costs
 * microseconds. A user's own OPENBLAS_THREAD_TIMEOUT wins. */
static void quiet_workers(void) {
  if (getenv("OPENBLAS_THREAD_TIMEOUT")) return;
  setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
  openblas_read_env();
  blas_thread_shutdown_();
}

void hy_blas_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, quiet_workers);
}

void hy_blas_set_threads(int n) {
  hy_blas_init();
  openblas_set_num_threads(n < 1 ? 1 : n);
}

int hy_blas_threads(void) { return openblas_get_num_threads(); }

const char *hy_blas_describe(char *buf, int size) {
  static const char *const kinds[] = {"sequential", "pthreads", "OpenMP"};
  int par = openblas_get_parallel();
  snprintf(buf, (size_t)size, "%s; core %s; %s", openblas_get_config(),
           openblas_get_corename(), par >= 0 && par <= 2 ? kinds[par] : "?");
  return buf;
}
