package io.vgfs.client.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Metadata requests to the active master, retried while the master is unreachable or not active,
 * which is what a failover looks like from here: requests routed to a dead master are dropped
 * silently (they would wait out their timeout), then "no handlers" until the new master registers.
 * So every request in flight is sent again at once when a new master announces itself, and
 * otherwise after a short timeout with backoff. After {@code failoverTimeoutMs} the request fails
 * with a retryable {@link ErrorCode#UNAVAILABLE}. Failures the master reports (not found,
 * conflict, ...) are final. Every request carries the highest master epoch seen, so a master that
 * has been replaced learns it from its first request.
 *
 * <p>Retried requests must be idempotent: the master's mutations are (commits carry the upload
 * id; a delete that finds nothing after a retry is reported as done by the caller).
 */
final class MasterClient {

  private final class Request {
    final String address;
    final JsonObject body;
    final long deadline;
    final int[] attempts;
    final Promise<JsonObject> promise = Promise.promise();
    long backoffMs = 20;
    long timer = -1;

    Request(String address, JsonObject body, int[] attempts) {
      this.address = address;
      this.body = body;
      this.attempts = attempts;
      this.deadline = System.nanoTime() + failoverTimeoutMs * 1_000_000;
    }
  }

  private final Vertx vertx;
  private final DeliveryOptions delivery;
  private final long failoverTimeoutMs;
  private final Set<Request> inFlight = new LinkedHashSet<>();
  private final MessageConsumer<JsonObject> announcements;
  private long highestEpoch;

  MasterClient(Vertx vertx, long requestTimeoutMs, long failoverTimeoutMs) {
    this.vertx = vertx;
    this.delivery = new DeliveryOptions().setSendTimeout(requestTimeoutMs);
    this.failoverTimeoutMs = failoverTimeoutMs;
    this.announcements = vertx.eventBus().consumer(Addresses.MASTER_ANNOUNCE, msg -> {
      long epoch = msg.body().getLong("epoch", 0L);
      if (epoch > highestEpoch) {
        highestEpoch = epoch;
        // A new master: whatever waits on the old one will never be answered. Ask again now.
        for (Request r : new java.util.ArrayList<>(inFlight)) {
          vertx.cancelTimer(r.timer);
          send(r);
        }
      }
    });
  }

  void close() {
    announcements.unregister();
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
    Request r = new Request(address, body, attempts);
    inFlight.add(r);
    r.promise.future().onComplete(ar -> inFlight.remove(r));
    send(r);
    return r.promise.future();
  }

  private void send(Request r) {
    if (r.promise.future().isComplete()) {
      return;
    }
    r.attempts[0]++;
    JsonObject sent = highestEpoch > r.body.getLong("epoch", 0L)
        ? r.body.copy().put("epoch", highestEpoch) : r.body;
    vertx.eventBus().<JsonObject>request(r.address, sent, delivery).onComplete(ar -> {
      if (r.promise.future().isComplete()) {
        return; // an earlier or later attempt answered
      }
      if (ar.succeeded()) {
        JsonObject reply = ar.result().body();
        if (reply != null && reply.getValue("epoch") instanceof Number n) {
          highestEpoch = Math.max(highestEpoch, n.longValue());
        }
        r.promise.tryComplete(reply);
        return;
      }
      VgfsException e = VgfsException.of(ar.cause());
      long left = (r.deadline - System.nanoTime()) / 1_000_000;
      boolean retry = e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.NOT_ACTIVE
          || e.code() == ErrorCode.STALE_EPOCH;
      if (!retry) {
        r.promise.tryFail(e);
      } else if (left <= 0) {
        r.promise.tryFail(new VgfsException(ErrorCode.UNAVAILABLE, "no active master answered within "
            + failoverTimeoutMs + " ms (" + e.getMessage() + ")"));
      } else {
        vertx.cancelTimer(r.timer);
        r.timer = vertx.setTimer(Math.min(r.backoffMs, left), id -> send(r));
        r.backoffMs = Math.min(r.backoffMs * 2, 500);
      }
    });
  }
}
