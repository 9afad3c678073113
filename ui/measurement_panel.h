/* HyMeasurementPanel: the side panel page of measurements. For the
 * current document's landmarks it lists every measurement of the landmark
 * set (app/analysis.h) with its value, normal range and class, classes
 * outside the normal one highlighted, and above them the pixel spacing and
 * where it came from, with a "Set…" popover to enter one for this image or
 * for all images of its folder ("spacing-entered"; the owner applies it
 * to the document, app/document.h). The owner calls hy_measurement_panel_set_points on
 * every change of the document, a drag included; that only rewrites the
 * labels (the rows are rebuilt when the set changes). */
#pragma once

#include <gtk/gtk.h>

#include "landmark_set.h"

G_BEGIN_DECLS

/* app/annotation.h; declared, not included, so that a file using the canvas
 * (whose header has its own HyLandmarkState) can include this one */
typedef struct HyAnnotation HyAnnotation;

#define HY_TYPE_MEASUREMENT_PANEL (hy_measurement_panel_get_type ())
G_DECLARE_FINAL_TYPE (HyMeasurementPanel, hy_measurement_panel, HY, MEASUREMENT_PANEL, GtkWidget)

GtkWidget *hy_measurement_panel_new        (void);

/* annotation NULL (or set NULL): no document; the panel says so. The set
 * must have annotation's landmark count; the panel keeps a reference. */
void       hy_measurement_panel_set_points (HyMeasurementPanel *self,
                                            const HyAnnotation *annotation,
                                            const HyLandmarkSet *set);

G_END_DECLS
