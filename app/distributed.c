#include "distributed.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <limits.h>
#include <mpi.h>

#define EXIT_INTERRUPTED 130 /* as in cmd_train.c: a stop every process saw */

/* MPI is per process, so is this. */
static struct {
  int rank;
  double timeout_s;
  GThread *watchdog;
  GMutex lock;           /* guards the two below */
  gint64 waiting_since;  /* monotonic µs when the pending all-reduce began; 0: none */
  gboolean done;
  double reduce_seconds; /* main thread only */
} dist;

static gpointer watchdog_main(gpointer data) {
  for (;;) {
    g_usleep(G_USEC_PER_SEC / 4);
    g_mutex_lock(&dist.lock);
    gboolean done = dist.done;
    gint64 since = dist.waiting_since;
    g_mutex_unlock(&dist.lock);
    if (done) return NULL;
    if (since && (double)(g_get_monotonic_time() - since) > dist.timeout_s * G_USEC_PER_SEC) {
      g_printerr(_("hyatt train: rank %d waited %.0f s for the other processes (one died or "
                   "hangs); aborting\n"),
                 dist.rank, dist.timeout_s);
      /* kills every process of the job, this one too; the main thread
       * cannot, it is inside MPI_Allreduce */
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
}

gboolean hy_dist_start(double timeout_s, int *rank, int *size, GError **error) {
  int provided = 0;
  /* MULTIPLE: the watchdog thread calls MPI_Abort while the main thread
   * is in a collective */
  if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("MPI did not start"));
    return FALSE;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  dist.rank = *rank;
  dist.timeout_s = timeout_s;
  g_mutex_init(&dist.lock);
  dist.watchdog = g_thread_new("hyatt-watchdog", watchdog_main, NULL);
  return TRUE;
}

int hy_dist_allreduce(float *buf, size_t n, void *user) {
  gint64 t0 = g_get_monotonic_time();
  g_mutex_lock(&dist.lock);
  dist.waiting_since = t0;
  g_mutex_unlock(&dist.lock);
  int rc = MPI_SUCCESS;
  /* MPI counts are int: `paper`'s 80 M floats fit, bigger arenas go in parts */
  for (size_t at = 0; at < n && rc == MPI_SUCCESS; at += INT_MAX) {
    int count = n - at < (size_t)INT_MAX ? (int)(n - at) : INT_MAX;
    rc = MPI_Allreduce(MPI_IN_PLACE, buf + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  }
  g_mutex_lock(&dist.lock);
  dist.waiting_since = 0;
  g_mutex_unlock(&dist.lock);
  dist.reduce_seconds += (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    g_printerr(_("hyatt train: rank %d: MPI_Allreduce failed: %s\n"), dist.rank, msg);
  }
  return rc == MPI_SUCCESS ? 0 : 1;
}

double hy_dist_reduce_seconds(void) { return dist.reduce_seconds; }

int hy_dist_finish(int status) {
  g_mutex_lock(&dist.lock);
  dist.done = TRUE;
  g_mutex_unlock(&dist.lock);
  g_thread_join(dist.watchdog);
  if (status == 0 || status == EXIT_INTERRUPTED) MPI_Finalize();
  else MPI_Abort(MPI_COMM_WORLD, status);
  return status;
}
