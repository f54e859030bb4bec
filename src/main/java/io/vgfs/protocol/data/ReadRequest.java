package io.vgfs.protocol.data;

import io.vertx.core.json.JsonObject;

/**
 * {@link FrameType#READ}: {@code {"chunk", "version", "offset", "length", "token", "epoch"}}:
 * bytes {@code [offset, offset + length)} of the chunk, clipped to its end. A replica whose
 * version is older than {@code version} refuses (it is stale).
 */
public record ReadRequest(long chunkId, long version, long offset, long length, String token,
                          long epoch) {

  public JsonObject toJson() {
    return new JsonObject().put("chunk", chunkId).put("version", version).put("offset", offset)
        .put("length", length).put("token", token).put("epoch", epoch);
  }

  public static ReadRequest fromJson(JsonObject json) {
    return new ReadRequest(json.getLong("chunk"), json.getLong("version", 0L),
        json.getLong("offset", 0L), json.getLong("length", Long.MAX_VALUE),
        json.getString("token", ""), json.getLong("epoch", 0L));
  }
}
