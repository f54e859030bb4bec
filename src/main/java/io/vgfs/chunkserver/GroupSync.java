package io.vgfs.chunkserver;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Group commit for an fsync: writers that finish at the same time share one. A caller gets an
 * fsync that started after it asked, so it covers everything the caller wrote before asking; while
 * one runs, later callers wait and the next one covers them all. Used for a directory: a new
 * file's name is durable only once its directory has been fsynced. Blocking: called from workers.
 */
final class GroupSync {

  /** The fsync being shared. */
  interface Action {
    void run() throws IOException;
  }

  private final Action action;
  private long started;   // generations of fsyncs started
  private long completed; // the newest generation finished
  private boolean running;
  private IOException failure;
  private long failedGeneration = -1;

  GroupSync(Action action) {
    this.action = action;
  }

  /** A group commit for the directory {@code dir}. */
  static GroupSync directory(Path dir) {
    return new GroupSync(() -> ChunkStore.fsyncDirectory(dir));
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
      action.run();
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
