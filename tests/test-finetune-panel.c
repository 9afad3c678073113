/* HyFinetunePanel under Xvfb: the counts of corrected and held-out images,
 * a round started with "Improve model" running while the main loop turns,
 * "model-changed" with the new model, the history and restore. With
 * HY_PANEL_PNG set, the panel after the round is saved there as a PNG. */
#include <gtk/gtk.h>
#include <string.h>

#include "finetune_panel.h"
#include "finetunetest.h"
#include "testutil.h"

typedef struct changed {
  int count;
  char *path;
} changed;

static void on_model_changed(HyFinetunePanel *panel, const char *path, changed *c) {
  c->count++;
  g_free(c->path);
  c->path = g_strdup(path);
}

static GtkWidget *find_button(GtkWidget *w, const char *label) {
  if (GTK_IS_BUTTON(w) && g_strcmp0(gtk_button_get_label(GTK_BUTTON(w)), label) == 0) return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_button(c, label);
    if (found) return found;
  }
  return NULL;
}

static int count_rows(GtkWidget *w) {
  int n = GTK_IS_LIST_BOX_ROW(w);
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
    n += count_rows(c);
  return n;
}

static gboolean label_contains(GtkWidget *w, const char *text) {
  if (GTK_IS_LABEL(w) && strstr(gtk_label_get_text(GTK_LABEL(w)), text)) return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
    if (label_contains(c, text)) return TRUE;
  return FALSE;
}

static void save_png(GtkWidget *w, const char *path) {
  GdkPaintable *p = gtk_widget_paintable_new(w);
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GtkSnapshot *s = gtk_snapshot_new();
  gdk_paintable_snapshot(p, s, width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(s);
  GskRenderer *r = gtk_native_get_renderer(gtk_widget_get_native(w));
  GdkTexture *t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  gdk_texture_save_to_png(t, path);
  g_object_unref(t);
  gsk_render_node_unref(node);
  g_object_unref(p);
}

static void test_round(void) {
  g_autofree char *shipped = ft_tiny_model("shipped-panel.hyatt");
  g_autofree char *dir = g_build_filename(tu_tmpdir(), "panel", NULL);
  g_autofree char *store_dir = g_build_filename(dir, "models", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autoptr(GPtrArray) paths = ft_corrected_set(dir, "p", 5, NULL, 0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(HyModelStore) store = hy_model_store_new(store_dir, shipped, &error);
  g_assert_no_error(error);

  GtkWidget *window = gtk_window_new();
  GtkWidget *panel = hy_finetune_panel_new();
  gtk_window_set_child(GTK_WINDOW(window), panel);
  gtk_window_set_default_size(GTK_WINDOW(window), 360, 480);
  changed c = {0};
  g_signal_connect(panel, "model-changed", G_CALLBACK(on_model_changed), &c);
  HyFinetunePanel *fp = HY_FINETUNE_PANEL(panel);
  hy_finetune_panel_set_steps(fp, 20);
  GtkWidget *improve = find_button(panel, "_Improve Model");
  g_assert_nonnull(improve);
  g_assert_false(gtk_widget_get_sensitive(improve)); /* no store, no images yet */
  hy_finetune_panel_set_store(fp, store);
  hy_finetune_panel_set_folder(fp, dir);
  g_assert_true(label_contains(panel, "5 corrected images, 1 held out"));
  g_assert_true(gtk_widget_get_sensitive(improve));
  gtk_window_present(GTK_WINDOW(window));

  g_signal_emit_by_name(improve, "clicked");
  g_assert_true(hy_finetune_panel_is_running(fp));
  g_assert_false(gtk_widget_get_sensitive(improve));
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (hy_finetune_panel_is_running(fp) && g_get_monotonic_time() < deadline)
    g_main_context_iteration(NULL, TRUE);
  g_assert_false(hy_finetune_panel_is_running(fp));
  g_assert_cmpint(c.count, ==, 1);
  g_autoptr(HyModelRecord) cur = hy_model_store_current(store, &error);
  g_assert_cmpstr(c.path, ==, cur->path);
  g_assert_false(cur->shipped);
  g_assert_true(label_contains(panel, "is now current"));
  g_assert_cmpint(count_rows(panel), ==, 2);
  for (int i = 0; i < 10; i++) g_main_context_iteration(NULL, FALSE);
  const char *png = g_getenv("HY_PANEL_PNG");
  if (png) save_png(panel, png);

  /* restore the shipped model from the history */
  GtkWidget *restore = find_button(panel, "Restore");
  g_assert_nonnull(restore);
  g_signal_emit_by_name(restore, "clicked");
  g_assert_cmpint(c.count, ==, 2);
  g_autoptr(HyModelRecord) back = hy_model_store_current(store, &error);
  g_assert_true(back->shipped);
  g_assert_cmpstr(c.path, ==, back->path);
  g_free(c.path);
  gtk_window_destroy(GTK_WINDOW(window));
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  g_test_add_func("/finetune-panel/round", test_round);
  return g_test_run();
}
