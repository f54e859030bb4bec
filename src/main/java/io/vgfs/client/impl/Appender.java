package io.vgfs.client.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.AppendOptions;
import io.vgfs.client.AppendResult;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.ReplicaException;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.UUID;

/**
 * One record append: ask the master where appends to the file go, send the record to that chunk's
 * primary, and on a full chunk, a refused or unreachable primary or a failed replica, ask again
 * (telling the master what went wrong) with the same request id, so the record lands once.
 */
final class Appender {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Appender.class);

  private static final int MAX_ATTEMPTS = 40;

  private final Vertx vertx;
  private final MasterClient master;
  private final DataChannelPool pool;
  private final long deadlineNanos;
  private final long stallMs; // a primary silent this long is given up on, the next attempt made

  Appender(Vertx vertx, MasterClient master, DataChannelPool pool, long timeoutMs, long stallMs) {
    this.stallMs = stallMs;
    this.vertx = vertx;
    this.master = master;
    this.pool = pool;
    this.deadlineNanos = System.nanoTime() + timeoutMs * 1_000_000;
  }

  Future<AppendResult> append(String path, Buffer data, AppendOptions options) {
    String requestId = options.getRequestId() != null ? options.getRequestId()
        : "a-" + UUID.randomUUID();
    Promise<AppendResult> result = Promise.promise();
    attempt(path, data, options, requestId, 0, null, null, new LinkedHashSet<>(), result);
    return result.future();
  }

  private void attempt(String path, Buffer data, AppendOptions options, String requestId, int n,
                       Long full, Long refused, Set<String> failed, Promise<AppendResult> result) {
    attempt(path, data, options, requestId, n, full, refused, -1, failed, result);
  }

  // `version`: the lease version the previous attempt used, so the master can tell whether the
  // complaint (refused, failed servers) is about its current lease.
  private void attempt(String path, Buffer data, AppendOptions options, String requestId, int n,
                       Long full, Long refused, long version, Set<String> failed,
                       Promise<AppendResult> result) {
    if (n >= MAX_ATTEMPTS || System.nanoTime() > deadlineNanos) {
      result.tryFail(new VgfsException(ErrorCode.UNAVAILABLE, "append to " + path
          + " did not succeed after " + n + " attempts"));
      return;
    }
    JsonObject req = new JsonObject().put("path", path).put("requestId", requestId)
        .put("length", data.length()).put("failed", new JsonArray(new java.util.ArrayList<>(failed)));
    if (options.getIfMatch() != null) {
      req.put("ifMatch", options.getIfMatch());
    }
    if (options.getIfNoneMatch() != null && n == 0) {
      req.put("ifNoneMatch", options.getIfNoneMatch()); // a retry may meet the file it created
    }
    if (full != null) {
      req.put("full", full);
    }
    if (refused != null) {
      req.put("refused", refused);
    }
    if (version >= 0) {
      req.put("version", version);
    }
    master.request(Addresses.APPEND_LOCATE, req).onComplete(ar -> {
      if (ar.failed()) {
        result.tryFail(ar.cause());
        return;
      }
      JsonObject grant = ar.result();
      if (grant.getBoolean("done", false)) {
        result.tryComplete(new AppendResult(grant.getLong("offset"), grant.getLong("length"),
            grant.getLong("size")));
        return;
      }
      ServerAddress primary = ServerAddress.fromJson(grant.getJsonObject("primary"));
      long chunk = grant.getLong("chunk");
      long leaseVersion = grant.getLong("version");
      send(primary, grant, requestId, data, options.getIfMatch()).onComplete(sent -> {
        if (sent.succeeded()) {
          JsonObject ok = sent.result();
          result.tryComplete(new AppendResult(ok.getLong("offset"), data.length(),
              ok.getLong("size")));
          return;
        }
        VgfsException e = VgfsException.of(sent.cause());
        log.debug("append {} attempt {} to chunk {} on {}: {}", requestId, n,
            Long.toHexString(chunk), primary, e.getMessage());
        Long nextFull = null;
        Long nextRefused = null;
        switch (e.code()) {
          case CHUNK_FULL -> nextFull = chunk;
          case NOT_PRIMARY, STALE_EPOCH, CONFLICT -> nextRefused = chunk;
          case UNAVAILABLE, IO_ERROR, INTERNAL, DATA_UNAVAILABLE -> {
            nextRefused = chunk;
            String bad = sent.cause() instanceof ReplicaException r ? r.server() : null;
            failed.add(bad != null ? bad : primary.id());
          }
          default -> {
            result.tryFail(e); // the record itself is refused: precondition, size
            return;
          }
        }
        Long f = nextFull;
        Long r = nextRefused;
        vertx.setTimer(Math.min(10L * (n + 1), 200), t ->
            attempt(path, data, options, requestId, n + 1, f, r, leaseVersion, failed, result));
      });
    });
  }

  private Future<JsonObject> send(ServerAddress primary, JsonObject grant, String requestId,
                                  Buffer data, String ifMatch) {
    return pool.acquire(primary).compose(ch -> {
      Promise<JsonObject> reply = Promise.promise();
      long timer = vertx.setTimer(stallMs, t -> {
        ch.close();
        reply.tryFail(new ReplicaException(ErrorCode.UNAVAILABLE, "primary " + primary
            + " did not answer within " + stallMs + " ms", primary.id()));
      });
      reply.future().onComplete(x -> vertx.cancelTimer(timer));
      ch.handlers(f -> {
        if (f.type() == FrameType.APPEND_OK) {
          pool.release(ch);
          reply.tryComplete(f.json());
        } else if (f.type() == FrameType.ERROR) {
          ch.close();
          reply.tryFail(ErrorFrame.fromJson(f.json()).toException());
        } else {
          ch.close();
          reply.tryFail(new ReplicaException(ErrorCode.INTERNAL, "unexpected " + f.type(),
              primary.id()));
        }
      }, t -> reply.tryFail(new ReplicaException(ErrorCode.UNAVAILABLE, "primary " + primary
          + " failed: " + t.getMessage(), primary.id())));
      JsonObject hdr = new JsonObject().put("chunk", grant.getLong("chunk"))
          .put("version", grant.getLong("version")).put("epoch", grant.getLong("epoch"))
          .put("requestId", requestId).put("length", data.length());
      if (ifMatch != null) {
        hdr.put("ifMatch", ifMatch);
      }
      ch.send(FrameType.APPEND, hdr);
      if (data.length() > 0) {
        ch.send(data);
      }
      return reply.future();
    });
  }
}
