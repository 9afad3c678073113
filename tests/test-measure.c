/* core/measure.h: angles, distances and ratios on hand-made points with
 * answers known exactly, the sign conventions and their mirroring, the
 * evaluation of weighted sums, classification at the class bounds (the
 * ISBI 2015 thresholds of ANB and MW), and every refusal. The shipped
 * definitions and the data set checks are in test-landmark-set.c. */
#include <math.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

#define EPS 1e-12

static hy_point P(double x, double y) {
  return (hy_point){x, y};
}

static void test_angle(void) {
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(1, 0), P(0, 0), P(0, 1)), 90, EPS);
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(0, 1), P(0, 0), P(1, 0)), 90, EPS);
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(5, 3), P(4, 3), P(5, 4)), 45, EPS);
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(1, 0), P(0, 0), P(-2, 0)), 180, EPS);
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(1, 0), P(0, 0), P(7, 0)), 0, EPS);
  /* 3-4-5 triangle: atan(4/3) and its complement */
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(3, 0), P(0, 0), P(3, 4)), 53.13010235415598, 1e-11);
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(0, 0), P(3, 4), P(3, 0)), 36.86989764584402, 1e-11);
  /* 120° at the vertex: cos = -1/2 */
  g_assert_cmpfloat_with_epsilon(hy_angle_deg(P(-1, 0), P(0, 0), P(1, sqrt(3))), 120, 1e-12);
  g_assert_true(isnan(hy_angle_deg(P(0, 0), P(0, 0), P(1, 0))));
  g_assert_true(isnan(hy_angle_deg(P(1, 0), P(0, 0), P(0, 0))));
}

static void test_line_angle(void) {
  /* directed lines: from -> to */
  g_assert_cmpfloat_with_epsilon(hy_line_angle_deg(P(0, 0), P(1, 0), P(5, 5), P(5, 9)), 90, EPS);
  g_assert_cmpfloat_with_epsilon(hy_line_angle_deg(P(0, 0), P(1, 0), P(5, 5), P(2, 5)), 180, EPS);
  g_assert_cmpfloat_with_epsilon(hy_line_angle_deg(P(0, 0), P(2, 2), P(1, 0), P(1, -3)), 135, EPS);
  /* signed, on the screen (y down): turning right to down is clockwise */
  g_assert_cmpfloat_with_epsilon(hy_signed_line_angle_deg(P(0, 0), P(1, 0), P(3, 3), P(3, 4)), 90, EPS);
  g_assert_cmpfloat_with_epsilon(hy_signed_line_angle_deg(P(0, 0), P(1, 0), P(3, 3), P(3, 2)), -90, EPS);
  g_assert_cmpfloat_with_epsilon(hy_signed_line_angle_deg(P(0, 0), P(1, 0), P(0, 0), P(-1, 0)), 180, EPS);
  g_assert_cmpfloat_with_epsilon(hy_signed_line_angle_deg(P(0, 0), P(1, 1), P(0, 0), P(1, 0)), -45, EPS);
  g_assert_cmpfloat_with_epsilon(hy_signed_line_angle_deg(P(0, 0), P(-4, 3), P(0, 0), P(-4, 3)), 0, EPS);
  /* 180° is +180 whatever the signs of the zeros: the range is (-180, 180] */
  g_assert_cmpfloat(hy_signed_line_angle_deg(P(0, 0), P(1, -0.0), P(0, 0), P(-1, 0.0)), ==, 180);
  g_assert_cmpfloat(hy_signed_line_angle_deg(P(0, 0), P(1, 0.0), P(0, 0), P(-1, -0.0)), ==, 180);
  g_assert_cmpfloat(hy_signed_line_angle_deg(P(0, 0), P(1, -0.0), P(0, 0), P(-1, -0.0)), ==, 180);
  g_assert_true(isnan(hy_line_angle_deg(P(1, 1), P(1, 1), P(0, 0), P(1, 0))));
  g_assert_true(isnan(hy_signed_line_angle_deg(P(0, 0), P(1, 0), P(2, 2), P(2, 2))));
}

