package io.vgfs.protocol.data;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vgfs.protocol.ServerAddress;

/**
 * One data-protocol connection: a socket with its {@link FrameDecoder}. The handlers belong to the
 * exchange in progress and are replaced by the next one when the connection is reused; any
 * transport failure or close after the exchange began goes to the failure handler once.
 *
 * <p>Used on the socket's context only.
 */
public final class DataChannel {

  /**
   * Most bytes one socket read takes: Netty's adaptive reads stop at 64 KiB by default, so a
   * 1 GiB transfer cost 16,384 reads, each a trip through the event loop and the frame decoder.
   * Reading up to 256 KiB at once measured faster on every large-file path (A/B of 1 GiB
   * transfers, BENCHMARKS.md, 2026-12-07 night: writes +12 % durable and +26 % buffered through
   * {@code VgfsClient}, reads +7 to +47 %). The reads shrink again for small exchanges.
   */
  public static final int READ_BYTES_MAX = 256 * 1024;

  private final NetSocket socket;
  private final FrameDecoder decoder;
  private final ServerAddress peer;
  private Handler<Frame> frameHandler = Frame::release;
  private Handler<Throwable> failureHandler = t -> { };
  private Handler<Void> closedHandler = v -> { };
  private boolean closed;
  private boolean failed;
  private long lastUsed = System.nanoTime();

  public DataChannel(NetSocket socket, ServerAddress peer) {
    this(socket, peer, false);
  }

  /**
   * @param pooled decode in pooled mode (see {@link FrameDecoder}): DATA frames then hold pooled
   *               memory that the frame handler must give back
   */
  public DataChannel(NetSocket socket, ServerAddress peer, boolean pooled) {
    this(socket, peer, pooled ? FrameDecoder.pooled(socket) : new FrameDecoder(socket));
  }

  /** A channel reading through {@code decoder}, which must already be reading {@code socket}. */
  public DataChannel(NetSocket socket, ServerAddress peer, FrameDecoder decoder) {
    this.socket = socket;
    this.peer = peer;
    ((NetSocketInternal) socket).channelHandlerContext().channel().config()
        .setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(512, Frames.BLOCK_SIZE,
            READ_BYTES_MAX));
    this.decoder = decoder
        .frameHandler(f -> frameHandler.handle(f))
        .exceptionHandler(this::fail);
    socket.exceptionHandler(this::fail);
    socket.closeHandler(v -> {
      closed = true;
      fail(new io.vgfs.protocol.VgfsException(io.vgfs.protocol.ErrorCode.UNAVAILABLE,
          "connection to " + peer + " closed"));
      closedHandler.handle(null);
    });
  }

  /** Called once when the connection has closed, after the failure handler. */
  public DataChannel closedHandler(Handler<Void> handler) {
    this.closedHandler = handler;
    return this;
  }

  public ServerAddress peer() {
    return peer;
  }

  public NetSocket socket() {
    return socket;
  }

  public FrameDecoder decoder() {
    return decoder;
  }

  /** Starts an exchange: frames and failures from now on go to these handlers. */
  public DataChannel handlers(Handler<Frame> frames, Handler<Throwable> failures) {
    this.frameHandler = frames;
    this.failureHandler = failures;
    this.failed = false;
    return this;
  }

  public Future<Void> send(FrameType type, JsonObject json) {
    return socket.write(Frames.encode(type, json));
  }

  public Future<Void> send(Buffer encodedFrame) {
    return socket.write(encodedFrame);
  }

  /**
   * Sends a DATA frame whose payload CRC is known, taking over one reference to {@code payload}.
   * The payload goes to the socket as it is, apart from the header: a direct buffer is not copied
   * on its way to the kernel.
   */
  public Future<Void> sendData(ByteBuf payload, int crc) {
    socket.write(Frames.header(FrameType.DATA, payload.readableBytes(), crc));
    return writeOwned(payload);
  }

  /**
   * Sends a DATA frame whose payload is anywhere (typically a caller's heap buffer): header and
   * payload are copied once into one direct buffer from the socket's allocator. That is the copy
   * the socket would make of a heap buffer anyway; handing it a composite of header and payload
   * instead made Netty first merge the two into a fresh, zeroed heap array.
   */
  public Future<Void> sendDataCopy(Buffer payload, int crc) {
    NetSocketInternal s = (NetSocketInternal) socket;
    ByteBuf src = ((BufferInternal) payload).getByteBuf();
    int length = src.readableBytes();
    ByteBuf out = s.channelHandlerContext().alloc().directBuffer(Frames.HEADER_SIZE + length);
    Frames.writeHeader(out, FrameType.DATA, length, crc);
    out.writeBytes(src, src.readerIndex(), length);
    return writeOwned(out);
  }

  /**
   * A DATA frame to fill in place: a direct buffer from the socket's allocator with room for the
   * header (left unwritten) and {@code payloadCapacity} bytes, its writer index after the header.
   * Writers that get their bytes in pieces smaller than a block gather them here, so each byte is
   * copied once on its way to the kernel. Send it with {@link #sendDataFrame} or release it.
   */
  public ByteBuf newDataFrame(int payloadCapacity) {
    ByteBuf frame = ((NetSocketInternal) socket).channelHandlerContext().alloc()
        .directBuffer(Frames.HEADER_SIZE + payloadCapacity);
    return frame.writerIndex(Frames.HEADER_SIZE);
  }

  /**
   * Sends a frame from {@link #newDataFrame}, taking it over: writes its header for the payload
   * gathered after it, whose CRC32C the caller computed.
   */
  public Future<Void> sendDataFrame(ByteBuf frame, int crc) {
    int end = frame.writerIndex();
    frame.writerIndex(0);
    Frames.writeHeader(frame, FrameType.DATA, end - Frames.HEADER_SIZE, crc);
    frame.writerIndex(end);
    return writeOwned(frame);
  }

  /**
   * Writes a buffer whose one reference this channel holds. Netty releases what reaches the
   * connection, whether it is written or fails there; Vert.x 5.0 fails a write it drops because
   * the connection closed (one queued behind a full socket, or one made after the close) without
   * releasing it, and says so with its closed exception: that one is released here.
   */
  private Future<Void> writeOwned(ByteBuf msg) {
    return ((NetSocketInternal) socket).writeMessage(msg).onFailure(t -> {
      if (t == NetSocketInternal.CLOSED_EXCEPTION) {
        msg.release();
      }
    });
  }

  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  public void drainHandler(Handler<Void> handler) {
    socket.drainHandler(handler);
  }

  public boolean isOpen() {
    return !closed && !failed;
  }

  long lastUsed() {
    return lastUsed;
  }

  void touch() {
    lastUsed = System.nanoTime();
  }

  public void close() {
    decoder.close();
    if (!closed) {
      closed = true;
      socket.close();
    }
  }

  private void fail(Throwable t) {
    if (failed) {
      return;
    }
    failed = true;
    decoder.close();
    Handler<Throwable> h = failureHandler;
    failureHandler = x -> { };
    frameHandler = Frame::release;
    if (!closed) {
      closed = true;
      socket.close();
    }
    h.handle(t);
  }
}
