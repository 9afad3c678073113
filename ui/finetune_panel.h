/* HyFinetunePanel: the fine-tuning side panel (DESIGN §3.5). Shows how
 * many corrected images there are and how many are held out, "Improve
 * model" (and optionally a round every N newly corrected images), the
 * round's progress with steps and time left, the held-out MRE before and
 * after, and the model history with restore. Rounds run in a thread
 * (finetune_job.h), so the window stays responsive; "model-changed" is
 * emitted with the new current model's path when a round is kept or a
 * model restored, so that the window can predict again. */
#pragma once

#include <gtk/gtk.h>

#include "model_store.h"

G_BEGIN_DECLS

#define HY_TYPE_FINETUNE_PANEL (hy_finetune_panel_get_type ())
G_DECLARE_FINAL_TYPE (HyFinetunePanel, hy_finetune_panel, HY, FINETUNE_PANEL, GtkBox)

GtkWidget *hy_finetune_panel_new (void);

/* The store rounds start from and add to (borrowed with a reference). */
void hy_finetune_panel_set_store (HyFinetunePanel *self, HyModelStore *store);

/* The project's annotation files (corrected or not); the panel counts those
 * with a landmark the user moved or confirmed. Call again after a save: a
 * round starts by itself when that is enabled and enough are new. */
void hy_finetune_panel_set_annotations (HyFinetunePanel *self, const char *const *paths);

/* The same with every `*.hyatt.json` in folder. */
void hy_finetune_panel_set_folder (HyFinetunePanel *self, const char *folder);

/* Starts a round now (what "Improve model" does); FALSE when one is
 * running or there are too few corrected images. */
gboolean hy_finetune_panel_improve (HyFinetunePanel *self);

gboolean hy_finetune_panel_is_running (HyFinetunePanel *self);

/* The number of steps of a round (default: core's). */
void hy_finetune_panel_set_steps (HyFinetunePanel *self, int steps);

/* The peak learning rate of a round (0, the default: core's). */
void hy_finetune_panel_set_learning_rate (HyFinetunePanel *self, double lr);

G_END_DECLS
