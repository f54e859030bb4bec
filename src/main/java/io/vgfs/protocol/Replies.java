package io.vgfs.protocol;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * The one way vgfs answers event-bus requests: run the handler, reply with its result, or fail
 * the message with the {@link ErrorCode} of whatever went wrong (also when the handler throws or
 * the body is not the expected JSON), so no request is left to time out.
 */
public final class Replies {

  private static final Logger log = LoggerFactory.getLogger(Replies.class);

  private Replies() {
  }

  /** Handles a JSON request with {@code handler}, replying with its JSON result. */
  public static void handle(Message<JsonObject> msg, Function<JsonObject, Future<JsonObject>> handler) {
    Future<JsonObject> result;
    try {
      JsonObject body = msg.body();
      if (body == null) {
        throw new VgfsException(ErrorCode.BAD_REQUEST, "a JSON object body is required");
      }
      result = handler.apply(body);
    } catch (ClassCastException e) {
      result = Future.failedFuture(new VgfsException(ErrorCode.BAD_REQUEST,
          "malformed request: " + e.getMessage()));
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result());
      } else {
        fail(msg, ar.cause());
      }
    });
  }

  /** Fails {@code msg} with the error code of {@code t}. */
  public static void fail(Message<?> msg, Throwable t) {
    VgfsException e = asVgfs(t);
    if (e.code() == ErrorCode.INTERNAL || e.code() == ErrorCode.IO_ERROR) {
      log.warn("request to {} failed", msg.address(), t);
    }
    msg.fail(e.code().code(), e.getMessage());
  }

  /** Replies with {@code body} and headers. */
  public static void reply(Message<?> msg, Object body, DeliveryOptions options) {
    msg.reply(body, options);
  }

  private static VgfsException asVgfs(Throwable t) {
    if (t instanceof VgfsException v) {
      return v;
    }
    if (t instanceof ClassCastException || t instanceof NullPointerException
        || t instanceof IllegalArgumentException || t instanceof io.vertx.core.json.DecodeException) {
      return new VgfsException(ErrorCode.BAD_REQUEST, "malformed request: " + t.getMessage());
    }
    return VgfsException.of(t);
  }
}
