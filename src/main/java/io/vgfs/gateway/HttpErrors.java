package io.vgfs.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
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
    } else if (e.getCause() instanceof VirtualMachineError) {
      log.error("{} {} refused: {}", ctx.request().method(), ctx.request().path(), message);
    }
    send(ctx.response(), e.code(), message);
  }

  /** Bytes of a refused request body read and dropped so that its client sees the answer. */
  static final long SWALLOW_LIMIT = 8L << 20;

  /**
   * Refuses an upload whose body may still be arriving. HTTP/1.x: the answer goes out at once with
   * {@code Connection: close}; the rest of the body is read and dropped (up to
   * {@link #SWALLOW_LIMIT}, not the gigabytes nobody will store) and the connection closes once
   * both are done. Closing with the body unread would make the kernel reset the connection, and a
   * client still sending would lose the answer ("received no bytes"). An HTTP/2 stream is reset
   * by the response alone; other streams carry on.
   */
  static void refuseUpload(RoutingContext ctx, Throwable t) {
    HttpServerRequest req = ctx.request();
    if (!req.isEnded() && req.version() != HttpVersion.HTTP_2) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      Promise<Void> drained = Promise.promise();
      long[] dropped = {0};
      req.handler(b -> {
        dropped[0] += b.length();
        if (dropped[0] > SWALLOW_LIMIT) {
          drained.tryComplete();
        }
      });
      req.exceptionHandler(e -> drained.tryComplete());
      req.endHandler(v -> drained.tryComplete());
      Promise<Void> answered = Promise.promise();
      ctx.response().endHandler(v -> answered.tryComplete());
      ctx.response().closeHandler(v -> answered.tryComplete());
      Future.all(drained.future(), answered.future()).onComplete(ar -> req.connection().close());
      req.resume();
    }
    send(ctx, t);
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
