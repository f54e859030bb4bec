package io.vgfs.protocol;

import io.vertx.core.json.JsonObject;

/**
 * Where a chunkserver serves the data protocol. JSON: {@code {"id": "...", "host": "...",
 * "port": 7001}}.
 *
 * @param id   the chunkserver's persistent id
 * @param host the address its peers and clients connect to
 * @param port the data-protocol port
 */
public record ServerAddress(String id, String host, int port) {

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("host", host).put("port", port);
  }

  public static ServerAddress fromJson(JsonObject json) {
    return new ServerAddress(json.getString("id"), json.getString("host"), json.getInteger("port"));
  }

  @Override
  public String toString() {
    return id + "@" + host + ":" + port;
  }
}
