package io.vgfs.client.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

/**
 * Metadata requests to the active master with short send timeouts, retried with backoff while
 * the master is unreachable or not active, which is what a failover looks like from here: first
 * timeouts (requests routed to a dead node are dropped silently), then "no handlers" until the new
 * master registers. After {@code failoverTimeoutMs} the request fails with a retryable
 * {@link ErrorCode#UNAVAILABLE}. Failures the master reports (not found, conflict, ...) are final.
 */
final class MasterClient {

  private final Vertx vertx;
  private final DeliveryOptions delivery;
  private final long failoverTimeoutMs;
  private long highestEpoch; // of any master reply: sent along so a replaced master learns of it

  MasterClient(Vertx vertx, long requestTimeoutMs, long failoverTimeoutMs) {
    this.vertx = vertx;
    this.delivery = new DeliveryOptions().setSendTimeout(requestTimeoutMs);
    this.failoverTimeoutMs = failoverTimeoutMs;
  }

  /** Sends a request; completes with the reply body. Retries only retryable failures. */
  Future<JsonObject> request(String address, JsonObject body) {
    return request(address, body, new int[1]);
  }

  /**
   * As {@link #request(String, JsonObject)}; {@code attempts[0]} counts the sends, so a caller can
   * tell whether an earlier attempt may have taken effect.
   */
  Future<JsonObject> request(String address, JsonObject body, int[] attempts) {
    Promise<JsonObject> promise = Promise.promise();
    attempt(address, body, System.nanoTime() + failoverTimeoutMs * 1_000_000, 20, attempts, promise);
    return promise.future();
  }

  private void attempt(String address, JsonObject body, long deadline, long backoffMs,
                       int[] attempts, Promise<JsonObject> promise) {
    attempts[0]++;
    JsonObject sent = highestEpoch > body.getLong("epoch", 0L)
        ? body.copy().put("epoch", highestEpoch) : body;
    vertx.eventBus().<JsonObject>request(address, sent, delivery).onComplete(ar -> {
      if (ar.succeeded()) {
        JsonObject reply = ar.result().body();
        if (reply != null && reply.getValue("epoch") instanceof Number n) {
          highestEpoch = Math.max(highestEpoch, n.longValue());
        }
        promise.complete(reply);
        return;
      }
      VgfsException e = VgfsException.of(ar.cause());
      long left = (deadline - System.nanoTime()) / 1_000_000;
      boolean retry = e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.NOT_ACTIVE
          || e.code() == ErrorCode.STALE_EPOCH;
      if (!retry) {
        promise.fail(e);
      } else if (left <= 0) {
        promise.fail(new VgfsException(ErrorCode.UNAVAILABLE, "no active master answered within "
            + failoverTimeoutMs + " ms (" + e.getMessage() + ")"));
      } else {
        vertx.setTimer(Math.min(backoffMs, left), id ->
            attempt(address, body, deadline, Math.min(backoffMs * 2, 500), attempts, promise));
      }
    });
  }
}
