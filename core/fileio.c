#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

hy_status hy_read_file(const char *path, size_t max_bytes, void **data,
                       size_t *len, hy_error *err) {
  *data = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return hy_fail(err, HY_E_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    hy_fail(err, HY_E_IO, "cannot stat %s: %s", path, strerror(errno));
    close(fd);
    return HY_E_IO;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return hy_fail(err, HY_E_IO, "%s is a folder, not a file", path);
  }
  if (st.st_size < 0 || (unsigned long long)st.st_size > max_bytes) {
    close(fd);
    return hy_fail(err, HY_E_LIMIT, "%s is %lld bytes, over the limit of %zu",
                   path, (long long)st.st_size, max_bytes);
  }
  size_t size = (size_t)st.st_size;
  char *buf = malloc(size + 1);
  if (!buf) {
    close(fd);
    return hy_fail(err, HY_E_NOMEM, "cannot allocate %zu bytes for %s", size, path);
  }
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      hy_fail(err, HY_E_IO, "cannot read %s: %s", path, r < 0 ? strerror(errno) : "file shrank while reading");
      free(buf);
      close(fd);
      return HY_E_IO;
    }
    got += (size_t)r;
  }
  close(fd);
  buf[size] = 0;
  *data = buf;
  *len = size;
  return HY_OK;
}

struct hy_sink {
  int fd;
  const char *path; /* borrowed: the target, for messages (the temp is ours) */
  hy_error *err;
};

hy_status hy_sink_write(hy_sink *s, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(s->fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0)
      return hy_fail(s->err, HY_E_IO, "cannot write %s: %s", s->path, strerror(errno));
    p += w;
    len -= (size_t)w;
  }
  return HY_OK;
}

typedef struct {
  const void *data;
  size_t len;
} buffer_ctx;

static hy_status write_buffer(hy_sink *s, void *ctx) {
  buffer_ctx *b = ctx;
  return hy_sink_write(s, b->data, b->len);
}

hy_status hy_write_file_atomic(const char *path, const void *data, size_t len,
                               hy_error *err) {
  buffer_ctx b = {data, len};
  return hy_write_file_atomic_with(path, write_buffer, &b, err);
}

/* The temp file has one fixed name per target, so a writer killed mid-save
 * leaves at most one stray, which the next save of that file reuses (random
 * names would pile up, one per kill). Writers of the same target take turns
 * through an flock on the temp; a waiter may wake holding a file that the
 * previous holder has meanwhile renamed onto the target or removed, so it
 * opens again until what it locked is still the temp. Returns -1 with errno. */
static int open_locked_temp(const char *tmp) {
  for (;;) {
    /* 0666: a new file follows the umask like any other saved file */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {}
    /* without flock (some network file systems) saving still works, only
     * two processes saving the same file at once could mix their bytes */
    struct stat held, named;
    if (fstat(fd, &held) != 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (lstat(tmp, &named) == 0 && named.st_dev == held.st_dev && named.st_ino == held.st_ino)
      return fd;
    close(fd);
  }
}

hy_status hy_write_file_atomic_with(const char *path,
                                    hy_status (*produce)(hy_sink *s, void *ctx),
                                    void *ctx, hy_error *err) {
  size_t n = strlen(path);
  char *tmp = malloc(n + sizeof HY_TEMP_SUFFIX);
  char *dir = strdup(path);
  if (!tmp || !dir) {
    free(tmp);
    free(dir);
    return hy_fail(err, HY_E_NOMEM, "cannot allocate a path");
  }
  memcpy(tmp, path, n);
  memcpy(tmp + n, HY_TEMP_SUFFIX, sizeof HY_TEMP_SUFFIX);
  int fd = open_locked_temp(tmp);
  if (fd < 0) {
    hy_fail(err, HY_E_IO, "cannot save %s: %s", path, strerror(errno));
    free(tmp);
    free(dir);
    return HY_E_IO;
  }

  hy_sink sink = {fd, path, err};
  hy_status st = HY_OK;
  /* a stray left by a killed writer holds its partial bytes */
  if (ftruncate(fd, 0) != 0)
    st = hy_fail(err, HY_E_IO, "cannot save %s: %s", path, strerror(errno));
  if (st == HY_OK) st = produce(&sink, ctx);
  if (st == HY_OK && fsync(fd) != 0)
    st = hy_fail(err, HY_E_IO, "cannot write %s: %s", path, strerror(errno));
  /* renamed or removed while still locked, so no waiter can take over a
   * file that is no longer the temp before we are done with it */
  if (st == HY_OK && rename(tmp, path) != 0)
    st = hy_fail(err, HY_E_IO, "cannot replace %s: %s", path, strerror(errno));
  if (st != HY_OK) unlink(tmp);
  close(fd); /* after fsync it has nothing left to report */
  if (st == HY_OK) {
    /* the rename itself must reach the disk too */
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  free(tmp);
  free(dir);
  return st;
}
