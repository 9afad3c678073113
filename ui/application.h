/* HyApplication: the GtkApplication of hyatt-studio. Owns the app-wide
 * actions (open, about, quit) and their accelerators, and opens each file it
 * is given in a window of its own. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HY_TYPE_APPLICATION (hy_application_get_type ())

G_DECLARE_FINAL_TYPE (HyApplication, hy_application, HY, APPLICATION, GtkApplication)

HyApplication *hy_application_new (void);

G_END_DECLS
