#include "crc_repair.h"

#include <stdint.h>
#include <zlib.h>

static uint64_t le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t crc(const unsigned char *p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)c;
}

void fuzz_repair_crcs(unsigned char *b, size_t n) {
  if (n < 20) return;
  uint64_t hbytes = le(b + 12, 4);
  if (hbytes > n - 20) return;
  size_t pos = 16 + (size_t)hbytes;
  uint64_t count = le(b + pos, 4);
  pos += 4;
  for (uint64_t i = 0; i < count; i++) {
    if (n - pos < 2) return;
    size_t nlen = (size_t)le(b + pos, 2);
    pos += 2;
    if (n - pos < nlen + 2) return;
    pos += nlen + 1;
    size_t ndim = b[pos++];
    if (ndim > 8 || n - pos < 4 * ndim + 20) return;
    pos += 4 * ndim;
    uint64_t offset = le(b + pos, 8), nbytes = le(b + pos + 8, 8);
    pos += 16;
    if (offset <= n && nbytes <= n - offset && offset >= pos + 4)
      put32(b + pos, crc(b + offset, (size_t)nbytes));
    pos += 4;
  }
  if (n - pos < 4) return;
  put32(b + pos, crc(b, pos));
}
