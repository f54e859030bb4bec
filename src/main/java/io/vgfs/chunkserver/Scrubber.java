package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.zip.CRC32C;

/**
 * Verifies every stored block against its checksum in the background, one chunk at a time, at a
 * bounded rate so clients keep the disk. A replica that fails (bad block, missing or short file)
 * is reported to the master, which has it re-replicated from a good copy and deleted here. After a
 * full pass it waits, then starts again. Disk reads run on a worker, one chunk at a time.
 */
final class Scrubber {

  private static final Logger log = LoggerFactory.getLogger(Scrubber.class);

  private final Vertx vertx;
  private final ChunkStore store;
  private final RateLimiter limiter;
  private final long pauseMs;
  private final Deque<Long> todo = new ArrayDeque<>();
  private long timer = -1;
  private boolean stopped;
  private long scrubbedBytes;
  private long corruptFound;
  private long passes;

  Scrubber(Vertx vertx, ChunkStore store, long bytesPerSecond, long pauseMs) {
    this.vertx = vertx;
    this.store = store;
    this.limiter = new RateLimiter(bytesPerSecond);
    this.pauseMs = pauseMs;
  }

  void start() {
    timer = vertx.setTimer(1000, id -> next());
  }

  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }

  /** {scrubbedBytes, corruptFound, passes} for heartbeats and status. */
  JsonObject stats() {
    return new JsonObject().put("scrubbedBytes", scrubbedBytes).put("corruptFound", corruptFound)
        .put("scrubPasses", passes);
  }

  private void next() {
    if (stopped) {
      return;
    }
    if (todo.isEmpty()) {
      store.replicas().forEach(r -> todo.add(r.chunkId()));
      if (todo.isEmpty()) {
        timer = vertx.setTimer(pauseMs, id -> next());
        return;
      }
    }
    long chunk = todo.poll();
    ReplicaInfo replica = store.replica(chunk);
    if (replica == null) {
      vertx.runOnContext(v -> next()); // deleted meanwhile
      return;
    }
    long wait = limiter.delayFor(replica.length());
    timer = vertx.setTimer(Math.max(1, wait), id -> verify(replica).onComplete(ar -> {
      scrubbedBytes += replica.length();
      if (ar.succeeded() && ar.result() != null) {
        corruptFound++;
        report(replica, ar.result());
      } else if (ar.failed()) {
        log.warn("scrubbing chunk {} failed: {}", ChunkStore.hex(chunk), ar.cause().toString());
      }
      if (todo.isEmpty()) {
        passes++;
        timer = vertx.setTimer(pauseMs, t -> next());
      } else {
        next();
      }
    }));
  }

  // Null when the replica is intact, else what is wrong with it.
  private Future<String> verify(ReplicaInfo replica) {
    return vertx.executeBlocking(() -> inspect(replica.chunkId()), false);
  }

  /**
   * Null when the replica is intact, else what is wrong with it. The first look takes no lock, so
   * it can meet a replica being appended to (its data written before its checksums), cut back for
   * a new lease or deleted; a problem counts only if it is there again with the store locked,
   * which appends, cut-backs and deletions hold. Blocking.
   */
  String inspect(long chunkId) throws IOException {
    if (check(chunkId) == null) {
      return null;
    }
    synchronized (store) {
      return check(chunkId);
    }
  }

  private String check(long chunkId) throws IOException {
    ReplicaInfo replica = store.replica(chunkId);
    if (replica == null) {
      return null;
    }
    ChunkMeta meta;
    try {
      meta = store.loadMeta(replica.chunkId());
    } catch (NoSuchFileException e) {
      return store.replica(replica.chunkId()) == null ? null : "its checksum file is missing";
    } catch (IOException e) {
      return "its checksum file is unreadable: " + e.getMessage();
    }
    try (FileChannel ch = FileChannel.open(store.dataPath(replica.chunkId()),
        StandardOpenOption.READ)) {
      if (ch.size() != meta.length()) {
        return "its data file has " + ch.size() + " bytes, " + meta.length() + " expected";
      }
      ByteBuffer buf = ByteBuffer.allocateDirect(meta.blockSize());
      for (int i = 0; i < meta.crcs().length; i++) {
        buf.clear();
        long pos = (long) i * meta.blockSize();
        buf.limit((int) Math.min(meta.blockSize(), meta.length() - pos));
        while (buf.hasRemaining()) {
          if (ch.read(buf, pos + buf.position()) < 0) {
            return "its data file ends early";
          }
        }
        buf.flip();
        CRC32C crc = new CRC32C();
        crc.update(buf);
        if ((int) crc.getValue() != meta.crcs()[i]) {
          return "block at offset " + pos + " fails its checksum";
        }
      }
      return null;
    } catch (NoSuchFileException e) {
      return store.replica(replica.chunkId()) == null ? null : "its data file is missing";
    }
  }

  private void report(ReplicaInfo replica, String what) {
    log.warn("scrub: replica of chunk {} is corrupt: {}; reporting it",
        ChunkStore.hex(replica.chunkId()), what);
    vertx.eventBus().request(Addresses.REPORT_BAD_REPLICA, new JsonObject()
        .put("chunk", replica.chunkId()).put("server", store.serverId())
        .put("reason", "scrub: " + what))
        .onFailure(t -> log.warn("could not report corrupt chunk {}: {}",
            ChunkStore.hex(replica.chunkId()), t.getMessage()));
  }

}
