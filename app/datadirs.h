/* Where Hyatt Studio's shipped data (landmark sets, the default model) is
 * found, the same for the CLI, the GUI and the tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The folders that may hold `subdir` ("landmarks", "models"), most
 * important first: the user's data dir, the installed data dir of this
 * build's prefix, the system data dirs, then, only for a program run from
 * the build tree (not installed), the source tree's data/ folder. Each is
 * <dir>/hyatt-studio/<subdir> except the last (data/<subdir>). Free with
 * g_strfreev. */
char **hy_data_dirs(const char *subdir);

G_END_DECLS
