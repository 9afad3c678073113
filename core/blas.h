/* The one place libhyatt talks to OpenBLAS about threads. The setting is
 * process-global (OpenBLAS 0.3.21 has no per-thread control), so only the
 * thread that owns a model may change it. */
#pragma once

/* Once per process, before the first threaded sgemm: makes OpenBLAS's idle
 * workers sleep at once instead of spinning beside the pool's threads (see
 * blas.c). It sets an environment variable, so programs call it first thing
 * in main(), before any thread exists; hy_blas_set_threads and
 * hy_pool_create call it too for other users of the library. */
void hy_blas_init(void);

/* Sets OpenBLAS's thread count (>= 1). */
void hy_blas_set_threads(int n);
int hy_blas_threads(void);

/* "OpenBLAS 0.3.21 ... Haswell, pthreads": config, core name, threading. */
const char *hy_blas_describe(char *buf, int size);
