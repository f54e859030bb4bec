package io.vgfs.launcher;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.server.ServerConnection;
import com.hazelcast.internal.server.ServerConnectionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes Hazelcast member connections whose handshake has not completed in time.
 *
 * <p>Why: when a member hangs (SIGSTOP, a stalled VM) its kernel still accepts TCP connections.
 * The other members suspect it, close their connections to it and, while it is still listed,
 * connect again; that new connection never completes its handshake, and Hazelcast 5.3's I/O
 * thread that owns it then spins writing to it (measured: ~45% of a core per process for as long
 * as the member stays hung). Every other connection on that I/O thread starves: heartbeats
 * between healthy members stop, the master removes healthy chunkservers and gateways, and the
 * lite members split into a cluster with no data member. A live peer answers a handshake within
 * milliseconds, so a connection still without the peer's identity after {@link #TIMEOUT_MILLIS}
 * is closed; Hazelcast connects again if the peer is wanted.
 */
final class HandshakeWatchdog {

  static final long TIMEOUT_MILLIS = 1_000;
  private static final long PERIOD_MILLIS = 250;
  private static final Logger log = LoggerFactory.getLogger(HandshakeWatchdog.class);
  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "vgfs-handshake-watchdog");
    t.setDaemon(true);
    return t;
  });

  private final ServerConnectionManager connections;
  private final Map<ServerConnection, Long> firstSeen = new ConcurrentHashMap<>();

  private HandshakeWatchdog(ServerConnectionManager connections) {
    this.connections = connections;
  }

  /**
   * Watches {@code hz}'s member connections until it shuts down. Does nothing (and logs why) for
   * an instance that is not the embedded member implementation of Hazelcast 5.3.
   */
  static void watch(HazelcastInstance hz) {
    ServerConnectionManager manager;
    try {
      manager = ((HazelcastInstanceProxy) hz).getOriginal().node.getServer()
          .getConnectionManager(EndpointQualifier.MEMBER);
    } catch (RuntimeException | LinkageError e) {
      log.warn("cannot watch Hazelcast connection handshakes ({}); a hung member may slow the"
          + " cluster down", e.toString());
      return;
    }
    HandshakeWatchdog watchdog = new HandshakeWatchdog(manager);
    ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
    task[0] = TIMER.scheduleWithFixedDelay(() -> {
      if (!hz.getLifecycleService().isRunning()) {
        task[0].cancel(false);
        return;
      }
      watchdog.check(System.nanoTime());
    }, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void check(long now) {
    try {
      Collection<ServerConnection> current = connections.getConnections();
      firstSeen.keySet().retainAll(current);
      for (ServerConnection c : current) {
        if (!c.isAlive() || c.getRemoteUuid() != null) {
          firstSeen.remove(c);
          continue;
        }
        long since = firstSeen.computeIfAbsent(c, k -> now);
        if (now - since > TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS)) {
          firstSeen.remove(c);
          log.warn("closing the cluster connection to {}: no handshake after {} ms (is that"
              + " member hung?)", c.getRemoteAddress(), TIMEOUT_MILLIS);
          c.close("no handshake within " + TIMEOUT_MILLIS + " ms", null);
        }
      }
    } catch (RuntimeException e) {
      log.debug("handshake check failed", e);
    }
  }
}
