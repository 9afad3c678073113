/* HyLandmarkList: the side panel's first page: one row per landmark of a
 * document (state icon, abbreviation and name, confidence, distance moved
 * from the prediction) and a details area for the selected one. Follows the
 * document's "changed" signal, during drags too. */
#pragma once

#include <gtk/gtk.h>

#include "document.h"

G_BEGIN_DECLS

#define HY_TYPE_LANDMARK_LIST (hy_landmark_list_get_type ())

G_DECLARE_FINAL_TYPE (HyLandmarkList, hy_landmark_list, HY, LANDMARK_LIST, GtkBox)

/* NULL empties the list. */
void        hy_landmark_list_set_document (HyLandmarkList *self,
                                           HyDocument     *document);
/* -1: none. Does not emit "landmark-activated". */
void        hy_landmark_list_set_selected (HyLandmarkList *self,
                                           int             index);
/* The text of a row's confidence and distance columns, for tests. */
char       *hy_landmark_list_describe_row (HyLandmarkList *self,
                                           int             index);

G_END_DECLS
