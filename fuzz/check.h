/* What every loader promises on any input, checked by each fuzz target: a
 * refusal comes with its status in the hy_error and a one-line message. A
 * broken promise traps, which libFuzzer reports as a crash with the input. */
#pragma once

#include <string.h>

#include "error.h"

static inline void fuzz_check_refusal(hy_status st, const hy_error *err) {
  if (st == HY_OK) return;
  const char *end = memchr(err->msg, 0, sizeof err->msg);
  if (err->status != st || !end || end == err->msg || memchr(err->msg, '\n', (size_t)(end - err->msg)))
    __builtin_trap();
}
