package io.vgfs.client.impl;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vgfs.protocol.Allocation;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.Durability;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.Frame;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.Frames;
import io.vgfs.protocol.data.ReplicaException;
import io.vgfs.protocol.data.WriteAck;
import io.vgfs.protocol.data.WriteEnd;
import io.vgfs.protocol.data.WriteOpen;

import java.util.List;

/**
 * Streams one chunk to the first replica of its chain: cuts the bytes it is given into checksummed
 * 64 KiB blocks, sends them as DATA frames, and on {@link #finish()} sends WRITE_END and waits for
 * the chain's acknowledgement. Holds at most one partial block, gathered in the direct buffer of
 * its frame (pieces arrive unaligned from HTTP bodies and files); the socket's write queue
 * provides the backpressure ({@link #writeQueueFull()}).
 *
 * <p>A chain that stops moving (a replica frozen or its disk hung, with its sockets still open)
 * would hold the write forever: no error arrives, the socket just stops draining. So the write
 * fails once the chain has made no progress for the stall time-out while it has something to do
 * (a full write queue, or the acknowledgement after {@link #finish()}). Progress is a drained
 * queue, bytes accepted by the socket, or a frame from the chain.
 */
final class ChunkWriter {

  private final Allocation allocation;
  private final DataChannelPool pool;
  private final DataChannel channel;
  private final Promise<WriteAck> ack = Promise.promise();
  private ByteBuf block; // the partial block's DATA frame, header space first (DataChannel)
  private long accepted; // bytes given to write(), including the partial block not sent yet
  private long length;   // bytes sent
  private int crc;
  private final long stallTimeoutMs;
  private final long stallTimer;
  private long lastProgress = System.nanoTime();
  private boolean finishing;
  private Handler<Void> drainHandler;

  private ChunkWriter(Vertx vertx, Allocation allocation, DataChannelPool pool,
                      DataChannel channel, long stallTimeoutMs) {
    this.allocation = allocation;
    this.pool = pool;
    this.channel = channel;
    this.stallTimeoutMs = stallTimeoutMs;
    channel.handlers(this::onFrame, t -> ack.tryFail(new ReplicaException(ErrorCode.UNAVAILABLE,
        "chunkserver " + channel.peer() + " failed: " + t.getMessage(), channel.peer().id())));
    channel.drainHandler(v -> {
      lastProgress = System.nanoTime();
      if (drainHandler != null) {
        drainHandler.handle(v);
      }
    });
    stallTimer = vertx.setPeriodic(Math.max(50, stallTimeoutMs / 4), id -> checkStall());
    ack.future().onComplete(x -> vertx.cancelTimer(stallTimer));
  }

  /**
   * Connects to the chain's first replica and opens the write.
   *
   * @param stallTimeoutMs how long the chain may make no progress before the write fails
   */
  static Future<ChunkWriter> open(Vertx vertx, Allocation allocation, DataChannelPool pool,
                                  Durability durability, long stallTimeoutMs) {
    List<io.vgfs.protocol.ServerAddress> chain = allocation.replicas();
    return pool.acquire(chain.get(0)).map(ch -> {
      ChunkWriter w = new ChunkWriter(vertx, allocation, pool, ch, stallTimeoutMs);
      ch.send(FrameType.WRITE_OPEN, new WriteOpen(allocation.chunkId(), allocation.version(),
          allocation.epoch(), allocation.token(), durability,
          chain.subList(1, chain.size())).toJson());
      return w;
    });
  }

  /** Bytes written to this chunk so far. */
  long length() {
    return accepted;
  }

