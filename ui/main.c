/* hyatt-studio: the GTK front end. Sets up translations and runs the
 * application; everything else lives in HyApplication and HyWindow. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "application.h"
#include "blas.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(HyApplication) app = NULL;
  const char *localedir;

  hy_blas_init (); /* sets an environment variable: before any thread starts */
  setlocale (LC_ALL, "");
  /* HYATT_LOCALEDIR: the .mo files of a build tree instead of the
   * installed ones, as for `hyatt`. */
  localedir = g_getenv ("HYATT_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = hy_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
