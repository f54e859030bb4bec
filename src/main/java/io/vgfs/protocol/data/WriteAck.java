package io.vgfs.protocol.data;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link FrameType#WRITE_ACK}: {@code {"chunk", "length", "replicas": [serverId…]}}: the ids of
 * the replicas that stored the chunk, the receiver first.
 */
public record WriteAck(long chunkId, long length, List<String> replicas) {

  public JsonObject toJson() {
    return new JsonObject().put("chunk", chunkId).put("length", length)
        .put("replicas", new JsonArray(new ArrayList<>(replicas)));
  }

  public static WriteAck fromJson(JsonObject json) {
    List<String> ids = new ArrayList<>();
    json.getJsonArray("replicas", new JsonArray()).forEach(o -> ids.add((String) o));
    return new WriteAck(json.getLong("chunk"), json.getLong("length"), ids);
  }
}
