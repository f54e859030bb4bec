package io.vgfs.chunkserver;

import io.vertx.core.json.JsonArray;

/** A chunk replica this server holds: what goes into chunk reports. */
public record ReplicaInfo(long chunkId, long version, long length) {

  /** The report form {@code [id, version, length]}. */
  public JsonArray toJson() {
    return new JsonArray().add(chunkId).add(version).add(length);
  }
}
