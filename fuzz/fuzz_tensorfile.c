/* hy_tensorfile_parse on arbitrary bytes, once as they are and once with
 * their CRCs repaired (crc_repair.h), so the checks behind them are reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crc_repair.h"
#include "tensorfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches everything a caller may read from a loaded file. */
static void walk(const hy_tensorfile *tf) {
  for (int i = 0; i < tf->n_meta; i++)
    if (!hy_tensorfile_meta(tf, tf->keys[i]) || !tf->values[i]) __builtin_trap();
  unsigned sum = 0;
  for (int i = 0; i < tf->n_tensors; i++) {
    const hy_tensor_entry *e = &tf->tensors[i];
    if (hy_tensorfile_find(tf, e->name) != e) __builtin_trap();
    const unsigned char *p = e->data;
    if (e->nbytes && (p < tf->bytes || e->nbytes > tf->size - (size_t)(p - tf->bytes)))
      __builtin_trap();
    for (uint64_t k = 0; k < e->nbytes; k++) sum += p[k];
    hy_error err = {0};
    const float *f = hy_tensorfile_f32(tf, e->name, (size_t)(e->nbytes / 4), &err);
    if (!f && e->dtype == HY_F32) __builtin_trap();
  }
  if (sum == 0xdeadbeef) __builtin_trap(); /* keeps the reads */
}

static void one(const uint8_t *data, size_t size) {
  hy_tensorfile *tf = NULL;
  hy_error err = {0};
  hy_status st = hy_tensorfile_parse(&tf, data, size, "fuzz.hyatt", &err);
  fuzz_check_refusal(st, &err);
  if (st != HY_OK) {
    if (tf) __builtin_trap();
    return;
  }
  walk(tf);
  hy_tensorfile_free(tf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size);
  unsigned char *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  fuzz_repair_crcs(copy, size);
  if (size == 0 || memcmp(copy, data, size) != 0) one(copy, size);
  free(copy);
  return 0;
}
