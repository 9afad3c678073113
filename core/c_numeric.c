#include "c_numeric.h"

void hy_c_numeric_enter(hy_c_numeric *l) {
  l->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

void hy_c_numeric_leave(hy_c_numeric *l) {
  if (!l->c) return;
  uselocale(l->old);
  freelocale(l->c);
}
