package io.vgfs.protocol.data;

import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

/**
 * {@link FrameType#ERROR}: {@code {"code": ErrorCode name, "message", "server"?}}. {@code server}
 * names the replica that failed when a chain member could not reach or complete its downstream,
 * so the writer can leave it out of its next attempt.
 */
public record ErrorFrame(ErrorCode code, String message, String server) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("code", code.name()).put("message", message);
    return server == null ? json : json.put("server", server);
  }

  public ReplicaException toException() {
    return new ReplicaException(code, message, server);
  }

  public static ErrorFrame of(Throwable t) {
    VgfsException v = VgfsException.of(t);
    return new ErrorFrame(v.code(), v.getMessage(),
        t instanceof ReplicaException r ? r.server() : null);
  }

  public static ErrorFrame fromJson(JsonObject json) {
    return new ErrorFrame(ErrorCode.ofName(json.getString("code")), json.getString("message"),
        json.getString("server"));
  }
}
