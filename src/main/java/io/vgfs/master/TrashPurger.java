package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Removes deleted files from the trash for good once they are past their retention, each as a
 * logged {@code purge} mutation (so standbys and a restarted master agree on it). At most
 * {@link #BATCH} purges are in flight; a full batch starts the next one as soon as it is done, so
 * a mass delete frees its space at the log's pace rather than one batch per master tick.
 *
 * <p>Used on the master's event loop only.
 */
final class TrashPurger {

  private static final Logger log = LoggerFactory.getLogger(TrashPurger.class);
  static final int BATCH = 100;

  private final Trash trash;
  private final Metadata metadata;
  private final long retentionMs;
  private final BooleanSupplier serving;
  private boolean purging;
  private long purgedInRun; // batches that follow each other are logged as one line

  /**
   * @param serving whether this master still serves; a term that ended starts no further batch
   */
  TrashPurger(Trash trash, Metadata metadata, long retentionMs, BooleanSupplier serving) {
    this.trash = trash;
    this.metadata = metadata;
    this.retentionMs = retentionMs;
    this.serving = serving;
  }

  /** Starts a batch unless one is in flight or nothing has expired. */
  void tick() {
    if (purging) {
      return;
    }
    List<Trash.Entry> old = trash.expired(System.currentTimeMillis() - retentionMs, BATCH);
    if (old.isEmpty()) {
      logRun();
      return;
    }
    purging = true;
    List<Future<FileInfo>> done = new ArrayList<>();
    for (Trash.Entry e : old) {
      done.add(metadata.mutate(new JsonObject().put("op", "purge").put("id", e.id()), null));
    }
    Future.join(new ArrayList<>(done)).onComplete(ar -> {
      purging = false;
      purgedInRun += done.stream().filter(Future::succeeded).count();
      if (ar.succeeded() && old.size() == BATCH && serving.getAsBoolean()) {
        tick();
        return;
      }
      if (ar.failed()) {
        log.warn("purging deleted files failed (retried at the next tick): {}",
            ar.cause().toString());
      }
      logRun();
    });
  }

  private void logRun() {
    if (purgedInRun > 0) {
      log.info("purged {} deleted files past their retention", purgedInRun);
      purgedInRun = 0;
    }
  }
}
