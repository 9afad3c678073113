#include "config.h"

#include "datadirs.h"

#include <string.h>

static void add_unique(GPtrArray *dirs, char *dir) {
  for (guint i = 0; i < dirs->len; i++)
    if (strcmp(g_ptr_array_index(dirs, i), dir) == 0) {
      g_free(dir);
      return;
    }
  g_ptr_array_add(dirs, dir);
}

/* A build-tree program finds the data beside its sources, so that
   build/app/hyatt works before `meson install`; an installed one never
   does, so a missing installed file is not hidden by the source tree. */
static gboolean running_uninstalled(void) {
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  return exe && g_str_has_prefix(exe, HY_BUILD_ROOT "/");
}

char **hy_data_dirs(const char *subdir) {
  g_return_val_if_fail(subdir != NULL, NULL);
  GPtrArray *dirs = g_ptr_array_new();
  add_unique(dirs, g_build_filename(g_get_user_data_dir(), "hyatt-studio", subdir, NULL));
  add_unique(dirs, g_build_filename(HY_DATADIR, "hyatt-studio", subdir, NULL));
  for (const char *const *d = g_get_system_data_dirs(); *d; d++)
    add_unique(dirs, g_build_filename(*d, "hyatt-studio", subdir, NULL));
  if (running_uninstalled()) add_unique(dirs, g_build_filename(HY_SOURCE_ROOT, "data", subdir, NULL));
  g_ptr_array_add(dirs, NULL);
  return (char **)g_ptr_array_free(dirs, FALSE);
}
