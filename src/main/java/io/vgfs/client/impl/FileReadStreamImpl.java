package io.vgfs.client.impl;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vgfs.client.FileReadStream;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.OwnedBuffer;

import java.util.ArrayDeque;
import java.util.function.Function;

/**
 * A file range as a {@link io.vertx.core.streams.ReadStream}: fetches the chunks in order, one at
 * a time, through {@link ChunkFetch}. Demand is honoured exactly: while the consumer is paused the
 * current replica connection is paused too, so at most one verified block waits here.
 *
 * <p>A direct read ({@code VgfsClientImpl#readDirect}) emits {@link OwnedBuffer}s: the handler
 * owns each one; a buffer the stream drops (after a failure, or with no handler) it releases.
 */
public final class FileReadStreamImpl implements FileReadStream {

  interface FetchFactory {
    ChunkFetch create(ChunkRef chunk, long from, long to, java.util.function.Consumer<Buffer> sink,
                      Function<Long, Future<ChunkRef>> relocate);
  }

  private final Context context;
  private final FileInfo info;
  private long offset;
  private long length;
  private final FetchFactory fetches;
  private final Function<Long, Future<ChunkRef>> relocate;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private volatile Handler<Buffer> handler;
  private volatile Handler<Void> endHandler;
  private volatile Handler<Throwable> exceptionHandler;
  private Throwable unreported; // a failure or the end (END) no handler was there to take
  private static final Throwable END = new Throwable("end of stream (a marker)");
  private long demand = Long.MAX_VALUE;
  private boolean started;
  private boolean received;   // every byte has arrived
  private boolean finished;   // end or failure signalled
  private ChunkFetch fetch;
  private int chunkIndex;
  private long chunkStart;

  FileReadStreamImpl(Context context, FileInfo info, long offset, long length,
                     FetchFactory fetches, Function<Long, Future<ChunkRef>> relocate) {
    this.context = context;
    this.info = info;
    this.offset = offset;
    this.length = length;
    this.fetches = fetches;
    this.relocate = relocate;
  }

  @Override
  public FileInfo info() {
    return info;
  }

  @Override
  public long offset() {
    return offset;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public FileReadStream range(long offset, long length) {
    if (started) {
      throw new IllegalStateException("the stream has started");
    }
    if (offset < 0 || length < 0 || offset + length > info.size()) {
      throw new IllegalStateException("range [" + offset + ", +" + length + ") is outside "
          + info.size() + " bytes");
    }
    this.offset = offset;
    this.length = length;
    return this;
  }

  @Override
  public FileReadStream exceptionHandler(Handler<Throwable> h) {
    this.exceptionHandler = h;
    return reportLate();
  }

  @Override
  public FileReadStream handler(Handler<Buffer> h) {
    this.handler = h;
    if (h != null && !started) {
      started = true;
      // Start on a later turn so the caller can finish setting up its handlers.
      context.runOnContext(v -> nextChunk());
    }
    return this;
  }

  @Override
  public FileReadStream pause() {
    demand = 0;
    if (fetch != null) {
      fetch.pause();
    }
    return this;
  }

  @Override
  public FileReadStream resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public FileReadStream fetch(long amount) {
    demand = amount == Long.MAX_VALUE || demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
    context.runOnContext(v -> drain());
    return this;
  }

  @Override
  public FileReadStream endHandler(Handler<Void> h) {
    this.endHandler = h;
    return reportLate();
  }

  // A caller on another thread may set its end or exception handler after the stream finished:
  // the outcome waits for it rather than being lost (a reader would wait forever).
  private FileReadStream reportLate() {
    if (!started) {
      return this; // nothing can have happened yet
    }
    context.runOnContext(v -> {
      Throwable t = unreported;
      if (t == END && endHandler != null) {
        unreported = null;
        endHandler.handle(null);
      } else if (t != null && t != END && exceptionHandler != null) {
        unreported = null;
        exceptionHandler.handle(t);
      }
    });
    return this;
  }

  private void nextChunk() {
    if (finished) {
      return;
    }
    long end = offset + length;
    // Skip whole chunks before the position; the stream moves one chunk at a time.
    while (chunkIndex < info.chunks().size()) {
      ChunkRef c = info.chunks().get(chunkIndex);
      long cEnd = chunkStart + c.length();
      long pos = Math.max(offset, chunkStart);
      if (pos >= end) {
        break;
      }
      if (pos < cEnd) {
        long from = pos - chunkStart;
        long to = Math.min(end, cEnd) - chunkStart;
        chunkIndex++;
        chunkStart = cEnd;
        fetch = fetches.create(c, from, to, this::deliver, relocate);
        if (demand == 0) {
          fetch.pause();
        }
        fetch.start().onComplete(ar -> {
          if (ar.failed()) {
            fail(ar.cause());
          } else {
            fetch = null;
            nextChunk();
          }
        });
        return;
      }
      chunkIndex++;
      chunkStart = cEnd;
    }
    received = true;
    drain();
  }

  private void deliver(Buffer b) {
    queue.add(b);
    drain();
  }

  private void drain() {
    while (demand > 0 && !queue.isEmpty() && !finished) {
      Buffer b = queue.poll();
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      Handler<Buffer> h = handler;
      if (h != null) {
        h.handle(b);
      } else {
        OwnedBuffer.release(b); // nobody to take it
      }
    }
    if (fetch != null) {
      if (queue.isEmpty() && demand > 0) {
        fetch.resume();
      } else {
        fetch.pause();
      }
    }
    if (received && queue.isEmpty() && !finished) {
      finished = true;
      Handler<Void> h = endHandler;
      if (h != null) {
        h.handle(null);
      } else {
        unreported = END;
      }
    }
  }

  /**
   * Stops reading for a consumer that has gone (a download whose client hung up): nothing more is
   * emitted, not even the end, and what waits here is released.
   */
  public void cancel() {
    context.runOnContext(v -> {
      if (finished) {
        return;
      }
      finished = true;
      dropQueued();
      ChunkFetch f = fetch;
      fetch = null;
      if (f != null) {
        f.cancel();
      }
    });
  }

  private void dropQueued() {
    queue.forEach(OwnedBuffer::release);
    queue.clear();
  }

  private void fail(Throwable t) {
    if (finished) {
      return;
    }
    finished = true;
    dropQueued();
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(VgfsException.of(t));
    } else {
      unreported = VgfsException.of(t);
    }
  }
}
