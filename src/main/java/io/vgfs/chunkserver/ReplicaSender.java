package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.Durability;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.ReplicaException;
import io.vgfs.protocol.data.WriteEnd;
import io.vgfs.protocol.data.WriteOpen;

import java.util.List;

/**
 * Copies a local replica to another chunkserver (re-replication, balancing, draining): reads it
 * block by block, checks each block against its stored checksum (a corrupt source must not
 * spread), and writes it to the target with the ordinary write protocol, within the replication
 * bandwidth budget, and gives up on a target that makes no progress for the write stall time-out.
 * Runs on the chunkserver's event loop; reads are asynchronous.
 */
final class ReplicaSender {

  private final Vertx vertx;
  private final ChunkStore store;
  private final DataChannelPool pool;
  private final RateLimiter limiter;
  private final long stallMs;

  ReplicaSender(Vertx vertx, ChunkStore store, DataChannelPool pool, RateLimiter limiter,
                long stallMs) {
    this.vertx = vertx;
    this.store = store;
    this.pool = pool;
    this.limiter = limiter;
    this.stallMs = stallMs;
  }

  /** When the copy last moved, and whether it is waiting on the target (not on its budget). */
  private static final class Progress {
    long at = System.nanoTime();
    boolean waitingOnTarget;

    void moved() {
      at = System.nanoTime();
    }
  }

  /** Completes with the bytes sent once the target holds the chunk durably. */
  Future<Long> send(long chunkId, long epoch, ServerAddress target) {
    ReplicaInfo replica = store.replica(chunkId);
    if (replica == null) {
      return Future.failedFuture(new ReplicaException(ErrorCode.NOT_FOUND, "no replica of chunk "
          + ChunkStore.hex(chunkId) + " here", store.serverId()));
    }
    ChunkMeta cached = store.cachedMeta(chunkId);
    Future<ChunkMeta> meta = cached != null ? Future.succeededFuture(cached)
        : vertx.executeBlocking(() -> store.loadMeta(chunkId), false);
    return meta.compose(m -> vertx.fileSystem().open(store.dataPath(chunkId).toString(),
            new OpenOptions().setRead(true).setWrite(false))
        .compose(file -> pool.connect(target).compose(ch -> copy(chunkId, epoch, m, file, ch))
            .eventually(file::close)));
  }

  private Future<Long> copy(long chunkId, long epoch, ChunkMeta meta, AsyncFile file,
                            DataChannel ch) {
    Promise<Long> done = Promise.promise();
    Progress progress = new Progress();
    // A target frozen with its connection open would hold the copy (and the master's repair
    // slot) until it woke up: give up after stallMs without progress while waiting on it.
    long timer = vertx.setPeriodic(Math.max(100, stallMs / 4), id -> {
      if (progress.waitingOnTarget && System.nanoTime() - progress.at > stallMs * 1_000_000) {
        ch.close();
        done.tryFail(new ReplicaException(ErrorCode.UNAVAILABLE, "target " + ch.peer()
            + " made no progress for " + stallMs + " ms", ch.peer().id()));
      }
    });
    done.future().onComplete(ar -> vertx.cancelTimer(timer));
    ch.handlers(f -> {
      progress.moved();
      if (f.type() == FrameType.WRITE_ACK) {
        pool.release(ch);
        done.tryComplete(meta.length());
      } else if (f.type() == FrameType.ERROR) {
        ch.close();
        done.tryFail(ErrorFrame.fromJson(f.json()).toException());
      }
    }, t -> done.tryFail(new ReplicaException(ErrorCode.UNAVAILABLE, "target " + ch.peer()
        + " failed: " + t.getMessage(), ch.peer().id())));
    ch.send(FrameType.WRITE_OPEN, new WriteOpen(chunkId, meta.version(), epoch, "",
        Durability.SYNC, List.of()).toJson());
    sendBlock(chunkId, meta, file, ch, 0, 0, done, progress);
    return done.future();
  }

  private void sendBlock(long chunkId, ChunkMeta meta, AsyncFile file, DataChannel ch, int index,
                         int crc, Promise<Long> done, Progress progress) {
    progress.moved();
    progress.waitingOnTarget = false;
    if (done.future().isComplete()) {
      return;
    }
    if (index == meta.crcs().length) {
      ch.send(FrameType.WRITE_END, new WriteEnd(meta.length(), crc).toJson());
      progress.waitingOnTarget = true; // for its acknowledgement
      return;
    }
    long pos = (long) index * meta.blockSize();
    int len = (int) Math.min(meta.blockSize(), meta.length() - pos);
    long wait = limiter.delayFor(len);
    if (wait > 0) {
      vertx.setTimer(wait, id -> readBlock(chunkId, meta, file, ch, index, crc, done, pos, len,
          progress));
    } else {
      readBlock(chunkId, meta, file, ch, index, crc, done, pos, len, progress);
    }
  }

  private void readBlock(long chunkId, ChunkMeta meta, AsyncFile file, DataChannel ch, int index,
                         int crc, Promise<Long> done, long pos, int len, Progress progress) {
    file.read(Buffer.buffer(len), 0, pos, len).onComplete(ar -> {
      if (ar.failed()) {
        done.tryFail(ar.cause());
        ch.close();
        return;
      }
      Buffer block = ar.result();
      int blockCrc = Crc32c.of(block);
      if (block.length() != len || blockCrc != meta.crcs()[index]) {
        ch.close();
        done.tryFail(new CorruptReplicaException(chunkId, pos));
        return;
      }
      ch.sendDataCopy(block, blockCrc);
      int next = Crc32c.combine(crc, blockCrc, len);
      if (ch.writeQueueFull()) {
        progress.waitingOnTarget = true; // to take what was sent
        ch.drainHandler(v -> sendBlock(chunkId, meta, file, ch, index + 1, next, done, progress));
      } else {
        sendBlock(chunkId, meta, file, ch, index + 1, next, done, progress);
      }
    });
  }

  /** The local replica failed its own checksum while being copied. */
  static final class CorruptReplicaException extends ReplicaException {
    CorruptReplicaException(long chunkId, long offset) {
      super(ErrorCode.DATA_UNAVAILABLE, "local replica of chunk " + ChunkStore.hex(chunkId)
          + " is corrupt at offset " + offset, null);
    }
  }
}
