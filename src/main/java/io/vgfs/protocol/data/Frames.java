package io.vgfs.protocol.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Crc32c;

/** Encodes frames; the layout is documented in {@link package-info}. */
public final class Frames {

  public static final byte MAGIC = (byte) 0xA7;
  public static final byte VERSION = 1;
  public static final int HEADER_SIZE = 12;
  /** Chunk data is checksummed, stored and sent in blocks of this many bytes. */
  public static final int BLOCK_SIZE = 64 * 1024;
  /** The largest payload of any frame but {@link FrameType#DATA}, which is at most a block. */
  public static final int MAX_CONTROL_PAYLOAD = 1024 * 1024;
  /** The largest chunk a chunkserver accepts, whatever the configured chunk size. */
  public static final long MAX_CHUNK_SIZE = 1024L * 1024 * 1024;

  private Frames() {
  }

  /** A frame with the given payload; the CRC is computed here. */
  public static Buffer encode(FrameType type, Buffer payload) {
    return encode(type, payload, Crc32c.of(payload));
  }

  /**
   * A frame whose payload CRC the caller already knows: the payload is not copied, header and
   * payload go out together as one composite buffer. Data blocks bound for a socket go through
   * {@link DataChannel#sendDataCopy} instead, which copies them once into direct memory.
   */
  public static Buffer encode(FrameType type, Buffer payload, int crc) {
    Buffer header = header(type, payload.length(), crc);
    return BufferInternal.buffer(Unpooled.wrappedBuffer(
        ((BufferInternal) header).getByteBuf(), ((BufferInternal) payload).getByteBuf()));
  }

  public static Buffer encode(FrameType type, JsonObject json) {
    return encode(type, json.toBuffer());
  }

  /** Writes the 12-byte header of a frame to {@code out}. */
  public static void writeHeader(ByteBuf out, FrameType type, int payloadLength, int crc) {
    out.writeByte(MAGIC).writeByte(VERSION).writeByte(type.code()).writeByte(0)
        .writeInt(payloadLength).writeInt(crc);
  }

  /** The 12-byte header alone. */
  public static Buffer header(FrameType type, int payloadLength, int crc) {
    ByteBuf out = Unpooled.buffer(HEADER_SIZE, HEADER_SIZE);
    writeHeader(out, type, payloadLength, crc);
    return BufferInternal.buffer(out);
  }

  /** The largest payload a frame of this type may carry. */
  public static int maxPayload(FrameType type) {
    return type == FrameType.DATA ? BLOCK_SIZE : MAX_CONTROL_PAYLOAD;
  }
}
