#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  const char *path; /* borrowed: the temp file, for messages */
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

hy_status hy_write_file_atomic_with(const char *path,
                                    hy_status (*produce)(hy_sink *s, void *ctx),
                                    void *ctx, hy_error *err) {
  size_t n = strlen(path);
  char *tmp = malloc(n + 16);
  char *dir = strdup(path);
  if (!tmp || !dir) {
    free(tmp);
    free(dir);
    return hy_fail(err, HY_E_NOMEM, "cannot allocate a path");
  }
  snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    hy_fail(err, HY_E_IO, "cannot create a file next to %s: %s", path, strerror(errno));
    free(tmp);
    free(dir);
    return HY_E_IO;
  }
  /* mkstemp creates 0600; saved files should follow the umask like any other */
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);

  hy_sink sink = {fd, tmp, err};
  hy_status st = produce(&sink, ctx);
  if (st == HY_OK && fsync(fd) != 0)
    st = hy_fail(err, HY_E_IO, "cannot flush %s to disk: %s", tmp, strerror(errno));
  if (close(fd) != 0 && st == HY_OK)
    st = hy_fail(err, HY_E_IO, "cannot close %s: %s", tmp, strerror(errno));
  if (st == HY_OK && rename(tmp, path) != 0)
    st = hy_fail(err, HY_E_IO, "cannot replace %s: %s", path, strerror(errno));
  if (st != HY_OK) {
    unlink(tmp);
  } else {
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
