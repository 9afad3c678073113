/* libhyatt's public API: include this one header. */
#pragma once

#include "arena.h"
#include "blas.h"
#include "error.h"
#include "fileio.h"
#include "pool.h"
#include "tensorfile.h"
