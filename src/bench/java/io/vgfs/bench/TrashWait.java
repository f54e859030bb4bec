package io.vgfs.bench;

import java.util.function.BooleanSupplier;

/**
 * vgfs moves deleted files to a trash and purges them in the background (the benchmark runs it
 * with {@code --trash-retention 0}, as HDFS's {@code FileSystem.delete} frees at once); waiting
 * for the purge after each cleanup keeps it out of the next measured run and keeps the disk from
 * filling up over a long run.
 */
final class TrashWait {

  private static final long LIMIT_MS = 15 * 60_000;

  private TrashWait() {
  }

  static void until(String dir, BooleanSupplier purged) {
    long t0 = System.nanoTime();
    while (!purged.getAsBoolean()) {
      if ((System.nanoTime() - t0) / 1_000_000 > LIMIT_MS) {
        BenchLog.info("vgfs trash under %s not purged after %d min; going on", dir,
            LIMIT_MS / 60_000);
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
      BenchLog.info("vgfs purged the trash under %s in %.0f s", dir, s);
    }
  }
}
