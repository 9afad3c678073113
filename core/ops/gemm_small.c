#include "gemm_small.h"

#include "vecmath.h"

enum {
  MR = 6,       /* rows of C per register tile */
  NR = 32,      /* columns per register tile: two zmm; 12 accumulators */
  K_MAX = 128,  /* past this sgemm's packing pays for itself */
  TASK_COLS = 512,
  TASK_ROWS = 96,
};

typedef struct {
  float *C;
  const float *A, *B, *bias_m, *bias_n;
  int ldc, lda, ldb, M, N, K, relu;
  int by_cols; /* tasks split the columns (else the rows) */
} gemm_job;

#if HY_HAVE_V8FMA

int hy_gemm_small_fits(int K) { return hy_cpu_avx512() && K >= 1 && K <= K_MAX; }

/* C[m0 .. m0 + mr)[n0 .. n0 + nc), nc <= 32; mr is a constant after
 * inlining, so the accumulators stay in registers. */
HY_V16 static inline __attribute__((always_inline)) void tile(const gemm_job *j, int m0, int n0,
                                                              int nc, const int mr) {
  __mmask16 k0 = hy_v16mask(nc), k1 = hy_v16mask(nc - 16);
  __m512 acc[MR][2];
  for (int r = 0; r < mr; r++) {
    if (j->bias_m) {
      acc[r][0] = acc[r][1] = _mm512_set1_ps(j->bias_m[m0 + r]);
    } else if (j->bias_n) {
      acc[r][0] = _mm512_maskz_loadu_ps(k0, j->bias_n + n0);
      acc[r][1] = _mm512_maskz_loadu_ps(k1, j->bias_n + n0 + 16);
    } else {
      acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
  }
  const float *a[MR], *b = j->B + n0;
  size_t ldb = (size_t)j->ldb;
  for (int r = 0; r < mr; r++) a[r] = j->A + (size_t)(m0 + r) * j->lda;
  for (int k = 0, K = j->K; k < K; k++, b += ldb) {
    __m512 b0 = _mm512_maskz_loadu_ps(k0, b), b1 = _mm512_maskz_loadu_ps(k1, b + 16);
    for (int r = 0; r < mr; r++) {
      __m512 av = _mm512_set1_ps(a[r][k]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < mr; r++) {
    float *c = j->C + (size_t)(m0 + r) * j->ldc + n0;
    if (j->relu) { /* max(0, NaN) = NaN, as in hy_relu_forward */
      acc[r][0] = _mm512_max_ps(_mm512_setzero_ps(), acc[r][0]);
      acc[r][1] = _mm512_max_ps(_mm512_setzero_ps(), acc[r][1]);
    }
    _mm512_mask_storeu_ps(c, k0, acc[r][0]);
    _mm512_mask_storeu_ps(c + 16, k1, acc[r][1]);
  }
}

HY_V16 static void rows(const gemm_job *j, int m0, int m1, int n0, int nc) {
  int m = m0;
  for (; m + MR <= m1; m += MR) tile(j, m, n0, nc, MR);
  switch (m1 - m) {
  case 5: tile(j, m, n0, nc, 5); break;
  case 4: tile(j, m, n0, nc, 4); break;
  case 3: tile(j, m, n0, nc, 3); break;
  case 2: tile(j, m, n0, nc, 2); break;
  case 1: tile(j, m, n0, nc, 1); break;
  default: break;
  }
}

static void gemm_task(void *p, int task, int thread) {
  const gemm_job *j = p;
  int m0 = 0, m1 = j->M, c0 = 0, c1 = j->N;
  if (j->by_cols) {
    c0 = task * TASK_COLS;
    c1 = c0 + TASK_COLS < j->N ? c0 + TASK_COLS : j->N;
  } else {
    m0 = task * TASK_ROWS;
    m1 = m0 + TASK_ROWS < j->M ? m0 + TASK_ROWS : j->M;
  }
  /* a column block of B (K x 32) is reused by every row tile from L1 */
  for (int n0 = c0; n0 < c1; n0 += NR) rows(j, m0, m1, n0, c1 - n0 < NR ? c1 - n0 : NR);
}

void hy_gemm_small(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                   int N, int K, const float *bias_m, const float *bias_n, int relu,
                   hy_pool *pool) {
  gemm_job j = {C, A, B, bias_m, bias_n, ldc, lda, ldb, M, N, K, relu, N >= M};
  int tasks = j.by_cols ? (N + TASK_COLS - 1) / TASK_COLS : (M + TASK_ROWS - 1) / TASK_ROWS;
  if (!pool || tasks <= 1)
    for (int t = 0; t < tasks; t++) gemm_task(&j, t, 0);
  else
    hy_pool_run(pool, tasks, gemm_task, &j);
}

#else

int hy_gemm_small_fits(int K) {
  (void)K;
  return 0;
}

void hy_gemm_small(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                   int N, int K, const float *bias_m, const float *bias_n, int relu,
                   hy_pool *pool) {
  (void)C, (void)ldc, (void)A, (void)lda, (void)B, (void)ldb, (void)M, (void)N, (void)K;
  (void)bias_m, (void)bias_n, (void)relu, (void)pool;
}

#endif
