#include "spacing.h"

#include <glib/gi18n.h>

static const char *const names[] = {"unknown", "dicom", "dataset", "model", "user", "file", "folder"};

const char *hy_spacing_source_to_string(HySpacingSource source) {
  g_return_val_if_fail(source <= HY_SPACING_FOLDER, NULL);
  return names[source];
}

gboolean hy_spacing_source_from_string(const char *s, HySpacingSource *source) {
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (!g_strcmp0(s, names[i])) {
      *source = (HySpacingSource)i;
      return TRUE;
    }
  return FALSE;
}

const char *hy_spacing_source_describe(HySpacingSource source) {
  switch (source) {
  case HY_SPACING_DICOM: return _("from the DICOM header");
  case HY_SPACING_DATASET: return _("from the data set");
  case HY_SPACING_MODEL: return _("from the model's training data");
  case HY_SPACING_USER: return _("entered by the user");
  case HY_SPACING_FILE: return _("from the imported file");
  case HY_SPACING_FOLDER: return _("entered by the user for this folder");
  case HY_SPACING_UNKNOWN: break;
  }
  return _("of unknown origin");
}

static int rank(HySpacingSource source) {
  switch (source) {
  case HY_SPACING_USER: return 5;
  case HY_SPACING_DICOM: return 4;
  case HY_SPACING_FILE: return 3;
  case HY_SPACING_FOLDER: return 2;
  case HY_SPACING_DATASET:
  case HY_SPACING_MODEL: return 1;
  case HY_SPACING_UNKNOWN: break;
  }
  return 0;
}

gboolean hy_spacing_source_overrides(HySpacingSource source, HySpacingSource current) {
  return source == current || rank(source) > rank(current);
}
