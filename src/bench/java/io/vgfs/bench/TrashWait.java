package io.vgfs.bench;

import java.util.function.BooleanSupplier;

/**
 * Waits for a system's background deletions after a cleanup, so that they do not run into the
 * next measured run (of either system) and the disk does not fill up over a long run. vgfs moves
 * deleted files to a trash and purges them in the background (the benchmark runs it with
 * {@code --trash-retention 0}, as HDFS's {@code FileSystem.delete} frees at once); then the
 * master hands the replicas' deletions to the chunkservers with their heartbeats, 1,000 at a time,
 * as HDFS's NameNode hands block invalidations to its DataNodes. Both systems are waited for
 * until their replicas are gone from the disks.
 */
final class TrashWait {

  private static final long LIMIT_MS = 15 * 60_000;

  private TrashWait() {
  }

  /** Waits until vgfs has purged the trash under {@code dir} and deleted its chunks' replicas. */
  static void until(String dir, BooleanSupplier purged, BooleanSupplier replicasDeleted) {
    until("vgfs trash under " + dir, purged);
    until("vgfs replicas of " + dir, replicasDeleted);
  }

  /** Waits (up to 15 min) until {@code done}, which describes {@code what}. */
  static void until(String what, BooleanSupplier done) {
    long t0 = System.nanoTime();
    while (!done.getAsBoolean()) {
      if ((System.nanoTime() - t0) / 1_000_000 > LIMIT_MS) {
        BenchLog.info("%s not deleted after %d min; going on", what, LIMIT_MS / 60_000);
        return;
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (s > 5) {
      BenchLog.info("%s deleted in %.0f s", what, s);
    }
  }
}
