/* MPI for `hyatt train --distributed` (docs/distributed.md), compiled only
 * when the build has MPI (HY_HAVE_MPI). core/train.c knows none of it: it
 * reduces through hy_train_options.allreduce. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Starts MPI (errors returned, not fatal) and a watchdog: a process that
 * waits in hy_dist_allreduce longer than timeout_s seconds, because
 * another one died or hangs, says so on stderr and aborts the whole job. */
gboolean hy_dist_start(double timeout_s, int *rank, int *size, GError **error);

/* hy_train_options.allreduce: MPI_Allreduce in place with MPI_SUM over
 * MPI_COMM_WORLD. 0 on success. */
int hy_dist_allreduce(float *buf, size_t n, void *user);

/* Wall seconds spent in hy_dist_allreduce so far, waiting for slower
 * processes included. */
double hy_dist_reduce_seconds(void);

/* Stops the watchdog and ends MPI: MPI_Finalize when every process got to
 * the same end (exit status 0, or 130 after a stop all of them saw), else
 * MPI_Abort with that status, so that no other process waits for this one.
 * Returns status. */
int hy_dist_finish(int status);

G_END_DECLS
