package io.vgfs.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * One chunk of a file as the metadata sees it. JSON:
 * <pre>{"id": 4294967297, "version": 1, "length": 67108864, "crc32c": "1a2b3c4d",
 *  "replicas": [ServerAddress...]}</pre>
 * {@code replicas} is present only in lookups (where to read it); {@code crc32c} is the CRC32C
 * of the chunk's bytes, composed from its block checksums.
 */
public record ChunkRef(long id, long version, long length, int crc32c, List<ServerAddress> replicas) {

  public ChunkRef {
    replicas = replicas == null ? List.of() : List.copyOf(replicas);
  }

  public ChunkRef withReplicas(List<ServerAddress> r) {
    return new ChunkRef(id, version, length, crc32c, r);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("version", version).put("length", length)
        .put("crc32c", Crc32c.hex(crc32c));
    if (!replicas.isEmpty()) {
      JsonArray arr = new JsonArray();
      replicas.forEach(r -> arr.add(r.toJson()));
      json.put("replicas", arr);
    }
    return json;
  }

  public static ChunkRef fromJson(JsonObject json) {
    List<ServerAddress> replicas = new ArrayList<>();
    JsonArray arr = json.getJsonArray("replicas");
    if (arr != null) {
      for (int i = 0; i < arr.size(); i++) {
        replicas.add(ServerAddress.fromJson(arr.getJsonObject(i)));
      }
    }
    return new ChunkRef(json.getLong("id"), json.getLong("version", 1L), json.getLong("length"),
        Crc32c.parseHex(json.getString("crc32c", "0")), replicas);
  }
}
