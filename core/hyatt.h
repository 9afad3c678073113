/* libhyatt's public API: include this one header. */
#pragma once

#include "arena.h"
#include "blas.h"
#include "error.h"
#include "pool.h"
