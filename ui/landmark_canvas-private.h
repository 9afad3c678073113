/* Test hooks of HyLandmarkCanvas: GTK 4 has no public way to synthesise
 * pointer or key events, so tests drive the same code the gestures and the
 * key controller call. Not for application code. */
#pragma once

#include "landmark_canvas.h"

G_BEGIN_DECLS

/* A primary-button press at widget point (x, y), a motion by (dx, dy) in
 * steps, and the release there. */
void     hy_landmark_canvas_test_drag (HyLandmarkCanvas *self,
                                       double            x,
                                       double            y,
                                       double            dx,
                                       double            dy);

/* A key press; TRUE when the canvas handled it. */
gboolean hy_landmark_canvas_test_key  (HyLandmarkCanvas *self,
                                       guint             keyval,
                                       GdkModifierType   state);

G_END_DECLS
