package io.vgfs.chunkserver;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Group commit for a directory's fsync: a new file's name is durable only once its directory has
 * been fsynced, and writers that finish at the same time can share one fsync. A caller gets an
 * fsync that started after it asked; while one runs, later callers wait and the next one covers
 * them all. Blocking: called from workers.
 */
final class DirSyncer {

  private final Path dir;
  private long started;   // generations of fsyncs started
  private long completed; // the newest generation finished
  private boolean running;
  private IOException failure;
  private long failedGeneration = -1;

  DirSyncer(Path dir) {
    this.dir = dir;
  }

  void sync() throws IOException {
    long generation;
    synchronized (this) {
      long need = started + 1; // one that starts after this call
      while (true) {
        if (completed >= need) {
          if (failedGeneration >= need) {
            throw failure;
          }
          return;
        }
        if (!running) {
          running = true;
          generation = ++started;
          break;
        }
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for a directory fsync", e);
        }
      }
    }
    IOException err = null;
    try {
      ChunkStore.fsyncDirectory(dir);
    } catch (IOException e) {
      err = e;
    }
    synchronized (this) {
      completed = generation;
      running = false;
      if (err != null) {
        failure = err;
        failedGeneration = generation;
      }
      notifyAll();
    }
    if (err != null) {
      throw err;
    }
  }
}
