package io.vgfs.protocol.data;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * One decoded frame. {@code payload} may share memory with the network buffer it came in; it is
 * never written to. {@code crc} is the header's CRC32C, already checked against the payload.
 */
public record Frame(FrameType type, int flags, Buffer payload, int crc) {

  /** The payload as JSON (for {@link FrameType#json()} types). */
  public JsonObject json() {
    return new JsonObject(payload);
  }
}
