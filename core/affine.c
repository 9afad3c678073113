#include "affine.h"

#include <math.h>

hy_affine hy_affine_identity(void) {
  return (hy_affine){{1, 0, 0, 0, 1, 0}};
}

hy_affine hy_affine_translate(double tx, double ty) {
  return (hy_affine){{1, 0, tx, 0, 1, ty}};
}

hy_affine hy_affine_scale(double sx, double sy, double cx, double cy) {
  return (hy_affine){{sx, 0, cx - sx * cx, 0, sy, cy - sy * cy}};
}

hy_affine hy_affine_rotate(double radians, double cx, double cy) {
  double c = cos(radians), s = sin(radians);
  return (hy_affine){{c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy}};
}

hy_affine hy_affine_compose(const hy_affine *first, const hy_affine *then) {
  const double *a = first->m, *b = then->m;
  return (hy_affine){{
      b[0] * a[0] + b[1] * a[3],
      b[0] * a[1] + b[1] * a[4],
      b[0] * a[2] + b[1] * a[5] + b[2],
      b[3] * a[0] + b[4] * a[3],
      b[3] * a[1] + b[4] * a[4],
      b[3] * a[2] + b[4] * a[5] + b[5],
  }};
}

hy_status hy_affine_invert(hy_affine *out, const hy_affine *a, hy_error *err) {
  const double *m = a->m;
  double det = m[0] * m[4] - m[1] * m[3];
  double size = fabs(m[0]) + fabs(m[1]) + fabs(m[3]) + fabs(m[4]);
  int finite = 1;
  for (int i = 0; i < 6; i++) finite &= isfinite(m[i]) != 0;
  /* Relative test: a uniform scale of any size is fine, a collapse is not. */
  if (!finite || !isfinite(det) || !(fabs(det) > 1e-12 * size * size))
    return hy_fail(err, HY_E_ARG,
                   "affine [%g %g %g; %g %g %g] is singular or not finite (determinant %g)",
                   m[0], m[1], m[2], m[3], m[4], m[5], det);
  double i0 = m[4] / det, i1 = -m[1] / det, i3 = -m[3] / det, i4 = m[0] / det;
  *out = (hy_affine){{i0, i1, -(i0 * m[2] + i1 * m[5]), i3, i4,
                      -(i3 * m[2] + i4 * m[5])}};
  return HY_OK;
}

void hy_affine_apply(const hy_affine *a, double x, double y, double *x_out,
                     double *y_out) {
  const double *m = a->m;
  double xo = m[0] * x + m[1] * y + m[2];
  double yo = m[3] * x + m[4] * y + m[5];
  *x_out = xo;
  *y_out = yo;
}

hy_affine hy_affine_resize(int src_w, int src_h, int dst_w, int dst_h) {
  double sx = (double)dst_w / src_w, sy = (double)dst_h / src_h;
  return hy_affine_scale(sx, sy, -0.5, -0.5);
}

hy_affine hy_affine_letterbox(int src_w, int src_h, int dst_w, int dst_h,
                              double *scale_out) {
  double sx = (double)dst_w / src_w, sy = (double)dst_h / src_h;
  double s = sx < sy ? sx : sy;
  if (scale_out) *scale_out = s;
  /* The scaled picture, s src_w x s src_h, sits in the middle of the canvas. */
  double ox = 0.5 * (dst_w - s * src_w), oy = 0.5 * (dst_h - s * src_h);
  return (hy_affine){{s, 0, 0.5 * s - 0.5 + ox, 0, s, 0.5 * s - 0.5 + oy}};
}
