package io.vgfs.protocol.data;

import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Crc32c;

/**
 * {@link FrameType#WRITE_END}: {@code {"length", "crc32c"}}: the chunk's total length and the
 * CRC32C of all its bytes as the writer computed it; every replica checks both before it stores
 * the chunk, so a block lost or reordered anywhere on the chain is caught.
 */
public record WriteEnd(long length, int crc32c) {

  public JsonObject toJson() {
    return new JsonObject().put("length", length).put("crc32c", Crc32c.hex(crc32c));
  }

  public static WriteEnd fromJson(JsonObject json) {
    return new WriteEnd(json.getLong("length"), Crc32c.parseHex(json.getString("crc32c")));
  }
}
