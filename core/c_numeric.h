/* Numbers read and written in the C locale whatever the process's (a German
 * desktop would otherwise write "0,1"): LC_NUMERIC switched for the calling
 * thread between enter and leave. */
#pragma once

#include <locale.h>

typedef struct hy_c_numeric {
  locale_t c, old;
} hy_c_numeric;

/* If the C locale cannot be made, numbers stay in the process's locale. */
void hy_c_numeric_enter(hy_c_numeric *l);
void hy_c_numeric_leave(hy_c_numeric *l);
