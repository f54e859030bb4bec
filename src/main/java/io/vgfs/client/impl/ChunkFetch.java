package io.vgfs.client.impl;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.Frame;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.OwnedBuffer;
import io.vgfs.protocol.data.ReadHeader;
import io.vgfs.protocol.data.ReadRequest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Reads a byte range of one chunk from its replicas. The chunkserver sends the block-aligned cover
 * of the range straight from disk with the blocks' checksums; every block is checked here before
 * any of its bytes are passed on. A replica that fails, stalls, refuses or sends a bad block is
 * left for the next one, from the first byte not yet passed on; a bad block is reported to the
 * master. When every replica has failed the locations are asked for once more before giving up.
 */
final class ChunkFetch {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ChunkFetch.class);

  private final Vertx vertx;
  private final DataChannelPool pool;
  private final MasterClient master;
  private final long stallTimeoutMs;
  private final Consumer<Buffer> sink;
  private final boolean direct;
  private final Function<Long, Future<ChunkRef>> relocate;
  private final Promise<Void> done = Promise.promise();
  private final Set<String> failed = new HashSet<>();
  private ChunkRef chunk;
  private List<ServerAddress> candidates;
  private boolean relocated;
  private long next;       // next chunk byte to pass on
  private final long end;  // chunk byte after the last one wanted

  // Per attempt:
  private DataChannel channel;
  private ServerAddress replica;
  private ReadHeader header;
  private int blockIndex;
  private long blockStart;
  private ByteBuf block;       // the partial block, when one spans runs
  private boolean blockOwned;  // whether it holds pooled memory
  private long lastProgress;
  private long stallTimer = -1;
  private boolean paused;
  private int runAt = -1;      // where, in the run being consumed, checked bytes wait to go on
  private int runLen;

  ChunkFetch(Vertx vertx, DataChannelPool pool, MasterClient master, long stallTimeoutMs,
             ChunkRef chunk, long from, long to, Consumer<Buffer> sink,
             Function<Long, Future<ChunkRef>> relocate) {
    this(vertx, pool, master, stallTimeoutMs, chunk, from, to, sink, relocate, false);
  }

  /**
   * @param direct pass chunk bytes on as {@link OwnedBuffer}s of the network memory, when the
   *               pool's connections can give them ({@link DataChannelPool}'s pooled runs);
   *               the sink then releases every buffer it gets
   */
  ChunkFetch(Vertx vertx, DataChannelPool pool, MasterClient master, long stallTimeoutMs,
             ChunkRef chunk, long from, long to, Consumer<Buffer> sink,
             Function<Long, Future<ChunkRef>> relocate, boolean direct) {
    this.direct = direct;
    this.vertx = vertx;
    this.pool = pool;
    this.master = master;
    this.stallTimeoutMs = stallTimeoutMs;
    this.chunk = chunk;
    this.next = from;
    this.end = to;
    this.sink = sink;
    this.relocate = relocate;
    this.candidates = shuffled(chunk.replicas());
  }

  /** Starts reading; completes when every wanted byte was passed to the sink. */
  Future<Void> start() {
    attempt();
    return done.future();
  }

  void pause() {
    paused = true;
    if (channel != null) {
      channel.decoder().pause();
    }
  }

  void resume() {
    if (!paused) {
      return;
    }
    paused = false;
    lastProgress = System.nanoTime();
    if (channel != null) {
      channel.decoder().resume();
    }
  }

  void cancel() {
    done.tryFail(new VgfsException(ErrorCode.UNAVAILABLE, "read cancelled"));
    closeAttempt(false);
  }

  private void attempt() {
    if (done.future().isComplete()) {
      return;
    }
    ServerAddress target = null;
    for (ServerAddress a : candidates) {
      if (!failed.contains(a.id())) {
        target = a;
        break;
      }
    }
    if (target == null) {
      if (!relocated) {
        relocated = true;
        relocate.apply(chunk.id()).onComplete(ar -> {
          if (ar.succeeded()) {
            chunk = ar.result();
            candidates = shuffled(chunk.replicas());
            failed.clear();
            attempt();
          } else {
            done.tryFail(ar.cause());
          }
        });
        return;
      }
      done.tryFail(new VgfsException(ErrorCode.DATA_UNAVAILABLE, "no replica of chunk "
          + Long.toHexString(chunk.id()) + " could deliver it (tried " + failed + ")"));
      return;
    }
    replica = target;
    ServerAddress r = target;
    pool.acquire(r).onComplete(ar -> {
      if (ar.failed()) {
        failover(r, ar.cause(), false);
        return;
      }
      if (done.future().isComplete() || replica != r) {
        pool.release(ar.result());
        return;
      }
      channel = ar.result();
      header = null;
      dropBlock();
      channel.handlers(f -> onFrame(r, f), t -> failover(r, t, false));
      if (direct && channel.decoder().isPooled()) {
        channel.decoder().ownedRawHandler(b -> onRaw(r, b, true));
      } else {
        channel.decoder().rawHandler(b -> onRaw(r, ((BufferInternal) b).getByteBuf(), false));
      }
      if (paused) {
        channel.decoder().pause();
      }
      lastProgress = System.nanoTime();
      stallTimer = vertx.setPeriodic(Math.max(100, stallTimeoutMs / 4), id -> checkStall(r));
      channel.send(FrameType.READ, new ReadRequest(chunk.id(), chunk.version(), next, end - next,
          "", 0).toJson());
    });
  }

  private void onFrame(ServerAddress r, Frame f) {
    switch (f.type()) {
      case READ_OK -> {
        ReadHeader h;
        try {
          h = ReadHeader.decode(f.payload());
        } catch (RuntimeException e) {
          failover(r, e, false);
          return;
        }
        if (h.start() > next || h.start() + h.count() < end || h.start() % h.blockSize() != 0) {
          failover(r, new VgfsException(ErrorCode.INTERNAL, "replica answered range ["
              + h.start() + ", " + (h.start() + h.count()) + ") for [" + next + ", " + end + ")"),
              false);
          return;
        }
        header = h;
        blockIndex = 0;
        blockStart = h.start();
        lastProgress = System.nanoTime();
        if (h.count() == 0) {
          finishAttempt();
        } else {
          channel.decoder().expectRaw(h.count());
        }
      }
      case ERROR -> {
        ErrorFrame e = ErrorFrame.fromJson(f.json());
        failover(r, e.toException(), false);
      }
      default -> failover(r, new VgfsException(ErrorCode.INTERNAL, "unexpected " + f.type()),
          false);
    }
  }

  // A run of chunk bytes: a heap view, or (owned) pooled memory this method gives back.
  private void onRaw(ServerAddress r, ByteBuf piece, boolean owned) {
    try {
      consume(r, piece, owned);
    } finally {
      if (owned) {
        piece.release();
      }
    }
  }

  /**
   * Cuts the run into blocks, checks each against its checksum, and passes the wanted bytes on.
   * Owned blocks are views of the network buffers (a composite of views when a block spans runs):
   * the sink gets them as {@link OwnedBuffer}s, without a copy. Consecutive checked blocks that lie
   * whole in the run go on as one buffer: the sink (an HTTP response in the gateway) pays per
   * buffer, and a socket read holds up to four blocks.
   */
  private void consume(ServerAddress r, ByteBuf piece, boolean owned) {
    lastProgress = System.nanoTime();
    runAt = -1;
    runLen = 0;
    while (piece.isReadable() && channel != null) {
      long blockEnd = Math.min(blockStart + header.blockSize(), header.start() + header.count());
      int blockLen = (int) (blockEnd - blockStart);
      long from = Math.max(next, blockStart);
      long to = Math.min(end, blockEnd);
      if (block == null && piece.readableBytes() >= blockLen) {
        int at = piece.readerIndex();
        if (Crc32c.of(piece.slice(at, blockLen)) != header.crcs()[blockIndex]) {
          passRun(piece, owned);
          badBlock(r);
          return;
        }
        piece.skipBytes(blockLen);
        if (to > from) {
          next = to;
          // Only a run's first block can start past its beginning, and a block cut short at
          // `end` is the last: the wanted bytes of one run are contiguous.
          if (runAt < 0) {
            runAt = at + (int) (from - blockStart);
          }
          runLen += (int) (to - from);
        }
      } else {
        passRun(piece, owned); // keeps the bytes in order
        if (channel == null) {
          return; // the sink ended this attempt
        }
        if (block == null) {
          block = owned ? piece.alloc().compositeDirectBuffer(16) : Unpooled.buffer(blockLen);
          blockOwned = owned;
        }
        int take = Math.min(blockLen - block.readableBytes(), piece.readableBytes());
        if (owned) {
          ((CompositeByteBuf) block).addComponent(true, piece.readRetainedSlice(take));
        } else {
          block.writeBytes(piece, take);
        }
        if (block.readableBytes() < blockLen) {
          return;
        }
        ByteBuf whole = block;
        block = null;
        if (Crc32c.of(whole) != header.crcs()[blockIndex]) {
          if (owned) {
            whole.release();
          }
          badBlock(r);
          return;
        }
        if (to > from) {
          next = to;
          emit(whole, whole.readerIndex() + (int) (from - blockStart), (int) (to - from), owned);
        }
        if (owned) {
          whole.release();
        }
      }
      blockIndex++;
      blockStart = blockEnd;
      if (blockStart >= header.start() + header.count() || next >= end) {
        passRun(piece, owned);
        finishAttempt();
        return;
      }
    }
    passRun(piece, owned);
  }

  // Passes on the checked bytes of the run gathered so far (runAt, runLen), if any.
  private void passRun(ByteBuf piece, boolean owned) {
    if (runAt < 0) {
      return;
    }
    int at = runAt;
    runAt = -1;
    emit(piece, at, runLen, owned);
    runLen = 0;
  }

  // Passes a view of checked bytes on; an owned view holds its own reference to the memory.
  private void emit(ByteBuf src, int at, int len, boolean owned) {
    sink.accept(owned ? new OwnedBuffer(src.retainedSlice(at, len))
        : BufferInternal.buffer(src.slice(at, len)));
  }

  private void badBlock(ServerAddress r) {
    reportBad(r, "block at " + blockStart + " failed its checksum");
    failover(r, new VgfsException(ErrorCode.DATA_UNAVAILABLE, "corrupt block at "
        + blockStart + " of chunk " + Long.toHexString(chunk.id()) + " on " + r), true);
  }

  private void finishAttempt() {
    if (next < end) {
      failover(replica, new VgfsException(ErrorCode.INTERNAL, "replica sent too few bytes"), false);
      return;
    }
    closeAttempt(true);
    done.tryComplete();
  }

  private void checkStall(ServerAddress r) {
    if (!paused && replica == r && channel != null
        && System.nanoTime() - lastProgress > stallTimeoutMs * 1_000_000) {
      failover(r, new VgfsException(ErrorCode.UNAVAILABLE, "replica " + r + " stalled for "
          + stallTimeoutMs + " ms"), false);
    }
  }

  private void failover(ServerAddress r, Throwable cause, boolean corrupt) {
    if (replica != r || done.future().isComplete()) {
      return;
    }
    log.info("reading chunk {} from {} failed{}, trying another replica at offset {}: {}",
        Long.toHexString(chunk.id()), r, corrupt ? " (corrupt data)" : "", next,
        cause.getMessage());
    failed.add(r.id());
    closeAttempt(false);
    attempt();
  }

  // A partial block of an abandoned attempt; owned memory goes back.
  private void dropBlock() {
    if (block != null && blockOwned) {
      block.release();
    }
    block = null;
  }

  private void closeAttempt(boolean clean) {
    dropBlock();
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
    DataChannel ch = channel;
    channel = null;
    replica = clean ? replica : null;
    if (ch != null) {
      if (clean) {
        pool.release(ch);
      } else {
        ch.close();
      }
    }
  }

  private void reportBad(ServerAddress r, String reason) {
    master.request(Addresses.REPORT_BAD_REPLICA, new JsonObject().put("chunk", chunk.id())
        .put("server", r.id()).put("reason", reason));
  }

  private static List<ServerAddress> shuffled(List<ServerAddress> replicas) {
    List<ServerAddress> l = new ArrayList<>(replicas);
    Collections.shuffle(l);
    return l;
  }
}
