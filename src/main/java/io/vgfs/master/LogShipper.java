package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The active master's side of log shipping: every log record goes to every standby, and a
 * mutation is acknowledged only once each in-sync standby has it on disk too, so whichever master
 * is active after a full restart has every acknowledged mutation.
 *
 * <p>From the moment a standby asks to follow, every record is acknowledged only once it holds
 * it: while it catches up (loads the state, writes its checkpoint) it holds records in memory,
 * afterwards on disk. So a standby that is ready when the active dies has every acknowledged
 * mutation, and takes over from its own memory. The cluster map says {@code inSync: true} for a
 * standby the active waits for. A standby that stops answering (dead, hung, cut off) is dropped:
 * {@code inSync: false} is published in the cluster map before anything is acknowledged without
 * it, so it knows to take over from the maps rather than from its memory. A standby that reports a
 * newer epoch means this master has been replaced: it steps down. Empty batches every
 * {@value #PING_MS} ms tell standbys the active is alive. Runs on the master's event loop.
 *
 * <p>With a master quorum q &gt; 1 ({@link Quorum}) a record is also held back until q - 1
 * caught-up standbys have it on disk, however many standbys were dropped: a master cut off from
 * the others acknowledges nothing more. Only the term's own epoch record is exempt (standbys
 * follow a new master only after it serves); but {@link #barrier()} waits for a quorum of
 * everything logged, so not even a record of the previous term that only this master holds is
 * reported before a standby has it (Raft's rule). A standby that times out is not dropped while
 * the quorum needs it: its records are sent again, and only leaving the cluster removes it.
 */
final class LogShipper {

  private static final Logger log = LoggerFactory.getLogger(LogShipper.class);
  static final long PING_MS = 250;

  private final class Follower {
    final String id;
    boolean inSync;
    boolean dropping;
    long acked;
    boolean inFlight;
    boolean slow;
    List<JsonObject> queue = new ArrayList<>();

    Follower(String id, long acked) {
      this.id = id;
      this.acked = acked;
    }
  }

  private final Vertx vertx;
  private final String masterId;
  private final long epoch;
  private final ClusterMirror mirror;
  private final PauseGuard guard;
  private final Consumer<String> stepDown;
  private final DeliveryOptions delivery;
  private final Map<String, Follower> followers = new LinkedHashMap<>();
  private final TreeMap<Long, List<Promise<Void>>> waiting = new TreeMap<>();
  private final TreeMap<Long, List<Promise<Void>>> barriers = new TreeMap<>();
  private final int quorum;
  private final long firstQuorumSeq;
  private long lastSeq;
  private long timer = -1;

  LogShipper(Vertx vertx, String masterId, long epoch, long lastSeq, ClusterMirror mirror,
             PauseGuard guard, long timeoutMs, int quorum, Consumer<String> stepDown) {
    this.quorum = quorum;
    this.firstQuorumSeq = lastSeq + 2; // after the epoch record that opens the term
    this.vertx = vertx;
    this.masterId = masterId;
    this.epoch = epoch;
    this.lastSeq = lastSeq;
    this.mirror = mirror;
    this.guard = guard;
    this.stepDown = stepDown;
    this.delivery = new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  void start() {
    timer = vertx.setPeriodic(PING_MS, id -> followers.values().forEach(this::send));
  }

  void stop() {
    vertx.cancelTimer(timer);
    followers.clear();
    waiting.values().forEach(l -> l.forEach(p -> p.tryFail("this master stepped down")));
    waiting.clear();
    barriers.values().forEach(l -> l.forEach(p -> p.tryFail("this master stepped down")));
    barriers.clear();
  }

  /** The seq of the last record shipped: a standby that asks to follow now starts after it. */
  long lastSeq() {
    return lastSeq;
  }

  /**
   * A standby asks to follow: from now on records wait for it. Completes with the seq after which
   * records will be shipped to it, once the cluster map says that it is waited for.
   */
  Future<Long> follow(String standby, String nodeId) {
    Follower f = new Follower(standby, lastSeq);
    Follower old = followers.put(standby, f);
    if (old != null) {
      old.dropping = true;
    }
    long from = lastSeq;
    log.info("standby {} follows from seq {}", standby, from);
    return mirror.putMaster(standby, new JsonObject().put("role", "standby").put("inSync", true)
        .put("nodeId", nodeId).put("since", System.currentTimeMillis())).map(v -> from);
  }

  /** Ships a record (with its seq); completes when every in-sync standby holds it durably. */
  Future<Void> ship(JsonObject record) {
    long seq = record.getLong("seq");
    lastSeq = seq;
    if (followers.isEmpty() && !needsQuorum(seq)) {
      return Future.succeededFuture();
    }
    for (Follower f : followers.values()) {
      f.queue.add(record);
      send(f);
    }
    Promise<Void> p = Promise.promise();
    waiting.computeIfAbsent(seq, s -> new ArrayList<>()).add(p);
    release();
    return p.future();
  }

  /**
   * Completes once every record shipped so far is acknowledged by the standbys the active waits
   * for and, with a master quorum, by a quorum of masters.
   */
  Future<Void> barrier() {
    long seq = lastSeq;
    if (quorum <= 1 || holding(seq) >= quorum - 1) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    barriers.computeIfAbsent(seq, s -> new ArrayList<>()).add(p);
    return p.future();
  }

  private boolean needsQuorum(long seq) {
    return quorum > 1 && seq >= firstQuorumSeq;
  }

  // Whether the quorum would be short without this caught-up standby.
  private boolean neededForQuorum(Follower f) {
    if (quorum <= 1 || !f.inSync) {
      return false;
    }
    int others = 0;
    for (Follower o : followers.values()) {
      if (o != f && o.inSync && !o.dropping) {
        others++;
      }
    }
    return others < quorum - 1;
  }

  // Caught-up standbys (not being dropped) that hold record seq durably.
  private int holding(long seq) {
    int n = 0;
    for (Follower f : followers.values()) {
      if (f.inSync && !f.dropping && f.acked >= seq) {
        n++;
      }
    }
    return n;
  }

  /** The ids of the standbys and whether each is in sync, for the cluster status. */
  Map<String, Boolean> standbys() {
    Map<String, Boolean> out = new LinkedHashMap<>();
    followers.values().forEach(f -> out.put(f.id, f.inSync));
    return out;
  }

  /** A cluster member left: if it was a standby, it is dead. */
  void memberLeft(String standby) {
    Follower f = followers.get(standby);
    if (f != null) {
      drop(f, "it left the cluster");
    }
  }

  private void send(Follower f) {
    if (f.inFlight || f.dropping || !followers.containsKey(f.id)) {
      return;
    }
    f.inFlight = true;
    List<JsonObject> batch = f.queue;
    f.queue = new ArrayList<>();
    JsonObject msg = new JsonObject().put("epoch", epoch).put("from", masterId).put("seq", lastSeq)
        .put("records", new JsonArray(new ArrayList<>(batch)));
    vertx.eventBus().<JsonObject>request(Addresses.replicaOf(f.id), msg, delivery).onComplete(ar -> {
      f.inFlight = false;
      if (followers.get(f.id) != f) {
        return;
      }
      if (ar.failed()) {
        if (ar.cause() instanceof ReplyException r
            && r.failureCode() == ErrorCode.STALE_EPOCH.code()) {
          stepDown.accept("standby " + f.id + " has seen a newer epoch: " + r.getMessage());
          return;
        }
        if (neededForQuorum(f)) {
          // Keep it: dropping it would stop every acknowledgement until it has caught up
          // again. Its records go out again (a standby skips what it already holds).
          batch.addAll(f.queue);
          f.queue = batch;
          if (!f.slow) {
            log.warn("standby {} did not answer ({}); the quorum needs it, sending again",
                f.id, ar.cause().getMessage());
            f.slow = true;
          }
          return;
        }
        drop(f, ar.cause().getMessage());
        return;
      }
      f.slow = false;
      JsonObject reply = ar.result().body();
      f.acked = Math.max(f.acked, reply.getLong("seq", f.acked));
      boolean ready = reply.getBoolean("ready", false);
      if (!f.inSync && ready) {
        log.info("standby {} caught up at seq {}", f.id, f.acked);
      } else if (f.inSync && !ready) {
        log.info("standby {} is catching up again", f.id); // it restarted its catch-up
      }
      f.inSync = ready; // caught up: it holds the whole state on disk
      release();
      if (!f.queue.isEmpty()) {
        send(f);
      }
    });
  }

  private void drop(Follower f, String why) {
    if (!guard.healthy()) {
      // This process was stopped: the standby may well be the new master.
      stepDown.accept("a standby stopped answering after this master was paused");
      return;
    }
    if (f.dropping) {
      return;
    }
    f.dropping = true; // still holds back acknowledgements until the decision is recorded
    log.warn("dropping standby {}: {}", f.id, why);
    mirror.putMaster(f.id, new JsonObject().put("role", "standby").put("inSync", false)
        .put("since", System.currentTimeMillis())).onComplete(ar -> {
          if (ar.failed()) {
            stepDown.accept("cannot record that standby " + f.id + " is behind: "
                + ar.cause().getMessage());
            return;
          }
          followers.remove(f.id);
          release();
        });
  }

  // Completes every waiting record that all in-sync standbys now hold.
  private void release() {
    long min = Long.MAX_VALUE;
    for (Follower f : followers.values()) {
      min = Math.min(min, f.acked); // every follower, caught up or not, holds what is acknowledged
    }
    Iterator<Map.Entry<Long, List<Promise<Void>>>> it = waiting.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, List<Promise<Void>>> e = it.next();
      if (e.getKey() > min || needsQuorum(e.getKey()) && holding(e.getKey()) < quorum - 1) {
        break;
      }
      e.getValue().forEach(Promise::tryComplete);
      it.remove();
    }
    Iterator<Map.Entry<Long, List<Promise<Void>>>> b = barriers.entrySet().iterator();
    while (b.hasNext()) {
      Map.Entry<Long, List<Promise<Void>>> e = b.next();
      if (holding(e.getKey()) < quorum - 1) {
        break;
      }
      e.getValue().forEach(Promise::tryComplete);
      b.remove();
    }
  }
}