static void test_distance(void) {
  g_assert_cmpfloat_with_epsilon(hy_distance_mm(P(1, 1), P(4, 5), 1), 5, EPS);
  g_assert_cmpfloat_with_epsilon(hy_distance_mm(P(1, 1), P(4, 5), 0.1), 0.5, EPS);
  g_assert_cmpfloat_with_epsilon(hy_distance_mm(P(2, 2), P(2, 2), 0.1), 0, EPS);
  /* walking right along y = 0, a point below (y > 0) is on the right */
  g_assert_cmpfloat_with_epsilon(hy_point_line_distance_mm(P(7, 3), P(0, 0), P(1, 0), 0.5), 1.5, EPS);
  g_assert_cmpfloat_with_epsilon(hy_point_line_distance_mm(P(7, -3), P(0, 0), P(1, 0), 0.5), -1.5, EPS);
  g_assert_cmpfloat_with_epsilon(hy_point_line_distance_mm(P(7, 3), P(1, 0), P(0, 0), 0.5), -1.5, EPS);
  /* the line x + y = 2 through (2,0) and (0,2); (2,2) is sqrt(2) from it */
  g_assert_cmpfloat_with_epsilon(hy_point_line_distance_mm(P(2, 2), P(2, 0), P(0, 2), 1), -sqrt(2), EPS);
  g_assert_cmpfloat_with_epsilon(hy_point_line_distance_mm(P(1, 1), P(2, 0), P(0, 2), 1), 0, EPS);
  g_assert_true(isnan(hy_point_line_distance_mm(P(1, 1), P(2, 0), P(2, 0), 1)));
}

static void test_kinds(void) {
  for (int k = 0; k < HY_MEASURE_N_KINDS; k++) {
    g_assert_cmpint(hy_measure_kind_from_name(hy_measure_kind_name(k)), ==, k);
    g_assert_cmpint(hy_measure_kind_points(k), >=, 2);
    g_assert_cmpint(hy_measure_kind_points(k), <=, HY_MEASURE_MAX_POINTS);
  }
  g_assert_cmpint(hy_measure_kind_from_name("angel"), ==, -1);
  g_assert_cmpint(hy_measure_kind_from_name(NULL), ==, -1);
  g_assert_cmpint(hy_measure_kind_unit(HY_MEASURE_POINT_LINE), ==, HY_MEASURE_MM);
  g_assert_cmpint(hy_measure_kind_unit(HY_MEASURE_DISTANCE_RATIO), ==, HY_MEASURE_RATIO);
  g_assert_cmpstr(hy_measure_unit_symbol(HY_MEASURE_DEGREES), ==, "\xC2\xB0");
}

static hy_measure_term term(hy_measure_kind kind, double weight, int a, int b, int c, int d) {
  return (hy_measure_term){kind, weight, {a, b, c, d}};
}

static double eval_ok(const hy_measurement *m, const hy_point *p, int n, double spacing,
                      int facing) {
  double v;
  hy_error err = {0};
  g_assert_cmpint(hy_measurement_check(m, n, &err), ==, HY_OK);
  if (hy_measurement_eval(&v, m, p, n, spacing, facing, &err) != HY_OK) g_error("%s", err.msg);
  return v;
}

/* "ANB" on made-up points: S-N-A = 135°, S-N-B = 120°. */
static void test_eval_sum(void) {
  hy_point p[4] = {P(-10, 0), P(0, 0), P(10, 10), P(1, sqrt(3))}; /* S N A B */
  hy_measurement m = {.id = "ANB", .n_terms = 2};
  m.terms[0] = term(HY_MEASURE_ANGLE, 1, 0, 1, 2, 0);
  m.terms[1] = term(HY_MEASURE_ANGLE, -1, 0, 1, 3, 0);
  g_assert_cmpfloat_with_epsilon(eval_ok(&m, p, 4, 0.1, 1), 15, 1e-12);
  /* angles do not depend on the spacing, nor on the facing */
  g_assert_cmpfloat_with_epsilon(eval_ok(&m, p, 4, 7, -1), 15, 1e-12);
  g_assert_cmpint(hy_measurement_unit(&m), ==, HY_MEASURE_DEGREES);

  hy_measurement r = {.id = "ratio", .n_terms = 1};
  r.terms[0] = term(HY_MEASURE_DISTANCE_RATIO, 1, 0, 1, 1, 2); /* |SN| / |NA| */
  g_assert_cmpfloat_with_epsilon(eval_ok(&r, p, 4, 0.3, 1), 10 / sqrt(200), 1e-12);

  /* a weighted sum of distances: 2 |SN| - |NB| = 2·10 - 2, times 0.5 mm */
  hy_measurement d = {.id = "sum", .n_terms = 2};
  d.terms[0] = term(HY_MEASURE_DISTANCE, 2, 0, 1, 0, 0);
  d.terms[1] = term(HY_MEASURE_DISTANCE, -1, 1, 3, 0, 0);
  g_assert_cmpfloat_with_epsilon(eval_ok(&d, p, 4, 0.5, 1), 9, 1e-12);
}

/* Signed terms: a profile facing left is the mirror image of one facing
 * right and must give the same values. */
