/* Rewrites the CRCs of a (mutated) .hyatt image in place, so the fuzzer also
 * reaches the checks behind them: random mutations nearly always break the
 * header CRC, and the loader stops there. Walks the table as leniently as it
 * can and stops at the first entry that does not fit. */
#pragma once

#include <stddef.h>

void fuzz_repair_crcs(unsigned char *b, size_t n);
