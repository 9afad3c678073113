/* HyMeasurementPanel (ui/measurement_panel.c) under Xvfb: the ISBI 2015
 * measurements of an annotation appear with value, normal range and class;
 * moving a landmark (as a drag does) updates the values in place; no
 * spacing leaves mm values out and says so; no document shows the empty
 * state. */
#include "config.h"

#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "annotation.h"
#include "measurement_panel.h"

static GtkGrid *
find_grid (GtkWidget *w)
{
  if (GTK_IS_GRID (w))
    return GTK_GRID (w);
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkGrid *g = find_grid (c);
      if (g != NULL)
        return g;
    }
  return NULL;
}

/* The text in column col of the row whose first label is id. */
static const char *
cell_text (HyMeasurementPanel *panel,
           const char         *id,
           int                 col)
{
  GtkGrid *grid = find_grid (GTK_WIDGET (panel));

  for (int r = 1; gtk_grid_get_child_at (grid, 0, r) != NULL; r++)
    if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (gtk_grid_get_child_at (grid, 0, r))), id) == 0)
      return gtk_label_get_label (GTK_LABEL (gtk_grid_get_child_at (grid, col, r)));
  g_error ("no row %s", id);
}

/* Made-up ISBI 2015 landmark positions of a right-facing profile. */
static const double pts[19][2] = {
  {835, 996}, {1473, 1029}, {1289, 1279}, {604, 1228}, {1375, 1654}, {1386, 2017},
  {1333, 2101}, {1263, 2101}, {1272, 1927}, {589, 1498}, {1458, 1724}, {1433, 1729},
  {1555, 1591}, {1538, 1757}, {1319, 2093}, {1495, 1408}, {1394, 1431}, {1345, 1561},
  {712, 1642},
};

static void
test_panel (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HyLandmarkSet) set = hy_landmark_set_new_named ("isbi2015", &error);
  g_autoptr(HyAnnotation) a = hy_annotation_new ("001.bmp", 1935, 2400, "isbi2015", 19);
  GtkWidget *window = gtk_window_new ();
  HyMeasurementPanel *panel = HY_MEASUREMENT_PANEL (hy_measurement_panel_new ());
  char *before;

  g_assert_no_error (error);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (panel));
  gtk_window_present (GTK_WINDOW (window));
  hy_measurement_panel_set_points (panel, NULL, NULL);

  for (int k = 0; k < 19; k++)
    {
      a->points[k].x = pts[k][0];
      a->points[k].y = pts[k][1];
    }
  a->spacing_mm = 0.1;
  a->spacing_source = HY_SPACING_USER;
  hy_measurement_panel_set_points (panel, a, set);
  g_assert_true (g_str_has_suffix (cell_text (panel, "SNA", 1), "\xC2\xB0"));
  g_assert_cmpstr (cell_text (panel, "ANB", 2), ==, "3.2\xE2\x80\x93" "5.7\xC2\xB0");
  g_assert_true (g_str_has_prefix (cell_text (panel, "ANB", 3), "class "));
  g_assert_true (g_str_has_suffix (cell_text (panel, "N-Me", 1), " mm"));
  /* the standard measurements have their adult norms */
  g_assert_cmpstr (cell_text (panel, "SN-MP", 2), ==, "27\xE2\x80\x93" "37\xC2\xB0");
  g_assert_cmpstr (cell_text (panel, "FMA", 2), ==, "20\xE2\x80\x93" "30\xC2\xB0");
  g_assert_cmpstr (cell_text (panel, "ANS-PNS", 2), ==, "49\xE2\x80\x93" "60 mm");
  g_assert_cmpstr (cell_text (panel, "N-Me", 2), ==, "105\xE2\x80\x93" "125 mm");
  g_assert_true (g_str_has_prefix (cell_text (panel, "N-Me", 3), "class "));

  /* a drag of A (landmark 5) forward: SNA and ANB change in place */
  before = g_strdup (cell_text (panel, "SNA", 1));
  a->points[4].x += 60;
  hy_measurement_panel_set_points (panel, a, set);
  g_assert_cmpstr (cell_text (panel, "SNA", 1), !=, before);
  g_free (before);

  /* no spacing: the set's default (the data set's) applies */
  a->spacing_mm = 0;
  hy_measurement_panel_set_points (panel, a, set);
  g_assert_true (g_str_has_suffix (cell_text (panel, "N-Me", 1), " mm"));

  /* an absent landmark: what uses it is not computed, and says why */
  a->points[4].state = HY_LANDMARK_ABSENT;
  hy_measurement_panel_set_points (panel, a, set);
  g_assert_cmpstr (cell_text (panel, "SNA", 1), ==, "\xE2\x80\x94");
  g_assert_cmpstr (cell_text (panel, "SNA", 3), ==, "a landmark is missing");
  g_assert_cmpstr (cell_text (panel, "SNB", 3), !=, "a landmark is missing");

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_setenv ("HYATT_LANDMARKS_DIR", HY_SOURCE_DIR "/data/landmarks", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/measurement-panel/values", test_panel);
  return g_test_run ();
}
