package io.vgfs.protocol.data;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.VgfsException;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idle data connections kept per chunkserver for reuse, so that a small file costs no TCP
 * handshakes. A connection goes back to the pool only after an exchange that ended cleanly; one
 * that failed or closed is dropped. Idle connections are closed after {@code idleTimeoutMs}.
 *
 * <p>Used from one context (the owner's event loop): no locking.
 */
public final class DataChannelPool {

  /**
   * Write-queue bound of data sockets. Bytes queued on a socket sit in direct memory (Netty copies
   * them out of the heap when they are written), so this is what each upload costs a gateway, and
   * each stream a chunkserver forwards. 2 MiB made 32 concurrent uploads exhaust a 64 MiB
   * gateway's direct memory; 256 KiB wrote and read as fast (BENCHMARKS.md): the 1 MiB kernel
   * send buffer behind it keeps the pipe full.
   */
  public static final int WRITE_QUEUE_BYTES = 256 * 1024;

  private final NetClient client;
  private final int maxIdlePerPeer;
  private final long idleTimeoutNanos;
  private final Map<String, Deque<DataChannel>> idle = new HashMap<>();
  private final long timerId;
  private final Vertx vertx;
  private final boolean pooledRuns;

  public DataChannelPool(Vertx vertx, int maxIdlePerPeer, long idleTimeoutMs) {
    this(vertx, maxIdlePerPeer, idleTimeoutMs, false);
  }

  /**
   * @param pooledRuns decode with {@link FrameDecoder#pooledRuns}, so that readers can
   *                   take chunk bytes as Netty's own buffers, without a copy
   */
  public DataChannelPool(Vertx vertx, int maxIdlePerPeer, long idleTimeoutMs,
                         boolean pooledRuns) {
    this.vertx = vertx;
    this.pooledRuns = pooledRuns;
    this.client = vertx.createNetClient(new NetClientOptions()
        .setConnectTimeout(5000)
        .setTcpNoDelay(true)
        .setReceiveBufferSize(1024 * 1024)
        .setSendBufferSize(1024 * 1024));
    this.maxIdlePerPeer = maxIdlePerPeer;
    this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
    this.timerId = vertx.setPeriodic(Math.max(1000, idleTimeoutMs / 2), id -> evictIdle());
  }

  /** An open connection to {@code peer}: an idle one if there is one, otherwise a new one. */
  public Future<DataChannel> acquire(ServerAddress peer) {
    Deque<DataChannel> q = idle.get(key(peer));
    while (q != null && !q.isEmpty()) {
      DataChannel ch = q.pollLast();
      if (ch.isOpen()) {
        return Future.succeededFuture(ch);
      }
    }
    return connect(peer);
  }

  /** A new connection, never a pooled one. */
  public Future<DataChannel> connect(ServerAddress peer) {
    return client.connect(peer.port(), peer.host())
        .map(socket -> {
          socket.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
          return pooledRuns ? new DataChannel(socket, peer, FrameDecoder.pooledRuns(socket))
              : new DataChannel(socket, peer);
        })
        .recover(t -> Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE,
            "cannot connect to chunkserver " + peer + ": " + t.getMessage(), t)));
  }

  /** Returns a connection whose exchange ended cleanly; anything else is closed. */
  public void release(DataChannel ch) {
    if (!ch.isOpen() || ch.decoder().buffered() > 0 || ch.decoder().rawRemaining() > 0) {
      ch.close();
      return;
    }
    ch.handlers(f -> ch.close(), t -> { });
    ch.decoder().rawHandler(b -> ch.close());
    if (ch.decoder().isPaused()) {
      // A reader paused it for backpressure; the next exchange must not start deaf.
      ch.decoder().resume();
    }
    ch.touch();
    Deque<DataChannel> q = idle.computeIfAbsent(key(ch.peer()), k -> new ArrayDeque<>());
    if (q.size() >= maxIdlePerPeer) {
      ch.close();
    } else {
      q.addLast(ch);
    }
  }

  public Future<Void> close() {
    vertx.cancelTimer(timerId);
    idle.values().forEach(q -> q.forEach(DataChannel::close));
    idle.clear();
    return client.close();
  }

  private void evictIdle() {
    long now = System.nanoTime();
    idle.values().forEach(q -> q.removeIf(ch -> {
      boolean stale = !ch.isOpen() || now - ch.lastUsed() > idleTimeoutNanos;
      if (stale) {
        ch.close();
      }
      return stale;
    }));
  }

  private static String key(ServerAddress a) {
    return a.host() + ":" + a.port();
  }
}
