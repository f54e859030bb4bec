package io.vgfs.gateway;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every HTTP error the gateway sends: status from the {@link ErrorCode}, body
 * {@code {"error": CODE, "message": "..."}}, {@code Retry-After} on retryable failures. Internal
 * errors are logged with their stack trace here and never shown to the client.
 */
final class HttpErrors {

  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {
  }

  static void send(RoutingContext ctx, Throwable t) {
    VgfsException e = VgfsException.of(t);
    String message = e.getMessage();
    if (e.code() == ErrorCode.INTERNAL || e.code() == ErrorCode.IO_ERROR) {
      log.error("{} {} failed", ctx.request().method(), ctx.request().path(), t);
      message = "internal error; see the gateway log";
    }
    send(ctx.response(), e.code(), message);
  }

  static void send(HttpServerResponse response, ErrorCode code, String message) {
    if (response.headWritten()) {
      // Headers (and maybe bytes) are out: the only honest signal left is to cut the connection.
      response.reset();
      return;
    }
    if (response.closed()) {
      return;
    }
    response.setStatusCode(code.httpStatus())
        .putHeader("Content-Type", "application/json");
    if (code.retryable()) {
      response.putHeader("Retry-After", "1");
    }
    response.end(new JsonObject().put("error", code.name()).put("message", message).encode());
  }
}