  /** Adds bytes to the chunk; the caller keeps the total within the chunk size. */
  void write(Buffer data) {
    accepted += data.length();
    ByteBuf src = ((BufferInternal) data).getByteBuf();
    int pos = 0;
    int n = data.length();
    while (pos < n) {
      if (block == null && n - pos >= Frames.BLOCK_SIZE) {
        sendBlock(data.slice(pos, pos + Frames.BLOCK_SIZE)); // whole block: copied only to the socket
        pos += Frames.BLOCK_SIZE;
        continue;
      }
      if (block == null) {
        block = channel.newDataFrame(Frames.BLOCK_SIZE);
      }
      int take = Math.min(Frames.BLOCK_SIZE - gathered(), n - pos);
      block.writeBytes(src, src.readerIndex() + pos, take);
      pos += take;
      if (gathered() == Frames.BLOCK_SIZE) {
        sendGathered();
      }
    }
  }

  private int gathered() {
    return block.writerIndex() - Frames.HEADER_SIZE;
  }

  private void sendBlock(Buffer b) {
    int blockCrc = Crc32c.of(b);
    crc = Crc32c.combine(crc, blockCrc, b.length());
    length += b.length();
    channel.sendDataCopy(b, blockCrc);
  }

  private void sendGathered() {
    int n = gathered();
    int blockCrc = Crc32c.of(block.slice(Frames.HEADER_SIZE, n));
    crc = Crc32c.combine(crc, blockCrc, n);
    length += n;
    ByteBuf frame = block;
    block = null;
    channel.sendDataFrame(frame, blockCrc);
  }

  boolean writeQueueFull() {
    return channel.writeQueueFull();
  }

  void drainHandler(Handler<Void> handler) {
    drainHandler = handler;
  }

  // Waiting on the chain (a full queue, or the acknowledgement) without progress: give up. The
  // replicas discard the chunk when the connection closes; the caller's upload fails with it.
  private void checkStall() {
    if (ack.future().isComplete()) {
      return;
    }
    long now = System.nanoTime();
    if (!finishing && !channel.writeQueueFull()) {
      lastProgress = now; // waiting for the caller's bytes, not for the chain
      return;
    }
    if (now - lastProgress > stallTimeoutMs * 1_000_000) {
      abort(new ReplicaException(ErrorCode.UNAVAILABLE, "the chain " + allocation.replicas()
          .stream().map(r -> r.id()).toList() + " of chunk " + allocation.chunkId()
          + " made no progress for " + stallTimeoutMs + " ms", null));
    }
  }

  /** Sends what is left and WRITE_END; completes with the chunk once every replica has it. */
  Future<Written> finish() {
    if (block != null) { // a frame is made only for bytes about to go into it: never empty
      sendGathered();
    }
    finishing = true;
    lastProgress = System.nanoTime();
    channel.send(FrameType.WRITE_END, new WriteEnd(length, crc).toJson());
    return ack.future().map(a -> {
      channel.drainHandler(null);
      pool.release(channel);
      return new Written(new ChunkRef(allocation.chunkId(), allocation.version(), length, crc,
          List.of()), a.replicas());
    });
  }

  /** Gives up on the chunk: the replicas discard what they have of it. */
  void abort(Throwable cause) {
    releaseBlock();
    ack.tryFail(cause);
    channel.close();
  }

  private void releaseBlock() {
    if (block != null) {
      block.release();
      block = null;
    }
  }

  Future<WriteAck> acked() {
    return ack.future();
  }

  private void onFrame(Frame f) {
    lastProgress = System.nanoTime();
    switch (f.type()) {
      case WRITE_ACK -> ack.tryComplete(WriteAck.fromJson(f.json()));
      case ERROR -> {
        ack.tryFail(ErrorFrame.fromJson(f.json()).toException());
        channel.close();
      }
      default -> {
        ack.tryFail(new ReplicaException(ErrorCode.BAD_REQUEST, "unexpected " + f.type()
            + " from " + channel.peer(), channel.peer().id()));
        channel.close();
      }
    }
  }

  /** A stored chunk and the servers that acknowledged it. */
  record Written(ChunkRef chunk, List<String> replicas) {
  }
}