static void test_eval_mirror(void) {
  hy_point right[4] = {P(0, 0), P(3, 4), P(10, 0), P(10, 10)};
  hy_point left[4];
  for (int i = 0; i < 4; i++) left[i] = P(1000 - right[i].x, right[i].y);
  g_assert_cmpint(hy_measure_facing(right[0], right[2]), ==, 1);
  g_assert_cmpint(hy_measure_facing(left[0], left[2]), ==, -1);

  hy_measurement mw = {.id = "MW", .n_terms = 1};
  mw.terms[0] = term(HY_MEASURE_ANTERIOR_DISTANCE, 1, 0, 1, 0, 0);
  g_assert_cmpfloat_with_epsilon(eval_ok(&mw, right, 4, 0.1, 1), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(eval_ok(&mw, left, 4, 0.1, -1), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(eval_ok(&mw, left, 4, 0.1, 1), -0.5, 1e-12);
  mw.terms[0] = term(HY_MEASURE_ANTERIOR_DISTANCE, 1, 1, 0, 0, 0); /* behind: negative */
  g_assert_cmpfloat_with_epsilon(eval_ok(&mw, right, 4, 0.1, 1), -0.5, 1e-12);

  hy_measurement sa = {.id = "signed", .n_terms = 1};
  sa.terms[0] = term(HY_MEASURE_SIGNED_LINE_ANGLE, 1, 0, 2, 2, 3); /* right, then down */
  g_assert_cmpfloat_with_epsilon(eval_ok(&sa, right, 4, 0.1, 1), 90, 1e-12);
  g_assert_cmpfloat_with_epsilon(eval_ok(&sa, left, 4, 0.1, -1), 90, 1e-12);

  hy_measurement pl = {.id = "point-line", .n_terms = 1};
  pl.terms[0] = term(HY_MEASURE_POINT_LINE, 1, 1, 0, 2, 0); /* (3,4) from y = 0 */
  g_assert_cmpfloat_with_epsilon(eval_ok(&pl, right, 4, 0.25, 1), 1, 1e-12);
  g_assert_cmpfloat_with_epsilon(eval_ok(&pl, left, 4, 0.25, -1), 1, 1e-12);
}

static void assert_error(hy_status got, hy_status want, const hy_error *err, const char *words) {
  g_assert_cmpint(got, ==, want);
  if (!strstr(err->msg, words)) g_error("message '%s' lacks '%s'", err->msg, words);
  g_assert_null(strchr(err->msg, '\n'));
}

static void test_eval_refusals(void) {
  hy_point p[3] = {P(0, 0), P(0, 0), P(5, 5)};
  hy_measurement m = {.id = "SNA", .n_terms = 1};
  m.terms[0] = term(HY_MEASURE_ANGLE, 1, 0, 1, 2, 0);
  double v = 0;
  hy_error err = {0};
  assert_error(hy_measurement_eval(&v, &m, p, 3, 0.1, 1, &err), HY_E_NUMERIC, &err,
               "SNA: angle of landmarks 1, 2, 3 is undefined");
  g_assert_true(isnan(v));
  p[1] = P(NAN, 1);
  assert_error(hy_measurement_eval(&v, &m, p, 3, 0.1, 1, &err), HY_E_NUMERIC, &err,
               "landmark 2 has no finite position");
  p[1] = P(1, 1);
  assert_error(hy_measurement_eval(&v, &m, p, 2, 0.1, 1, &err), HY_E_ARG, &err,
               "landmark 3 needed, only 2 given");
  assert_error(hy_measurement_eval(&v, &m, p, 3, 0, 1, &err), HY_E_ARG, &err, "spacing");
  assert_error(hy_measurement_eval(&v, &m, p, 3, NAN, 1, &err), HY_E_ARG, &err, "spacing");
  assert_error(hy_measurement_eval(&v, &m, p, 3, 0.1, 0, &err), HY_E_ARG, &err, "facing");
  g_assert_cmpint(hy_measurement_eval(&v, &m, p, 3, 0.1, 1, &err), ==, HY_OK);
  g_assert_cmpfloat_with_epsilon(v, 180, 1e-12); /* (0,0) (1,1) (5,5): a straight line */
}

static void test_check(void) {
  hy_error err = {0};
  hy_measurement m = {.id = "X", .n_terms = 0};
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err, "X: 0 terms");
  m.n_terms = 1;
  m.terms[0] = term(HY_MEASURE_ANGLE, 1, 0, 1, 19, 0);
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err,
               "term 1 refers to landmark 20, the set has 1 to 19");
  m.terms[0] = term(HY_MEASURE_ANGLE, 1, 0, 1, -1, 0);
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err, "landmark 0");
  m.terms[0] = term(HY_MEASURE_ANGLE, 0, 0, 1, 2, 0);
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err, "weight 0");
  m.terms[0] = term((hy_measure_kind)99, 1, 0, 1, 2, 0);
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err, "unknown kind 99");
  m.n_terms = 2;
  m.terms[0] = term(HY_MEASURE_ANGLE, 1, 0, 1, 2, 0);
  m.terms[1] = term(HY_MEASURE_DISTANCE, 1, 0, 1, 0, 0);
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err,
               "term 2 (distance) is in other units than term 1 (angle)");
  m.n_terms = 1;
  m.n_classes = 1;
  m.classes[0] = (hy_measure_class){1, "bad", 5, 4, 0, 0};
  assert_error(hy_measurement_check(&m, 19, &err), HY_E_ARG, &err, "class 1 has bounds 5 to 4");
  m.classes[0] = (hy_measure_class){1, "ok", 4, 5, 0, 0};
  g_assert_cmpint(hy_measurement_check(&m, 19, &err), ==, HY_OK);
}

