package io.vgfs.protocol.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

/**
 * One decoded frame. {@code payload} may share memory with the network buffer it came in; it is
 * never written to. {@code crc} is the header's CRC32C, already checked against the payload.
 *
 * <p>{@code pooled} is non-null for a DATA frame from a pooled decoder: the payload then lives in
 * Netty's pooled memory, and whoever receives the frame gives that reference back exactly once,
 * by {@link #release()} or by taking it with {@link #takePayload()}.
 */
public record Frame(FrameType type, int flags, Buffer payload, int crc, ByteBuf pooled) {

  /** A frame whose payload is ordinary heap memory. */
  public Frame(FrameType type, int flags, Buffer payload, int crc) {
    this(type, flags, payload, crc, null);
  }

  /** The payload as JSON (for {@link FrameType#json()} types). */
  public JsonObject json() {
    return new JsonObject(payload);
  }

  /**
   * The payload as a buffer with one reference that the caller now owns and must release; for a
   * heap payload a view of it with a count of its own (releasing that frees nothing).
   */
  public ByteBuf takePayload() {
    if (pooled != null) {
      return pooled;
    }
    ByteBuf view = ((BufferInternal) payload).getByteBuf();
    return view.isReadable() ? Unpooled.wrappedBuffer(view.nioBuffers()) : Unpooled.EMPTY_BUFFER;
  }

  /** Gives back pooled payload memory; a no-op for heap payloads. */
  public void release() {
    if (pooled != null) {
      pooled.release();
    }
  }
}
