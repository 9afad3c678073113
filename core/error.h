/* Status codes and one-line error messages for libhyatt.
 * The library never exits or aborts on bad input: every fallible function
 * returns a hy_status and, when given a non-NULL hy_error, fills it. */
#pragma once

typedef enum hy_status {
  HY_OK = 0,
  HY_E_IO,        /* a file could not be opened, read or written */
  HY_E_FORMAT,    /* malformed, truncated or unsupported data */
  HY_E_LIMIT,     /* over a safety limit (size, count, memory) */
  HY_E_NOMEM,     /* an allocation failed */
  HY_E_ARG,       /* invalid argument or shape */
  HY_E_NUMERIC,   /* NaN or Inf where a finite value is required */
  HY_E_CANCELLED, /* stopped on request */
} hy_status;

typedef struct hy_error {
  hy_status status;
  const char *file; /* borrowed: __FILE__ of the failure */
  int line;
  char msg[512];    /* one line, no trailing newline */
} hy_error;

#if defined(__GNUC__)
#define HY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HY_PRINTF(a, b)
#endif

/* Fills err (if not NULL) and returns st, so callers can `return hy_fail(...)`. */
hy_status hy_error_set_at(hy_error *err, hy_status st, const char *file,
                          int line, const char *fmt, ...) HY_PRINTF(5, 6);
#define hy_fail(err, st, ...) \
  hy_error_set_at((err), (st), __FILE__, __LINE__, __VA_ARGS__)

/* Short English name of a status ("I/O error", "bad format", ...). */
const char *hy_status_name(hy_status st);

/* Resets err to HY_OK with an empty message. */
void hy_error_clear(hy_error *err);
