package io.vgfs.protocol.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.ReadStream;
import io.vgfs.protocol.Crc32c;

import java.util.ArrayDeque;

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
 * <p><b>Pooled mode</b> ({@link #pooled(NetSocket)}) takes the socket's network buffers as Netty
 * hands them over, without Vert.x's copy into a heap buffer. DATA frames then carry a reference to
 * that memory, which their receiver must give back ({@link Frame#release()} or
 * {@link Frame#takePayload()}); control frames and raw runs are copied to the heap and need no
 * care. A decoder made by {@link #pooledRuns(NetSocket)} reads the same way but copies every frame
 * to the heap: its pooled memory leaves only as raw runs, and only to an
 * {@link #ownedRawHandler(Handler)}. {@link #close()} gives back what the decoder still holds.
 *
 * <p>Not thread-safe: use it on the source's context.
 */
public final class FrameDecoder implements Handler<Buffer> {

  private final ReadStream<Buffer> source;
  private final boolean pooled;       // the input is Netty's buffers, owned by this decoder
  private final boolean pooledFrames; // DATA frames keep that memory (else copied to the heap)
  private Handler<Frame> frameHandler = f -> { };
  private Handler<Buffer> rawHandler = b -> { };
  private Handler<ByteBuf> ownedRawHandler; // pooled decoders: raw runs without a copy
  private Handler<Throwable> exceptionHandler = t -> { };

  // Unconsumed input: each piece's readable bytes. In pooled mode the decoder owns a reference to
  // each piece; otherwise the pieces are views of heap buffers and reference counts are not used.
  private final ArrayDeque<ByteBuf> pieces = new ArrayDeque<>();
  private int available;
  private final byte[] header = new byte[Frames.HEADER_SIZE];
  private long rawRemaining;
  private boolean paused;
  private boolean failed;
  private boolean closed;
  private boolean draining;

  /**
   * @param source the stream to read and to pause; {@code null} to feed bytes with
   *               {@link #handle(Buffer)} (tests)
   */
  public FrameDecoder(ReadStream<Buffer> source) {
    this(source, false, false);
    if (source != null) {
      source.handler(this);
    }
  }

  private FrameDecoder(ReadStream<Buffer> source, boolean pooled, boolean pooledFrames) {
    this.source = source;
    this.pooled = pooled;
    this.pooledFrames = pooledFrames;
  }

  /**
   * A decoder in pooled mode on {@code socket}: it replaces the socket's data handler with a
   * handler of Netty's own buffers. {@code null} gives a decoder fed by {@link #handleOwned}
   * (tests).
   */
  public static FrameDecoder pooled(NetSocket socket) {
    return reading(socket, new FrameDecoder(socket, true, true));
  }

  /**
   * A decoder that reads Netty's buffers like {@link #pooled(NetSocket)} but hands every frame out
   * as a heap copy: pooled memory reaches only an {@link #ownedRawHandler(Handler)}, so frame
   * handlers need no care. For readers of raw runs (chunk reads) that pass them on as they are.
   */
  public static FrameDecoder pooledRuns(NetSocket socket) {
    return reading(socket, new FrameDecoder(socket, true, false));
  }

  private static FrameDecoder reading(NetSocket socket, FrameDecoder d) {
    if (socket != null) {
      ((NetSocketInternal) socket).messageHandler(msg -> {
        if (msg instanceof ByteBuf b) {
          d.handleOwned(b);
        } else {
          ReferenceCountUtil.release(msg);
        }
      });
    }
    return d;
  }

  public FrameDecoder frameHandler(Handler<Frame> handler) {
    this.frameHandler = handler;
    return this;
  }

  /** Raw runs as heap buffers (copies, for a pooled decoder); replaces an owned raw handler. */
  public FrameDecoder rawHandler(Handler<Buffer> handler) {
    this.rawHandler = handler;
    this.ownedRawHandler = null;
    return this;
  }

  /**
   * Pooled decoders: raw runs as views of the network buffers, each with one reference that the
   * handler owns and must release. Replaces the {@link #rawHandler(Handler)} until that is set
   * again.
   */
  public FrameDecoder ownedRawHandler(Handler<ByteBuf> handler) {
    if (!pooled) {
      throw new IllegalStateException("not a pooled decoder");
    }
    this.ownedRawHandler = handler;
    return this;
  }

  /** Whether raw runs can be had without a copy ({@link #ownedRawHandler(Handler)}). */
  public boolean isPooled() {
    return pooled;
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
    return available;
  }

  @Override
  public void handle(Buffer data) {
    if (failed || closed || data.length() == 0) {
      return;
    }
    pieces.add(((BufferInternal) data).getByteBuf());
    available += data.length();
    drain();
  }

  /** Pooled mode: takes over one reference to {@code data}. */
  public void handleOwned(ByteBuf data) {
    if (!pooled) {
      throw new IllegalStateException("not a pooled decoder");
    }
    if (failed || closed || !data.isReadable()) {
      data.release();
      return;
    }
    pieces.add(data);
    available += data.readableBytes();
    drain();
  }

  /** Gives back what is held and ignores all later input (the connection is gone). */
  public void close() {
    closed = true;
    clear();
    if (paused && source != null) {
      // Vert.x (5.0) holds what a paused socket reads and drops it unreleased if the connection
      // closes meanwhile: resuming hands it to this decoder, which now releases it.
      source.resume();
    }
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!paused && !failed && !closed) {
        if (rawRemaining > 0) {
          if (available == 0) {
            break;
          }
          int n = (int) Math.min(Math.min(available, rawRemaining), pieces.peekFirst()
              .readableBytes());
          rawRemaining -= n;
          Handler<ByteBuf> owned = ownedRawHandler;
          if (owned != null) {
            owned.handle(take(n)); // n lies in the first piece: a retained slice of it
          } else {
            rawHandler.handle(pooled ? heapCopy(n) : BufferInternal.buffer(take(n)));
          }
          continue;
        }
        if (available < Frames.HEADER_SIZE || !nextFrame()) {
          break;
        }
      }
    } finally {
      draining = false;
    }
  }

  // Emits the frame at the front if it is whole; false when more bytes are needed or it failed.
  private boolean nextFrame() {
    peek(header, Frames.HEADER_SIZE);
    if (header[0] != Frames.MAGIC) {
      return fail("bad frame magic 0x" + Integer.toHexString(header[0] & 0xff));
    }
    if (header[1] != Frames.VERSION) {
      return fail("unsupported protocol version " + header[1]);
    }
    FrameType type = FrameType.of(header[2] & 0xff);
    if (type == null) {
      return fail("unknown frame type " + (header[2] & 0xff));
    }
    int flags = header[3] & 0xff;
    long length = Integer.toUnsignedLong(intAt(4));
    if (length > Frames.maxPayload(type)) {
      return fail(type + " frame of " + length + " bytes exceeds the limit of "
          + Frames.maxPayload(type));
    }
    int total = Frames.HEADER_SIZE + (int) length;
    if (available < total) {
      return false;
    }
    int crc = intAt(8);
    skip(Frames.HEADER_SIZE);
    Frame frame;
    if (pooledFrames && type == FrameType.DATA) {
      ByteBuf payload = take((int) length);
      frame = new Frame(type, flags, BufferInternal.buffer(payload), crc, payload);
    } else {
      frame = new Frame(type, flags, pooled ? heapCopy((int) length)
          : BufferInternal.buffer(take((int) length)), crc);
    }
    if (Crc32c.of(frame.payload()) != crc) {
      frame.release();
      return fail(type + " frame failed its CRC32C check");
    }
    frameHandler.handle(frame);
    return true;
  }

  private int intAt(int i) {
    return (header[i] & 0xff) << 24 | (header[i + 1] & 0xff) << 16 | (header[i + 2] & 0xff) << 8
        | header[i + 3] & 0xff;
  }

  // Copies the first n bytes without consuming them.
  private void peek(byte[] into, int n) {
    int done = 0;
    for (ByteBuf p : pieces) {
      int k = Math.min(n - done, p.readableBytes());
      p.getBytes(p.readerIndex(), into, done, k);
      done += k;
      if (done == n) {
        return;
      }
    }
  }

  /**
   * Consumes the next n bytes as one buffer: a view of the input when they lie in one piece,
   * else (pooled) a composite of views or (heap) a merged copy. In pooled mode the result holds
   * its own references.
   */
  private ByteBuf take(int n) {
    ByteBuf first = pieces.peekFirst();
    if (n == 0) {
      return Unpooled.EMPTY_BUFFER;
    }
    if (first.readableBytes() >= n) {
      ByteBuf out = pooled ? first.retainedSlice(first.readerIndex(), n)
          : first.slice(first.readerIndex(), n);
      skip(n);
      return out;
    }
    if (!pooled) {
      ByteBuf merged = Unpooled.buffer(n);
      while (merged.isWritable()) {
        ByteBuf p = pieces.peekFirst();
        int k = Math.min(merged.writableBytes(), p.readableBytes());
        merged.writeBytes(p, p.readerIndex(), k);
        skip(k);
      }
      return merged;
    }
    CompositeByteBuf out = first.alloc().compositeDirectBuffer(Math.max(2, pieces.size()));
    int left = n;
    while (left > 0) {
      ByteBuf p = pieces.peekFirst();
      int k = Math.min(left, p.readableBytes());
      out.addComponent(true, p.retainedSlice(p.readerIndex(), k));
      skip(k);
      left -= k;
    }
    return out;
  }

  private Buffer heapCopy(int n) {
    Buffer copy = Buffer.buffer(n);
    int left = n;
    while (left > 0) {
      ByteBuf p = pieces.peekFirst();
      int k = Math.min(left, p.readableBytes());
      copy.appendBuffer(BufferInternal.buffer(p.slice(p.readerIndex(), k)));
      skip(k);
      left -= k;
    }
    return copy;
  }

  // Consumes n bytes, giving back pieces that are used up.
  private void skip(int n) {
    available -= n;
    while (n > 0) {
      ByteBuf p = pieces.peekFirst();
      int k = Math.min(n, p.readableBytes());
      p.skipBytes(k);
      n -= k;
      if (!p.isReadable()) {
        pieces.pollFirst();
        if (pooled) {
          p.release();
        }
      }
    }
  }

  private void clear() {
    ByteBuf p;
    while ((p = pieces.pollFirst()) != null) {
      if (pooled) {
        p.release();
      }
    }
    available = 0;
  }

  private boolean fail(String message) {
    failed = true;
    clear();
    exceptionHandler.handle(new FrameException(message));
    return false;
  }
}