/* ANB as the ISBI 2015 challenge classes it: 1 for 3.2 to 5.7 (both
 * included), 2 above, 3 below; the values just beside each bound fall
 * on the other side. */
static void test_classify_anb(void) {
  hy_measurement m = {.id = "ANB", .n_terms = 1, .n_classes = 3};
  m.terms[0] = term(HY_MEASURE_ANGLE, 1, 0, 1, 2, 0);
  m.classes[0] = (hy_measure_class){1, "Class I", 3.2, 5.7, 0, 0};
  m.classes[1] = (hy_measure_class){2, "Class II", 5.7, HUGE_VAL, 1, 0};
  m.classes[2] = (hy_measure_class){3, "Class III", -HUGE_VAL, 3.2, 0, 1};
  hy_error err = {0};
  g_assert_cmpint(hy_measurement_check(&m, 3, &err), ==, HY_OK);
  const struct { double v; int cls; } cases[] = {
    {3.2, 1}, {nextafter(3.2, -1e9), 3}, {5.7, 1}, {nextafter(5.7, 1e9), 2}, {4.5, 1},
    {-20, 3}, {40, 2}, {-HUGE_VAL, 3}, {HUGE_VAL, 2},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const hy_measure_class *c = hy_measurement_classify(&m, cases[i].v);
    if (!c || c->number != cases[i].cls)
      g_error("ANB %.17g: class %d, expected %d", cases[i].v, c ? c->number : 0, cases[i].cls);
  }
  g_assert_null(hy_measurement_classify(&m, NAN));
}

/* MW: 1 for 2 to 4.5 mm, 2 for exactly 0, 3 below 0, 4 above 4.5; the
 * values between 0 and 2 are in no class. */
static void test_classify_mw(void) {
  hy_measurement m = {.id = "MW", .n_terms = 1, .n_classes = 4};
  m.terms[0] = term(HY_MEASURE_ANTERIOR_DISTANCE, 1, 0, 1, 0, 0);
  m.classes[0] = (hy_measure_class){1, "Normal", 2, 4.5, 0, 0};
  m.classes[1] = (hy_measure_class){2, "Edge to edge", 0, 0, 0, 0};
  m.classes[2] = (hy_measure_class){3, "Anterior cross bite", -HUGE_VAL, 0, 0, 1};
  m.classes[3] = (hy_measure_class){4, "Large overjet", 4.5, HUGE_VAL, 1, 0};
  const struct { double v; int cls; } cases[] = {
    {2, 1}, {4.5, 1}, {nextafter(4.5, 9), 4}, {0, 2}, {-0.0, 2}, {nextafter(0, -1), 3},
    {nextafter(0, 1), 0}, {1, 0}, {nextafter(2, 0), 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const hy_measure_class *c = hy_measurement_classify(&m, cases[i].v);
    int got = c ? c->number : 0;
    if (got != cases[i].cls) g_error("MW %.17g: class %d, expected %d", cases[i].v, got, cases[i].cls);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/measure/angle", test_angle);
  g_test_add_func("/measure/line-angle", test_line_angle);
  g_test_add_func("/measure/distance", test_distance);
  g_test_add_func("/measure/kinds", test_kinds);
  g_test_add_func("/measure/eval-sum", test_eval_sum);
  g_test_add_func("/measure/eval-mirror", test_eval_mirror);
  g_test_add_func("/measure/eval-refusals", test_eval_refusals);
  g_test_add_func("/measure/check", test_check);
  g_test_add_func("/measure/classify-anb", test_classify_anb);
  g_test_add_func("/measure/classify-mw", test_classify_mw);
  return g_test_run();
}
