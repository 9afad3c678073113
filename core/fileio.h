/* Whole-file reads with a size cap, and atomic writes (temp file in the same
 * folder, fsync, rename, fsync of the folder): a reader sees the old file or
 * the new one, never a part, whatever happens to the process. */
#pragma once

#include <stddef.h>

#include "error.h"

/* What a save appends to the target's name for its temp file (one per
 * target, reused; see hy_write_file_atomic_with). */
#define HY_TEMP_SUFFIX ".tmp-save"

/* Reads all of path into a new buffer (freed with free(); one extra NUL byte
 * follows the data, so text can be parsed in place). Files larger than
 * max_bytes are refused with HY_E_LIMIT before reading. */
hy_status hy_read_file(const char *path, size_t max_bytes, void **data,
                       size_t *len, hy_error *err);

/* Replaces path with exactly `len` bytes of data, atomically. On failure the
 * old file is untouched and no temp file is left behind; a process killed
 * while saving leaves at most one, path HY_TEMP_SUFFIX, which the next save
 * of path reuses. */
hy_status hy_write_file_atomic(const char *path, const void *data, size_t len,
                               hy_error *err);

/* The same, for content produced piecewise: write() calls `produce` with a
 * sink; produce returns 0 on success. */
typedef struct hy_sink hy_sink;
hy_status hy_sink_write(hy_sink *s, const void *data, size_t len);
hy_status hy_write_file_atomic_with(const char *path,
                                    hy_status (*produce)(hy_sink *s, void *ctx),
                                    void *ctx, hy_error *err);
