package io.vgfs.protocol.data;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Durability;
import io.vgfs.protocol.ServerAddress;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link FrameType#WRITE_OPEN}: {@code {"chunk", "version", "epoch", "token", "durability",
 * "chain": [ServerAddress…]}}. {@code chain} lists the replicas after the receiver, in order; the
 * receiver forwards the exchange to the first of them with the rest as its chain.
 */
public record WriteOpen(long chunkId, long version, long epoch, String token, Durability durability,
                        List<ServerAddress> chain) {

  public WriteOpen {
    chain = List.copyOf(chain);
  }

  /** The same request for the next replica in the chain. */
  public WriteOpen downstream() {
    return new WriteOpen(chunkId, version, epoch, token, durability, chain.subList(1, chain.size()));
  }

  public JsonObject toJson() {
    JsonArray arr = new JsonArray();
    chain.forEach(a -> arr.add(a.toJson()));
    return new JsonObject().put("chunk", chunkId).put("version", version).put("epoch", epoch)
        .put("token", token).put("durability", durability.name()).put("chain", arr);
  }

  public static WriteOpen fromJson(JsonObject json) {
    List<ServerAddress> chain = new ArrayList<>();
    JsonArray arr = json.getJsonArray("chain", new JsonArray());
    for (int i = 0; i < arr.size(); i++) {
      chain.add(ServerAddress.fromJson(arr.getJsonObject(i)));
    }
    return new WriteOpen(json.getLong("chunk"), json.getLong("version", 1L),
        json.getLong("epoch", 0L), json.getString("token", ""),
        Durability.parse(json.getString("durability", "SYNC")), chain);
  }
}
