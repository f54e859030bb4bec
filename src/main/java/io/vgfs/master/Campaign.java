package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A standby master's campaign for the cluster-wide leader lock: it checks every
 * {@value #CHECK_MS} ms (and at once when a member leaves) whether it may lead, and if so takes
 * the lock; the holder is the active master. Runs on the master verticle's event loop; the
 * checks, which read the Hazelcast maps, on a worker.
 *
 * <p>The lock alone is not enough: after a split-brain merge Hazelcast's lock can be granted a
 * second time, and two masters would take turns deposing each other. So a standby campaigns
 * only once the active master recorded in the maps has left the cluster (it leaves at once on a
 * crash, after the heartbeat time-out on a hang). In a cold cluster (no master has been active in
 * it yet) it waits a little for the other masters its log knows of, and lets the one with the
 * most recent log lead: a master that was behind must not become active and hide what the others
 * acknowledged. With a master {@link Quorum}, a standby campaigns only while a quorum of masters
 * is present, and takes over only if its log goes furthest of all the masters present.
 */
final class Campaign {

  private static final Logger log = LoggerFactory.getLogger(Campaign.class);
  static final String LEADER_LOCK = "vgfs.master.leader";
  static final long CHECK_MS = 500;
  static final long POSITION_TIMEOUT_MS = 1000;
  private static final long STALL_WARN_MS = 10_000;

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final ClusterMirror mirror;
  private final String masterId;
  private final long coldStartWaitNanos;
  private final Supplier<JsonObject> me;
  private final Supplier<Set<String>> knownMasters;
  private final Consumer<Lock> won;
  private final Quorum quorum;
  private final long startedAt = System.nanoTime();
  private boolean running;
  private boolean checking;
  private long timer = -1;
  private Lock lock;
  private volatile boolean warnedQuorum;
  private String standingBy; // the last reason logged, on the event loop
  private long checkStarted;

  /**
   * @param me           this master's entry (its log's epoch and seq), read on the event loop
   * @param knownMasters the masters this master's log knows of, read on the event loop
   * @param won          called with the lock when this master may become active
   */
  Campaign(Vertx vertx, HazelcastInstance hazelcast, ClusterMirror mirror, String masterId,
           long coldStartWaitMs, Supplier<JsonObject> me, Supplier<Set<String>> knownMasters,
           Quorum quorum, Consumer<Lock> won) {
    this.quorum = quorum;
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.mirror = mirror;
    this.masterId = masterId;
    this.coldStartWaitNanos = TimeUnit.MILLISECONDS.toNanos(coldStartWaitMs);
    this.me = me;
    this.knownMasters = knownMasters;
    this.won = won;
  }

  void start() {
    running = true;
    check();
  }

  /** Stops campaigning, and releases the lock if this master holds it. */
  void stop() {
    running = false;
    vertx.cancelTimer(timer);
    if (lock != null) {
      lock.release();
      lock = null;
    }
  }

  /** A member left the cluster: perhaps the active master, so check now, not at the next tick. */
  void memberLeft() {
    if (running && timer >= 0 && vertx.cancelTimer(timer)) {
      check();
    }
  }

  private void check() {
    if (!running || checking) {
      return;
    }
    checking = true;
    timer = -1;
    long started = System.nanoTime();
    checkStarted = started;
    // A check waits on Hazelcast maps and on other masters: say so if it stalls, since a standby
    // that is stuck here is silent otherwise.
    vertx.setTimer(STALL_WARN_MS, id -> {
      if (checking && checkStarted == started) {
        log.warn("master {}: a leadership check has not finished in {} ms", masterId,
            STALL_WARN_MS);
      }
    });
    JsonObject self = me.get();
    Set<String> known = knownMasters.get();
    vertx.executeBlocking(() -> whyNot(self, known), false)
        .map(this::noted)
        .compose(may -> may && quorum.enabled() ? quorum.mostRecent(POSITION_TIMEOUT_MS)
            : Future.succeededFuture(may))
        .onComplete(may -> decided(may, started));
  }

  private void decided(io.vertx.core.AsyncResult<Boolean> may, long started) {
    if (!running) {
      checking = false;
      return;
    }
    if (may.failed() || !may.result()) {
      checking = false;
      timer = vertx.setTimer(CHECK_MS, id -> check());
      return;
    }
    long checked = System.nanoTime();
    vertx.sharedData().getLockWithTimeout(LEADER_LOCK, 2_000).onComplete(ar -> {
      checking = false;
      if (!running) {
        if (ar.succeeded()) {
          ar.result().release();
        }
        return;
      }
      if (ar.failed()) {
        noted("the leader lock is held elsewhere (" + ar.cause().getMessage() + ")");
        check(); // held by the active master: keep standing by
        return;
      }
      log.info("master {} won the leader lock (check {} ms, lock {} ms)", masterId,
          (checked - started) / 1_000_000, (System.nanoTime() - checked) / 1_000_000);
      lock = ar.result();
      running = false;
      won.accept(lock);
    });
  }

  /** Logs why this master stands by when the reason changes; true if it may lead. */
  private boolean noted(String reason) {
    if (reason != null && !reason.equals(standingBy)) {
      log.info("master {} stands by: {}", masterId, reason);
    }
    standingBy = reason;
    return reason == null;
  }

  // Blocking. Single-key reads where it matters: a whole-map query stalled take-overs after a
  // crash by seconds. Returns why this master may not lead, or null if it may.
  private String whyNot(JsonObject self, Set<String> known) {
    if (!quorum.present()) {
      // the minority side of a partition, or too many masters down
      return "no master quorum (" + quorum.describe() + ")";
    }
    if (quorum.enabled() && quorum.size() * 2 <= known.size() && !warnedQuorum) {
      warnedQuorum = true;
      log.warn("master quorum {} is not a majority of the {} masters that have led {}: two "
          + "groups of masters could each be active; set --master-quorum to {}", quorum.size(),
          known.size(), known, known.size() / 2 + 1);
    }
    Set<String> members = hazelcast.getCluster().getMembers().stream()
        .map(NodeIds::of).collect(Collectors.toSet());
    String active = mirror.loadCluster("activeMaster");
    JsonObject activeEntry = active == null || active.equals(masterId) ? null
        : mirror.loadMaster(active);
    if (activeEntry != null && "active".equals(activeEntry.getString("role"))
        && members.contains(activeEntry.getString("nodeId"))) {
      return "master " + active + " is active";
    }
    String epoch = mirror.loadCluster("epoch");
    if (epoch != null && epoch.equals(mirror.loadCluster(ClusterMirror.MAPS_EPOCH))) {
      return null; // the last active master made the maps current (MapRepair)
    }
    // A cold cluster, or its last active master died before it had repaired the maps: the
    // masters' own logs decide.
    Map<String, JsonObject> present = mirror.loadMasters();
    present.values().removeIf(m -> !members.contains(m.getString("nodeId")));
    boolean missing = known.stream().anyMatch(id -> !id.equals(masterId) && !present.containsKey(id));
    if (missing && System.nanoTime() - startedAt <= coldStartWaitNanos) {
      return "waiting for the masters its log knows of";
    }
    for (Map.Entry<String, JsonObject> e : present.entrySet()) {
      if (!e.getKey().equals(masterId) && newer(e.getValue(), e.getKey(), self, masterId)) {
        return "master " + e.getKey() + " has a more recent log and should lead";
      }
    }
    return null;
  }

  /** Whether log position {@code a} (of master {@code idA}) is more recent than {@code b}. */
  static boolean newer(JsonObject a, String idA, JsonObject b, String idB) {
    long ea = a.getLong("epoch", 0L);
    long eb = b.getLong("epoch", 0L);
    if (ea != eb) {
      return ea > eb;
    }
    long sa = a.getLong("seq", 0L);
    long sb = b.getLong("seq", 0L);
    return sa != sb ? sa > sb : idA.compareTo(idB) < 0;
  }
}
