package io.vgfs.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The master's answer to {@link Addresses#ALLOCATE}: a new chunk and the chain of replicas to
 * write it to, first replica first. JSON:
 * <pre>{"chunk": 4294967297, "version": 1, "epoch": 1, "token": "", "chunkSize": 67108864,
 *  "replicas": [ServerAddress…]}</pre>
 * {@code token} is the access token chunkservers check before accepting the write (empty until
 * the master signs tokens); {@code epoch} is the master term that made the allocation.
 */
public record Allocation(long chunkId, long version, long epoch, String token, long chunkSize,
                         List<ServerAddress> replicas) {

  public JsonObject toJson() {
    JsonArray arr = new JsonArray();
    replicas.forEach(r -> arr.add(r.toJson()));
    return new JsonObject().put("chunk", chunkId).put("version", version).put("epoch", epoch)
        .put("token", token).put("chunkSize", chunkSize).put("replicas", arr);
  }

  public static Allocation fromJson(JsonObject json) {
    List<ServerAddress> replicas = new ArrayList<>();
    JsonArray arr = json.getJsonArray("replicas");
    for (int i = 0; i < arr.size(); i++) {
      replicas.add(ServerAddress.fromJson(arr.getJsonObject(i)));
    }
    return new Allocation(json.getLong("chunk"), json.getLong("version"), json.getLong("epoch"),
        json.getString("token", ""), json.getLong("chunkSize"), replicas);
  }
}
