#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hy_status hy_error_set_at(hy_error *err, hy_status st, const char *file,
                          int line, const char *fmt, ...) {
  if (!err) return st;
  err->status = st;
  err->file = file;
  err->line = line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  /* Messages are one line: a newline from a caller's %s would break that. */
  for (char *p = err->msg; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return st;
}

const char *hy_status_name(hy_status st) {
  switch (st) {
  case HY_OK: return "ok";
  case HY_E_IO: return "I/O error";
  case HY_E_FORMAT: return "bad format";
  case HY_E_LIMIT: return "over limit";
  case HY_E_NOMEM: return "out of memory";
  case HY_E_ARG: return "invalid argument";
  case HY_E_NUMERIC: return "not a finite number";
  case HY_E_CANCELLED: return "cancelled";
  }
  return "unknown error";
}

void hy_error_clear(hy_error *err) {
  if (!err) return;
  memset(err, 0, sizeof *err);
}
