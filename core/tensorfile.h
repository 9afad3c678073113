/* The .hyatt container (DESIGN §4.1): model files, checkpoints and test
 * fixtures. Little-endian throughout:
 *
 *   off  size  field
 *   0    8     magic "HYATTNET"
 *   8    4     u32 version (HY_TENSORFILE_VERSION)
 *   12   4     u32 header_bytes = H
 *   16   H     UTF-8 text, "key = value" lines ('\n' separated; keys are
 *              [A-Za-z0-9_.-]+, values run to the end of the line, trimmed)
 *   16+H 4     u32 tensor_count = T
 *        ...   T entries:
 *                u16 name_len (1..255), name bytes ([A-Za-z0-9_.-/@]),
 *                u8 dtype (1 = f32, 2 = i32), u8 ndim (0..8),
 *                u32 dims[ndim], u64 offset, u64 nbytes, u32 crc32(data)
 *        4     u32 crc32 of every byte from 0 to the end of the entries
 *   then the data: each tensor at its absolute offset, a multiple of 64,
 *   zero padding between; tensors do not overlap; the file ends at the end
 *   of the last tensor. nbytes = product(dims) * 4.
 *
 * Every count, size and offset is validated against the file size before
 * anything is allocated from it; writing goes through a temp file, fsync
 * and rename, so a reader sees the old file or the new one, never a part. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HY_TENSORFILE_VERSION 1u
#define HY_TENSOR_MAX_DIMS 8
#define HY_ALIGN_TENSOR 64

typedef enum hy_dtype { HY_F32 = 1, HY_I32 = 2 } hy_dtype;

typedef struct hy_tensor_entry {
  char name[256];
  hy_dtype dtype;
  int ndim;
  int64_t dims[HY_TENSOR_MAX_DIMS];
  uint64_t offset; /* absolute, in the file */
  uint64_t nbytes;
  uint32_t crc;
  const void *data; /* borrowed: points into hy_tensorfile.bytes */
} hy_tensor_entry;

typedef struct hy_tensorfile {
  int n_meta;
  char **keys;   /* owned, n_meta */
  char **values; /* owned, n_meta */
  int n_tensors;
  hy_tensor_entry *tensors; /* owned, n_tensors, file order */
  unsigned char *bytes;     /* owned: the whole file */
  size_t size;
} hy_tensorfile;

/* Reads and fully validates a file (structure, CRCs). max_bytes caps the file
 * size accepted (0: 4 GiB). */
hy_status hy_tensorfile_load(hy_tensorfile **out, const char *path,
                             size_t max_bytes, hy_error *err);
/* The same for n bytes in memory, which are copied (the tensors point into
 * the copy); messages name `name` (NULL: "tensor data"). */
hy_status hy_tensorfile_parse(hy_tensorfile **out, const void *bytes, size_t n,
                              const char *name, hy_error *err);
void hy_tensorfile_free(hy_tensorfile *tf);

/* The value of a header key, or NULL. */
const char *hy_tensorfile_meta(const hy_tensorfile *tf, const char *key);

/* The tensor named `name`, or NULL. */
const hy_tensor_entry *hy_tensorfile_find(const hy_tensorfile *tf, const char *name);

/* The f32 data of `name`, checked to hold exactly `count` elements; on
 * failure fills err naming the tensor, the expected and the actual count. */
const float *hy_tensorfile_f32(const hy_tensorfile *tf, const char *name,
                               size_t count, hy_error *err);

/* The CRC-32 (zlib's) of n bytes, the checksum the file uses. */
uint32_t hy_tensorfile_crc32(const void *data, uint64_t n);

/* Writer: collect metadata and borrowed tensor pointers (which must stay
 * valid until hy_tensorfile_writer_save), then write atomically. */
typedef struct hy_tensorfile_writer hy_tensorfile_writer;

hy_tensorfile_writer *hy_tensorfile_writer_new(void);
void hy_tensorfile_writer_free(hy_tensorfile_writer *w);
hy_status hy_tensorfile_writer_meta(hy_tensorfile_writer *w, const char *key,
                                    const char *fmt, ...) HY_PRINTF(3, 4);
hy_status hy_tensorfile_writer_add(hy_tensorfile_writer *w, const char *name,
                                   hy_dtype dtype, const void *data, int ndim,
                                   const int64_t *dims);
hy_status hy_tensorfile_writer_save(hy_tensorfile_writer *w, const char *path,
                                    hy_error *err);
