#include "clitest.h"

#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "hyatt.h"
#include "testutil.h"

void ct_result_clear(ct_result *r) {
  g_free(r->out);
  g_free(r->err);
}

const char *ct_hyatt_bin(void) {
  const char *bin = g_getenv("HYATT_BIN");
  if (!bin) g_error("HYATT_BIN is not set: run this test through meson test");
  return bin;
}

ct_result ct_run(const char *first, ...) {
  const char *bin = ct_hyatt_bin();
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)bin);
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(argv, (char *)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  ct_result r = {0};
  int wait_status = 0;
  GError *error = NULL;
  char **env = g_environ_setenv(g_get_environ(), "LC_ALL", "C.UTF-8", TRUE);
  if (!g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
                    &r.err, &wait_status, &error))
    g_error("cannot run %s: %s", bin, error->message);
  g_strfreev(env);
  g_ptr_array_free(argv, TRUE);
  r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  return r;
}

void ct_assert_status(const ct_result *r, int status) {
  if (r->status != status)
    g_error("exit status %d, expected %d; stdout: '%s'; stderr: '%s'", r->status, status,
            r->out, r->err);
}

void ct_assert_one_line_error(const ct_result *r, const char *prefix, const char *words) {
  const char *nl = strchr(r->err, '\n');
  if (!g_str_has_prefix(r->err, prefix) || !strstr(r->err, words) || !nl || nl[1])
    g_error("stderr '%s' is not one line starting '%s' with '%s'", r->err, prefix, words);
}

char *ct_write_png(const char *name, int w, int h, float checker) {
  hy_image img = {0};
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&img, w, h, &err), ==, HY_OK);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      img.pixels[y * w + x] =
          0.2f + 0.5f * (float)x / (float)w + checker * (float)((x / 8 + y / 8) % 2);
  char *path = g_build_filename(tu_tmpdir(), name, NULL);
  g_assert_cmpint(hy_image_save_png(&img, path, 8, &err), ==, HY_OK);
  hy_image_free(&img);
  return path;
}

void ct_wait_for_lines(const char *path, int lines, int seconds) {
  for (int i = 0; i < 10 * seconds; i++) {
    g_autofree char *text = NULL;
    int n = 0;
    if (g_file_get_contents(path, &text, NULL, NULL))
      for (const char *c = text; *c; c++) n += *c == '\n';
    if (n >= lines) return;
    g_usleep(100000);
  }
}
