/* hy_model_load on arbitrary bytes (with their CRCs repaired, see
 * crc_repair.h), through a memfd since the loader takes a path. A file that
 * hy_model_inspect accepts is loaded only when its network needs at most
 * FUZZ_NET_BYTES, so one input cannot allocate more than libFuzzer's
 * -malloc_limit_mb; inspect and load must then agree. */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "crc_repair.h"
#include "estimate.h"
#include "model.h"

#define FUZZ_NET_BYTES ((size_t)160 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

static int put(const unsigned char *data, size_t size) {
  if (fd < 0) {
    fd = memfd_create("fuzz-model", MFD_CLOEXEC);
    if (fd < 0) return 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
    if (w <= 0) return 0;
    done += (size_t)w;
  }
  return 1;
}

static void one(const unsigned char *data, size_t size) {
  if (!put(data, size)) __builtin_trap();
  hy_net_config cfg;
  hy_model_info info;
  hy_error err = {0};
  hy_status st = hy_model_inspect(&cfg, &info, path, &err);
  fuzz_check_refusal(st, &err);
  if (st != HY_OK) return;

  hy_plan shape;
  st = hy_net_plan_shape(&shape, &cfg, 1, HY_INFER, 1, &err);
  if (st != HY_OK) __builtin_trap(); /* inspect has planned it already */
  size_t bytes = hy_plan_bytes(&shape);
  hy_plan_free(&shape);
  if (bytes > FUZZ_NET_BYTES) return;

  hy_net *net = NULL;
  hy_model_info loaded;
  st = hy_model_load(&net, &loaded, path, HY_INFER, 1, &err);
  if (st != HY_OK || !net || strcmp(loaded.id, info.id) != 0 ||
      loaded.param_count != info.param_count || loaded.landmark_count != info.landmark_count)
    __builtin_trap();
  hy_net_free(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned char *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  fuzz_repair_crcs(copy, size);
  one(copy, size);
  free(copy);
  return 0;
}
