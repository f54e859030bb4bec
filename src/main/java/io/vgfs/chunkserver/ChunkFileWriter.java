package io.vgfs.chunkserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes a chunk's blocks to its file in batches: blocks queue up on the event loop and go to a
 * worker a megabyte or more at a time, one batch at a time, with one gathering write each. This
 * costs a thread hand-off per megabyte instead of per 64 KiB block. {@link #full()} and
 * {@link #onDrain(Runnable)} give the backpressure: at most a few megabytes wait here.
 *
 * <p>Blocks are Netty buffers that the writer owns once added: each is released once written or
 * when the write is abandoned. A direct (network) buffer goes to the file without a copy, while
 * the {@link DirectBudget} allows; past it the block is copied to the heap and given back.
 *
 * <p>Used on one event loop; the file channel is only touched by the batch in flight.
 */
final class ChunkFileWriter {

  private static final int BATCH_BYTES = 1024 * 1024;
  private static final int LIMIT_BYTES = 4 * 1024 * 1024;
  /** Writeback of what was written is started every this many bytes (sync only). */
  private static final long WRITEBACK_BYTES = 4L * 1024 * 1024;
  /** Without sync_file_range(2): an fdatasync every this many bytes, to the same end. */
  private static final long EARLY_FLUSH_BYTES = 16L * 1024 * 1024;

  private final Vertx vertx;
  private final Path path;
  private final boolean sync;
  private final DirectBudget budget;
  private List<ByteBuf> queued = new ArrayList<>();
  private long queuedBytes;
  private long inFlightBytes;
  private long position;
  private long flushedAt;
  private boolean writing;
  private FileChannel channel;
  private int writebackFd = -1; // worker threads only, like channel
  private long writebackFrom;   // worker threads only
  private Throwable failure;
  private Runnable drain;
  private Consumer<Throwable> failureHandler;
  private Promise<Void> finished;
  private volatile boolean aborted;

  ChunkFileWriter(Vertx vertx, Path path, boolean sync) {
    this(vertx, path, sync, DirectBudget.SHARED);
  }

  ChunkFileWriter(Vertx vertx, Path path, boolean sync, DirectBudget budget) {
    this.vertx = vertx;
    this.path = path;
    this.sync = sync;
    this.budget = budget;
  }

  /** Queues a block, taking over one reference to it. */
  void add(ByteBuf block) {
    if (failure != null) {
      block.release();
      return;
    }
    // Invariant: a direct block in the queue holds its size of the budget until released.
    if (block.isDirect() && !budget.tryTake(block.readableBytes())) {
      ByteBuf copy = Unpooled.buffer(block.readableBytes());
      copy.writeBytes(block, block.readerIndex(), block.readableBytes());
      block.release();
      block = copy;
    }
    queued.add(block);
    queuedBytes += block.readableBytes();
    if (queuedBytes >= BATCH_BYTES) {
      writeNext();
    }
  }

  /** Whether the writer is behind: the caller should pause its input until {@link #onDrain}. */
  boolean full() {
    return queuedBytes + inFlightBytes >= LIMIT_BYTES;
  }

  void onDrain(Runnable handler) {
    this.drain = handler;
  }

  /** Called once, on the event loop, when a write fails before {@link #finish()}. */
  void onFailure(Consumer<Throwable> handler) {
    this.failureHandler = handler;
  }

  /** Writes what is left, then (when {@code sync}) forces it to disk and closes the file. */
  Future<Void> finish() {
    finished = Promise.promise();
    writeNext();
    return finished.future();
  }

  /** Closes the file; the caller deletes it. */
  Future<Void> abort() {
    failure = failure != null ? failure : new IOException("aborted");
    aborted = true;
    releaseAll(queued);
    queued = new ArrayList<>();
    return vertx.executeBlocking(() -> {
      closeQuietly();
      return null;
    }, false);
  }

  private void writeNext() {
    if (writing || failure != null) {
      return;
    }
    if (queued.isEmpty()) {
      if (finished != null) {
        writing = true;
        vertx.executeBlocking(() -> {
          open();
          if (sync) {
            channel.force(false);
          }
          closeQuietly();
          return null;
        }, false).onComplete(ar -> {
          writing = false;
          if (ar.failed()) {
            failure = ar.cause();
          }
          finished.handle(ar.mapEmpty());
        });
      }
      return;
    }
    writing = true;
    List<ByteBuf> batch = queued;
    queued = new ArrayList<>();
    long bytes = queuedBytes;
    inFlightBytes = bytes;
    queuedBytes = 0;
    long at = position;
    position += bytes;
    long every = FileSystemSync.available() ? WRITEBACK_BYTES : EARLY_FLUSH_BYTES;
    boolean flush = sync && position - flushedAt >= every && finished == null;
    if (flush) {
      flushedAt = position;
    }
    long end = position;
    vertx.executeBlocking(() -> {
      try {
        open();
        List<ByteBuffer> parts = new ArrayList<>(batch.size() + 4);
        for (ByteBuf b : batch) {
          Collections.addAll(parts, b.nioBuffers());
        }
        ByteBuffer[] array = parts.toArray(new ByteBuffer[0]);
        long done = 0;
        channel.position(at);
        while (done < bytes) {
          done += channel.write(array);
        }
        if (flush) {
          startWriteback(end);
        }
        return null;
      } finally {
        releaseAll(batch);
      }
    }, false).onComplete(ar -> {
      writing = false;
      inFlightBytes = 0;
      if (ar.failed()) {
        boolean first = failure == null;
        failure = ar.cause();
        if (finished != null) {
          finished.tryFail(ar.cause());
        } else if (first && failureHandler != null) {
          failureHandler.accept(ar.cause());
        }
        return;
      }
      Runnable d = drain;
      if (d != null && !full()) {
        d.run();
      }
      if (finished != null || queuedBytes >= BATCH_BYTES) {
        writeNext();
      }
    });
  }

  private void releaseAll(List<ByteBuf> blocks) {
    for (ByteBuf b : blocks) {
      if (b.isDirect()) {
        budget.give(b.readableBytes());
      }
      b.release();
    }
  }

  // Worker thread; synchronized with abort's close so a late batch cannot reopen the file.
  private synchronized void open() throws IOException {
    if (aborted) {
      throw new IOException("aborted");
    }
    if (channel == null) {
      channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
  }

  // Worker thread. A durable chunk waits for one fsync at its end; if the whole chunk were still
  // in the page cache then, that fsync would write it all (three replicas on one disk at once),
  // so writeback starts as the bytes arrive. Without sync_file_range(2), an early fdatasync does
  // the same but holds the writer up while it runs.
  private void startWriteback(long end) throws IOException {
    if (!FileSystemSync.available()) {
      channel.force(false);
      return;
    }
    synchronized (this) {
      if (writebackFd < 0 && !aborted) {
        writebackFd = FileSystemSync.openForWriteback(path);
      }
      FileSystemSync.startWriteback(writebackFd, writebackFrom, end - writebackFrom);
    }
    writebackFrom = end;
  }

  private synchronized void closeQuietly() {
    FileSystemSync.close(writebackFd);
    writebackFd = -1;
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException ignored) {
      // the file is deleted next
    }
  }
}
