package io.vgfs.chunkserver;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.Durability;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.Frame;
import io.vgfs.protocol.data.FrameDecoder;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.Frames;
import io.vgfs.protocol.data.ReplicaException;
import io.vgfs.protocol.data.WriteAck;
import io.vgfs.protocol.data.WriteEnd;
import io.vgfs.protocol.data.WriteOpen;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One replica's part in writing a chunk: store each block in a temporary file and forward it to
 * the next replica as it arrives, then on WRITE_END make the chunk durable and acknowledge once
 * the rest of the chain has.
 *
 * <p>Backpressure: a block goes both to the file and downstream, so the upstream is paused while
 * either queue is full and resumed when both have drained. Memory per session is the two write
 * queues and the block checksums. Runs on the connection's event loop; disk work runs on workers.
 *
 * <p>DATA frames may hold pooled network memory ({@link Frame#pooled()}): the session owns each
 * frame it is given and passes the same memory to the next replica's socket and to the file,
 * without copying it, and releases it on every path.
 */
final class ChunkWriteSession {

  /**
   * Chunks up to this size are kept in memory until WRITE_END and stored in one step (no temporary
   * file, no rename, one trip to a worker): small files cost a few system calls, not dozens.
   */
  static final int SMALL_CHUNK = 1024 * 1024;

  private final Vertx vertx;
  private final ChunkStore store;
  private final DataChannelPool pool;
  private final WriteOpen open;
  private final FrameDecoder upstream;
  private final Promise<WriteAck> result = Promise.promise();
  private final Promise<List<String>> downstreamAck = Promise.promise();

  private Path temp;
  private ChunkFileWriter file;
  private DataChannel downstream;
  private int[] crcs = new int[16];
  private int blocks;
  private long written;
  private int chunkCrc;
  private boolean lastBlockSeen;
  private boolean ended;
  private List<Buffer> small = new ArrayList<>(); // blocks held while the chunk is small
  private int smallBytes;

  ChunkWriteSession(Vertx vertx, ChunkStore store, DataChannelPool pool, WriteOpen open,
                    FrameDecoder upstream) {
    this.vertx = vertx;
    this.store = store;
    this.pool = pool;
    this.open = open;
    this.upstream = upstream;
  }

  /** Completes with the acknowledgement to send upstream, or fails with the error to report. */
  Future<WriteAck> result() {
    return result.future();
  }

  /** Opens the downstream link (the file waits until the chunk outgrows {@link #SMALL_CHUNK}). */
  void start() {
    if (open.chain().isEmpty()) {
      return;
    }
    upstream.pause();
    connectDownstream().onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
      } else if (!result.future().isComplete()) {
        upstream.resume();
      }
    });
  }

  // The chunk is no longer small: stream it through a temporary file from now on.
  private void openFile() {
    temp = store.tempFile(open.chunkId());
    file = new ChunkFileWriter(vertx, temp, open.durability() == Durability.SYNC);
    file.onDrain(this::maybeResume);
    file.onFailure(this::fail);
    for (Buffer b : small) {
      file.add(((BufferInternal) b).getByteBuf());
    }
    small = null;
  }

  private Future<Void> connectDownstream() {
    ServerAddress next = open.chain().get(0);
    return pool.acquire(next)
        .recover(t -> Future.failedFuture(new ReplicaException(ErrorCode.UNAVAILABLE,
            "replica " + next + " unreachable: " + t.getMessage(), next.id())))
        .compose(ch -> {
          downstream = ch;
          ch.handlers(this::onDownstreamFrame, t -> downstreamAck.tryFail(
              new ReplicaException(ErrorCode.UNAVAILABLE,
                  "replica " + next + " failed: " + t.getMessage(), next.id())));
          downstreamAck.future().onFailure(this::fail);
          return ch.send(FrameType.WRITE_OPEN, open.downstream().toJson());
        });
  }

  /** Takes over the frame: its memory is given back here, whatever happens to the write. */
  void data(Frame frame) {
    if (result.future().isComplete()) {
      frame.release();
      return;
    }
    int len = frame.payload().length();
    if (ended || lastBlockSeen || len == 0) {
      frame.release();
      fail(new ReplicaException(ErrorCode.BAD_REQUEST,
          "only the last block of a chunk may be shorter than " + Frames.BLOCK_SIZE, null));
      return;
    }
    if (written + len > Frames.MAX_CHUNK_SIZE) {
      frame.release();
      fail(new ReplicaException(ErrorCode.TOO_LARGE, "chunk exceeds the maximum chunk size", null));
      return;
    }
    lastBlockSeen = len < Frames.BLOCK_SIZE;
    if (blocks == crcs.length) {
      crcs = Arrays.copyOf(crcs, blocks * 2);
    }
    crcs[blocks++] = frame.crc();
    chunkCrc = Crc32c.combine(chunkCrc, frame.crc(), len);
    written += len;
    if (file == null) {
      // Held until WRITE_END or until the chunk outgrows SMALL_CHUNK: on the heap, so that many
      // small chunks waiting for their fsyncs do not hold network buffers.
      small.add(Buffer.buffer(len).appendBuffer(frame.payload())); // a heap copy
      smallBytes += len;
      if (downstream != null) {
        downstream.sendData(frame.takePayload(), frame.crc());
      } else {
        frame.release();
      }
      if (smallBytes > SMALL_CHUNK) {
        openFile();
      }
    } else {
      ByteBuf block = frame.takePayload();
      if (downstream != null) {
        downstream.sendData(block.retainedDuplicate(), frame.crc());
      }
      file.add(block);
    }
    if ((file != null && file.full()) || (downstream != null && downstream.writeQueueFull())) {
      upstream.pause();
      if (downstream != null) {
        downstream.drainHandler(v -> maybeResume());
      }
    }
  }

  private void maybeResume() {
    if (!result.future().isComplete() && (file == null || !file.full())
        && (downstream == null || !downstream.writeQueueFull())) {
      upstream.resume();
    }
  }

  void end(WriteEnd end) {
    if (result.future().isComplete()) {
      return;
    }
    ended = true;
    if (end.length() != written || end.crc32c() != chunkCrc) {
      fail(new ReplicaException(ErrorCode.BAD_REQUEST, "chunk " + ChunkStore.hex(open.chunkId())
          + " arrived as " + written + " bytes crc " + Crc32c.hex(chunkCrc) + ", the writer sent "
          + end.length() + " bytes crc " + Crc32c.hex(end.crc32c()), null));
      return;
    }
    if (downstream != null) {
      downstream.send(FrameType.WRITE_END, end.toJson());
    }
    boolean sync = open.durability() == Durability.SYNC;
    ChunkMeta meta = new ChunkMeta(open.version(), written, Frames.BLOCK_SIZE,
        Arrays.copyOf(crcs, blocks));
    List<Buffer> held = small;
    Future<Void> local = file == null
        ? vertx.executeBlocking(() -> {
          store.commitSmall(open.chunkId(), held, meta, sync);
          return null;
        }, false)
        : file.finish().compose(v -> vertx.executeBlocking(() -> {
          store.commit(open.chunkId(), temp, meta, sync);
          return null;
        }, false));
    Future<List<String>> remote = downstream == null
        ? Future.succeededFuture(List.of()) : downstreamAck.future();
    Future.all(local, remote).onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
        return;
      }
      List<String> replicas = new ArrayList<>();
      replicas.add(store.serverId());
      replicas.addAll(remote.result());
      if (downstream != null) {
        pool.release(downstream);
      }
      if (!sync) {
        store.syncLater(open.chunkId());
      }
      result.tryComplete(new WriteAck(open.chunkId(), written, replicas));
    });
  }

  private void onDownstreamFrame(Frame frame) {
    switch (frame.type()) {
      case WRITE_ACK -> downstreamAck.tryComplete(WriteAck.fromJson(frame.json()).replicas());
      case ERROR -> downstreamAck.tryFail(ErrorFrame.fromJson(frame.json()).toException());
      default -> downstreamAck.tryFail(new ReplicaException(ErrorCode.BAD_REQUEST,
          "unexpected " + frame.type() + " from downstream", open.chain().get(0).id()));
    }
  }

  /** Abandons the write: nothing of it stays on disk and the downstream is closed. */
  void fail(Throwable cause) {
    if (!result.tryFail(cause)) {
      return;
    }
    if (downstream != null) {
      downstream.close();
    }
    ChunkFileWriter f = file;
    if (f == null) {
      return; // nothing reached the disk
    }
    f.abort().onComplete(ar -> vertx.executeBlocking(() -> {
      store.discard(temp);
      return null;
    }, false));
  }
}
