package io.vgfs.launcher;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Method;
import java.util.Set;

/**
 * Puts a lite member's event-bus registrations back into the cluster when a master joins a
 * cluster that had none.
 *
 * <p>Vert.x keeps every node's address and subscriptions in Hazelcast maps, and only data members
 * (the masters) hold map data: when the last master leaves, all of it is lost. A lite member then
 * fails to clean up after the departed master ({@code NoDataMemberInClusterException}), and that
 * clean-up is the only place where {@link HazelcastClusterManager} publishes its own registrations
 * again. Seen here: after every master had been down for a moment, a chunkserver never heard the
 * new master's announcement and could not be reached. The clean-up is private, so it is called by
 * reflection, with the members whose departure could not be handled: it tells the event bus they
 * left and republishes this node's address and subscriptions. If the method is missing (another
 * Vert.x version) this logs once and does nothing.
 *
 * <p>"No master left" is also what a lite member sees when it is the one cut off: frozen (SIGSTOP,
 * a stalled VM) past the heartbeat time-out, it wakes up alone and merges back. The members it
 * saw leave are then alive, with registrations in the merged cluster's maps; only those that are
 * no longer members are cleaned up (seen in {@code ChaosIT}: a chunkserver frozen for a minute
 * once erased every other node's registrations, and the cluster stayed unreachable).
 */
final class SubscriptionRepublisher implements MembershipListener {

  private static final Logger log = LoggerFactory.getLogger(SubscriptionRepublisher.class);
  private static final int ATTEMPTS = 30;
  /** The member attribute where HazelcastClusterManager keeps a member's Vert.x node id. */
  private static final String NODE_ID = "__vertx.nodeId";

  private final HazelcastClusterManager manager;
  private final Method membersRemoved;
  private boolean orphaned;
  private final Set<String> departed = new java.util.HashSet<>(); // Vert.x node ids

  private SubscriptionRepublisher(HazelcastClusterManager manager, Method membersRemoved) {
    this.manager = manager;
    this.membersRemoved = membersRemoved;
  }

  /** Watches {@code hazelcast}'s membership on behalf of a lite member's cluster manager. */
  static void install(HazelcastInstance hazelcast, HazelcastClusterManager manager) {
    Method m;
    try {
      m = HazelcastClusterManager.class.getDeclaredMethod("membersRemoved", Set.class);
      m.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("cannot republish event-bus registrations after every master left ({}); restart "
          + "this process if it stops answering after all masters were down", e.toString());
      return;
    }
    SubscriptionRepublisher republisher = new SubscriptionRepublisher(manager, m);
    hazelcast.getCluster().addMembershipListener(republisher);
    // Cut off together with a master, this node merges back without "no master" ever seen: the
    // routes it cached meanwhile need the same reload. Not on Hazelcast's event thread.
    hazelcast.getLifecycleService().addLifecycleListener(e -> {
      if (e.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.MERGED) {
        Thread t = new Thread(republisher::refreshSelector, "vgfs-refresh-routes");
        t.setDaemon(true);
        t.start();
      }
    });
  }

  @Override
  public synchronized void memberRemoved(MembershipEvent e) {
    boolean none = e.getMembers().stream().allMatch(m -> m.isLiteMember());
    String nodeId = e.getMember().getAttribute(NODE_ID);
    if ((none || orphaned) && nodeId != null) {
      departed.add(nodeId); // Vert.x failed to handle this departure: no map to clean up
    }
    if (none) {
      orphaned = true;
      log.warn("the last master left the cluster; event-bus registrations will be published again"
          + " when one joins");
    }
  }

  @Override
  public synchronized void memberAdded(MembershipEvent e) {
    if (!orphaned || e.getMember().isLiteMember()) {
      return;
    }
    orphaned = false;
    Set<String> gone = Set.copyOf(departed);
    departed.clear();
    // Not on Hazelcast's event thread (the maps may wait for partitions to be assigned), nor on
    // the common pool, which has one thread on two cores and is used by the join time-out.
    Thread t = new Thread(() -> republish(gone), "vgfs-republish-registrations");
    t.setDaemon(true);
    t.start();
  }

  /**
   * Reloads every address this node's event bus has cached from the cluster's map. Vert.x 5.0.10's
   * node selector caches, per address, the nodes to send to, updated only by map events; its
   * {@code registrationsLost()} (which Vert.x 4 used to clear that cache) does nothing. A node cut
   * off from the cluster misses the events of its absence, so after merging back it kept sending
   * to a master killed meanwhile (seen in {@code ChaosIT#frozenAcrossTakeover}: a chunkserver
   * never found the new master). Best effort: if the internals differ (another Vert.x), it logs
   * and does nothing.
   */
  private void refreshSelector() {
    Object selector;
    Set<String> addresses;
    try {
      java.lang.reflect.Field listener = HazelcastClusterManager.class
          .getDeclaredField("registrationListener");
      listener.setAccessible(true);
      selector = listener.get(manager);
      java.lang.reflect.Field entries = selector.getClass().getDeclaredField("entries");
      entries.setAccessible(true);
      addresses = Set.copyOf(((java.util.Map<String, ?>) entries.get(selector)).keySet());
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("cannot refresh the event bus's cached registrations ({}); a node that was cut off "
          + "may keep addressing members that left until it is restarted", e.toString());
      return;
    }
    RegistrationListener target = (RegistrationListener) selector;
    for (String address : addresses) {
      io.vertx.core.Promise<java.util.List<RegistrationInfo>> fresh = io.vertx.core.Promise.promise();
      manager.getRegistrations(address, fresh);
      fresh.future().onSuccess(list ->
          target.registrationsUpdated(new RegistrationUpdateEvent(address, list)));
    }
    log.info("event-bus routes of {} addresses reloaded from the cluster", addresses.size());
  }

  private void republish(Set<String> gone) {
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (!manager.isActive()) {
        return; // this node is leaving
      }
      try {
        // Only members that are really gone: when this node was the one cut off (frozen, or
        // behind a partition) the others are back in the merged cluster, and clearing their
        // registrations would make every one of them unreachable.
        Set<String> stale = new java.util.HashSet<>(gone);
        manager.getNodes().forEach(stale::remove);
        membersRemoved.invoke(manager, stale);
        log.info("event-bus registrations published again after a master joined ({} of {} "
            + "departed nodes still gone, their registrations removed)", stale.size(), gone.size());
        refreshSelector();
        return;
      } catch (ReflectiveOperationException | RuntimeException e) {
        if (attempt == ATTEMPTS) {
          log.error("publishing event-bus registrations again failed; trying again when the next "
              + "master joins (or restart this process)", e);
          synchronized (this) {
            orphaned = true;
            departed.addAll(gone);
          }
          return;
        }
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
