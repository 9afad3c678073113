/* The pixel spacing a user entered for a whole folder, kept in the folder
 * as `hyatt-folder.json`:
 *
 *   {"format": "hyatt-folder", "version": 1, "spacing_mm": 0.1}
 *
 * Why a file in the folder and not the spacing written into every image's
 * annotation: a clinician who says "all images in this folder" means the
 * images not opened yet too, and those added later, which have no
 * annotation to write into (and writing one for every image would make
 * them look started in the review queue). Images opened from the folder
 * take it (HY_SPACING_FOLDER) unless they have their own: a DICOM header's,
 * an imported file's or one entered for the image (spacing.h); their
 * annotation then records it, so that a report or export of that file
 * alone says the same. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HY_FOLDER_SETTINGS_FILE "hyatt-folder.json"
#define HY_FOLDER_SETTINGS_FORMAT "hyatt-folder"
#define HY_FOLDER_SETTINGS_VERSION 1

/* The spacing entered for folder (mm per pixel) in *mm, 0 when the folder
 * has no settings file or the file no spacing. A file that cannot be read or
 * is damaged fails with one line naming it (*mm is then 0). */
gboolean hy_folder_spacing_load(const char *folder, double *mm, GError **error);

/* Writes mm (> 0) as folder's spacing, atomically (core/fileio.h): the old
 * file stays intact when that fails (G_IO_ERROR_FAILED, naming the file). */
gboolean hy_folder_spacing_save(const char *folder, double mm, GError **error);

G_END_DECLS
