package io.vgfs.protocol.data;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vgfs.protocol.Crc32c;

/**
 * Splits a byte stream into {@link Frame}s, and into raw byte runs when the protocol announces
 * unframed bytes ({@link #expectRaw(long)}, used after {@link FrameType#READ_OK}).
 *
 * <p>Memory is bounded: a frame is emitted only once whole, and no frame may be larger than
 * {@link Frames#maxPayload(FrameType)} plus its header, so a connection never holds more than one
 * frame and one network read. Frames inside one network buffer are emitted as slices of it, without
 * copying. {@link #pause()} and {@link #resume()} propagate to the source stream, so backpressure
 * from whoever consumes the frames reaches the socket. A malformed frame (bad magic, version,
 * type, length or CRC) is reported once to the exception handler and everything after it is
 * ignored: the caller closes the connection.
 *
 * <p>Not thread-safe: use it on the source's context.
 */
public final class FrameDecoder implements Handler<Buffer> {

  private final ReadStream<Buffer> source;
  private Handler<Frame> frameHandler = f -> { };
  private Handler<Buffer> rawHandler = b -> { };
  private Handler<Throwable> exceptionHandler = t -> { };

  private Buffer buf;       // unconsumed input, from pos
  private int pos;
  private boolean owned;    // buf was allocated here, so it may be appended to
  private int want;         // size of the frame being assembled, when known
  private long rawRemaining;
  private boolean paused;
  private boolean failed;
  private boolean draining;

  /**
   * @param source the stream to read and to pause; {@code null} to feed bytes with
   *               {@link #handle(Buffer)} (tests)
   */
  public FrameDecoder(ReadStream<Buffer> source) {
    this.source = source;
    if (source != null) {
      source.handler(this);
    }
  }

  public FrameDecoder frameHandler(Handler<Frame> handler) {
    this.frameHandler = handler;
    return this;
  }

  public FrameDecoder rawHandler(Handler<Buffer> handler) {
    this.rawHandler = handler;
    return this;
  }

  public FrameDecoder exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  /** The next {@code count} bytes are raw data for the raw handler, not frames. */
  public void expectRaw(long count) {
    rawRemaining = count;
  }

  public long rawRemaining() {
    return rawRemaining;
  }

  public void pause() {
    paused = true;
    if (source != null) {
      source.pause();
    }
  }

  public void resume() {
    paused = false;
    if (source != null) {
      source.resume();
    }
    drain();
  }

  public boolean isPaused() {
    return paused;
  }

  /** Bytes received but not yet handed out. */
  public int buffered() {
    return buf == null ? 0 : buf.length() - pos;
  }

  @Override
  public void handle(Buffer data) {
    if (failed || data.length() == 0) {
      return;
    }
    append(data);
    drain();
  }

  private void append(Buffer data) {
    int avail = buffered();
    if (avail == 0) {
      buf = data;
      pos = 0;
      owned = false;
    } else if (owned && pos == 0) {
      buf.appendBuffer(data);
    } else {
      Buffer merged = Buffer.buffer(Math.max(avail + data.length(), want));
      merged.appendBuffer(buf, pos, avail).appendBuffer(data);
      buf = merged;
      pos = 0;
      owned = true;
    }
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!paused && !failed) {
        int avail = buffered();
        if (rawRemaining > 0) {
          if (avail == 0) {
            break;
          }
          int n = (int) Math.min(avail, rawRemaining);
          Buffer run = buf.slice(pos, pos + n);
          pos += n;
          rawRemaining -= n;
          rawHandler.handle(run);
          continue;
        }
        if (avail < Frames.HEADER_SIZE) {
          break;
        }
        if (!nextFrame(avail)) {
          break;
        }
      }
      if (buf != null && pos == buf.length()) {
        buf = null;
        pos = 0;
        owned = false;
      }
    } finally {
      draining = false;
    }
  }

  // Emits the frame at pos if it is whole; false when more bytes are needed or decoding failed.
  private boolean nextFrame(int avail) {
    if (buf.getByte(pos) != Frames.MAGIC) {
      return fail("bad frame magic 0x" + Integer.toHexString(buf.getByte(pos) & 0xff));
    }
    if (buf.getByte(pos + 1) != Frames.VERSION) {
      return fail("unsupported protocol version " + buf.getByte(pos + 1));
    }
    FrameType type = FrameType.of(buf.getByte(pos + 2) & 0xff);
    if (type == null) {
      return fail("unknown frame type " + (buf.getByte(pos + 2) & 0xff));
    }
    int flags = buf.getByte(pos + 3) & 0xff;
    long length = buf.getUnsignedInt(pos + 4);
    if (length > Frames.maxPayload(type)) {
      return fail(type + " frame of " + length + " bytes exceeds the limit of "
          + Frames.maxPayload(type));
    }
    int total = Frames.HEADER_SIZE + (int) length;
    if (avail < total) {
      want = total;
      return false;
    }
    want = 0;
    int crc = buf.getInt(pos + 8);
    Buffer payload = buf.slice(pos + Frames.HEADER_SIZE, pos + total);
    if (Crc32c.of(payload) != crc) {
      return fail(type + " frame failed its CRC32C check");
    }
    pos += total;
    frameHandler.handle(new Frame(type, flags, payload, crc));
    return true;
  }

  private boolean fail(String message) {
    failed = true;
    buf = null;
    exceptionHandler.handle(new FrameException(message));
    return false;
  }
}
