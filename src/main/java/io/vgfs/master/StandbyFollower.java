package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.Replies;
import io.vgfs.protocol.VgfsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * A standby's side of log shipping: it asks the active master to follow it, catches up (the whole
 * state as the active held it when asked, fetched from it page by page ({@link StateTransfer}),
 * then every record shipped since, then a checkpoint of the result as the base of its own log), and from then on applies and logs each shipped record
 * before acknowledging it. Its memory thus holds the active's state at all times (a hot standby),
 * and its disk every acknowledged mutation. If records stop arriving, a gap appears or a newer
 * master shows up, it starts over. Runs on the master verticle's event loop.
 *
 * <p>A master that announces itself is asked at once, at its own address: right after a take-over
 * the shared {@link Addresses#FOLLOW} address may still route to the dead master's subscription,
 * and waiting out that request's time-out delayed standbys (and with a master quorum every write)
 * by seconds.
 */
final class StandbyFollower {

  private static final Logger log = LoggerFactory.getLogger(StandbyFollower.class);
  private static final long SILENCE_MS = 2000;

  private final Vertx vertx;
  private final String masterId;
  private final String nodeId;
  private final MetadataState state;
  private final MetaLog metaLog;
  private final ClusterMirror mirror;
  private MessageConsumer<JsonObject> consumer;
  private MessageConsumer<JsonObject> announcements;
  private String announced;      // the master that announced the highest epoch, asked by name
  private long announcedEpoch;
  private boolean askAgain;      // an announcement arrived while a follow request was out
  private long timer = -1;

  private enum Phase { IDLE, LOADING, INSTALLING, READY }

  private Phase phase = Phase.IDLE;
  private long leaderEpoch;      // the epoch of the master followed, 0 when not following
  private boolean asking;
  private long applied;          // last record applied to the state
  private long lastHeard;
  private final List<JsonObject> pendingLog = new ArrayList<>(); // applied, not logged yet
  private final List<JsonObject> buffered = new ArrayList<>();   // received while loading
  private long highestEpoch;
  private long loggedEpoch;      // the epoch of the state this master's log holds
  private boolean lostLogged;

  StandbyFollower(Vertx vertx, String masterId, String nodeId, MetadataState state, MetaLog metaLog,
                  ClusterMirror mirror) {
    this.vertx = vertx;
    this.masterId = masterId;
    this.nodeId = nodeId;
    this.state = state;
    this.metaLog = metaLog;
    this.mirror = mirror;
    this.highestEpoch = state.epoch();
    this.loggedEpoch = state.epoch();
  }

  /** The epoch of the state in this master's log (not of a catch-up still in memory). */
  long loggedEpoch() {
    return loggedEpoch;
  }

  void start() {
    consumer = vertx.eventBus().consumer(Addresses.replicaOf(masterId), this::onBatch);
    announcements = vertx.eventBus().consumer(Addresses.MASTER_ANNOUNCE, msg -> {
      long epoch = msg.body().getLong("epoch", 0L);
      String master = msg.body().getString("masterId");
      if (epoch <= announcedEpoch || master == null || master.equals(masterId)) {
        return;
      }
      announced = master;
      announcedEpoch = epoch;
      highestEpoch = Math.max(highestEpoch, epoch); // records of older terms are refused now
      if (epoch > leaderEpoch) {
        if (asking) {
          askAgain = true;
        } else {
          restart();
          ensureFollowing();
        }
      }
    });
    timer = vertx.setPeriodic(250, id -> ensureFollowing());
    ensureFollowing();
  }

  /** Stops following; returns whether the state is complete (in sync with the last active). */
  boolean stop() {
    vertx.cancelTimer(timer);
    if (consumer != null) {
      consumer.unregister();
    }
    if (announcements != null) {
      announcements.unregister();
    }
    return phase == Phase.READY;
  }

  /** The highest master epoch seen in shipped records or follow replies. */
  long highestEpoch() {
    return highestEpoch;
  }

  boolean ready() {
    return phase == Phase.READY;
  }

  private void ensureFollowing() {
    boolean silent = System.currentTimeMillis() - lastHeard > SILENCE_MS;
    if (asking || (phase != Phase.IDLE && !silent)) {
      return;
    }
    asking = true;
    askAgain = false;
    buffered.clear();
    String target = announced;
    String address = target == null ? Addresses.FOLLOW : Addresses.ofMaster(Addresses.FOLLOW, target);
    vertx.eventBus().<JsonObject>request(address, new JsonObject().put("masterId", masterId)
        .put("nodeId", nodeId).put("epoch", highestEpoch), new DeliveryOptions().setSendTimeout(2000)).onComplete(ar -> {
          asking = false;
          if (ar.failed() && target != null && target.equals(announced)
              && ar.cause() instanceof io.vertx.core.eventbus.ReplyException r
              && r.failureType() != io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE) {
            announced = null; // gone or silent: ask whoever serves the shared address next time
          }
          if (ar.failed() && askAgain) {
            restart();
            ensureFollowing();
            return;
          }
          if (ar.failed()) {
            // No active master answers. What this standby holds stays valid (it is a prefix of the
            // log that the last active could only acknowledge with this standby's agreement), so
            // it is kept for a take-over; a new active master means catching up anew.
            if (!lostLogged) {
              log.info("no active master answers ({}); holding seq {} as {}", ar.cause().getMessage(),
                  applied, phase);
              lostLogged = true;
            }
            return;
          }
          lostLogged = false;
          JsonObject reply = ar.result().body();
          if (askAgain && reply.getLong("epoch", 0L) < announcedEpoch) {
            ensureFollowing(); // answered by the master the announcement replaced
            return;
          }
          catchUp(reply.getString("masterId"), reply.getLong("epoch"), reply.getLong("seq"));
        });
  }

  private void catchUp(String leader, long epoch, long fromSeq) {
    leaderEpoch = epoch;
    highestEpoch = Math.max(highestEpoch, epoch);
    phase = Phase.LOADING;
    applied = fromSeq;
    // Batches that arrived before the answer to our follow request: keep this master's records.
    List<JsonObject> early = new ArrayList<>();
    for (JsonObject b : buffered) {
      if (b.containsKey("records")) {
        if (b.getLong("epoch", 0L) == epoch) {
          b.getJsonArray("records").forEach(r -> early.add((JsonObject) r));
        }
      } else {
        early.add(b);
      }
    }
    buffered.clear();
    buffered.addAll(early);
    pendingLog.clear();
    lastHeard = System.currentTimeMillis();
    log.info("following active master {} (epoch {}) from seq {}: loading its state", leader, epoch,
        fromSeq);
    fetchState(leader, epoch, fromSeq).onComplete(ar -> {
      if (leaderEpoch != epoch || phase != Phase.LOADING) {
        return; // started over meanwhile
      }
      if (ar.failed()) {
        log.warn("loading the active master's state failed: {}", ar.cause().toString());
        restart();
        return;
      }
      state.load(ar.result().header(), ar.result().entries());
      phase = Phase.INSTALLING;
      for (JsonObject r : buffered) {
        if (!applyInOrder(r)) {
          return;
        }
      }
      buffered.clear();
      pendingLog.clear(); // everything applied so far goes into the checkpoint
      List<Object> snapshot = state.checkpointEntries();
      JsonObject header = state.checkpointHeader();
      long at = applied;
      vertx.executeBlocking(() -> {
        metaLog.install(header, snapshot, MetadataState::encodeEntry, at);
        return null;
      }, false).onComplete(done -> {
        if (leaderEpoch != epoch || phase != Phase.INSTALLING) {
          return;
        }
        if (done.failed()) {
          log.error("cannot write the caught-up state to disk", done.cause());
          restart();
          return;
        }
        phase = Phase.READY;
        loggedEpoch = Math.max(loggedEpoch, epoch);
        for (JsonObject r : new ArrayList<>(pendingLog)) {
          logNow(r);
        }
        pendingLog.clear();
        log.info("caught up with the active master at seq {} ({} files)", at,
            state.namespace().size());
      });
    });
  }

  private void restart() {
    phase = Phase.IDLE;
    leaderEpoch = 0;
  }

  private record Loaded(JsonObject header, List<JsonObject> entries) {
  }

  // The state the active master held at fromSeq, fetched page by page (StateTransfer); from the
  // cluster maps if the active is of a version that offers none.
  private Future<Loaded> fetchState(String leader, long epoch, long fromSeq) {
    return fetchPages(leader, epoch, fromSeq, 0, new ArrayList<>()).recover(t -> {
      if (t instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
        log.info("active master {} offers no state to fetch: loading the cluster maps", leader);
        return vertx.executeBlocking(mirror::loadState, false)
            .map(m -> new Loaded(m.header(epoch), m.entries()));
      }
      return Future.failedFuture(t);
    });
  }

  private Future<Loaded> fetchPages(String leader, long epoch, long fromSeq, int page,
                                    List<JsonObject> into) {
    JsonObject req = new JsonObject().put("masterId", masterId).put("epoch", epoch)
        .put("seq", fromSeq).put("page", page);
    return vertx.eventBus().<JsonObject>request(Addresses.ofMaster(Addresses.FOLLOW_STATE, leader),
        req, new DeliveryOptions().setSendTimeout(10_000)).compose(m -> {
          m.body().getJsonArray("entries").forEach(e -> into.add((JsonObject) e));
          if (m.body().getBoolean("last", false)) {
            return Future.succeededFuture(new Loaded(m.body().getJsonObject("header"), into));
          }
          if (leaderEpoch != epoch || phase != Phase.LOADING) {
            return Future.failedFuture("started over while fetching the state");
          }
          return fetchPages(leader, epoch, fromSeq, page + 1, into);
        });
  }

  private void onBatch(Message<JsonObject> msg) {
    JsonObject batch = msg.body();
    long epoch = batch.getLong("epoch", 0L);
    if (epoch < highestEpoch) {
      Replies.fail(msg, new VgfsException(ErrorCode.STALE_EPOCH, "log records from epoch " + epoch
          + " refused: epoch " + highestEpoch + " has taken over"));
      return;
    }
    if (phase == Phase.IDLE && asking) {
      // Records shipped while our follow request is being answered: keep them for the catch-up.
      buffered.add(batch);
      msg.reply(new JsonObject().put("seq", lastSeqOf(batch.getJsonArray("records")))
          .put("ready", false).put("nodeId", nodeId));
      return;
    }
    if (epoch != leaderEpoch || phase == Phase.IDLE) {
      highestEpoch = Math.max(highestEpoch, epoch);
      restart(); // a master we do not follow (yet): ask it
      Replies.fail(msg, new VgfsException(ErrorCode.NOT_ACTIVE, "standby " + masterId
          + " is not following epoch " + epoch + " yet"));
      ensureFollowing();
      return;
    }
    lastHeard = System.currentTimeMillis();
    JsonArray records = batch.getJsonArray("records", new JsonArray());
    List<Future<Void>> durable = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      JsonObject r = records.getJsonObject(i);
      if (phase == Phase.LOADING) {
        buffered.add(r);
      } else if (!applyInOrder(r)) {
        Replies.fail(msg, new VgfsException(ErrorCode.CONFLICT,
            "gap in the shipped log; catching up again"));
        return;
      } else if (phase == Phase.READY) {
        durable.add(logNow(r));
      }
    }
    boolean ready = phase == Phase.READY;
    // What this standby holds: applied records, or while loading the ones kept for later.
    long held = phase == Phase.LOADING
        ? Math.max(applied, buffered.isEmpty() ? 0 : buffered.get(buffered.size() - 1).getLong("seq"))
        : applied;
    Future.all(durable).onComplete(ar -> {
      if (ar.failed()) {
        log.error("cannot log shipped records; catching up again", ar.cause());
        restart();
        Replies.fail(msg, ar.cause());
        return;
      }
      msg.reply(new JsonObject().put("seq", held).put("ready", ready).put("nodeId", nodeId));
    });
  }

  private static long lastSeqOf(JsonArray records) {
    return records == null || records.isEmpty() ? 0
        : records.getJsonObject(records.size() - 1).getLong("seq");
  }

  // Applies the next record in order; false (and a fresh catch-up) on a gap.
  private boolean applyInOrder(JsonObject r) {
    long seq = r.getLong("seq");
    if (seq <= applied) {
      return true; // already inside the state we loaded
    }
    if (seq != applied + 1) {
      log.warn("gap in the shipped log: expected seq {}, got {}", applied + 1, seq);
      restart();
      return false;
    }
    state.apply(r.copy());
    applied = seq;
    if (phase == Phase.INSTALLING) {
      pendingLog.add(r);
    }
    if ("epoch".equals(r.getString("op"))) {
      highestEpoch = Math.max(highestEpoch, r.getLong("epoch"));
      if (phase == Phase.READY) {
        loggedEpoch = Math.max(loggedEpoch, r.getLong("epoch"));
      }
    }
    return true;
  }

  private Future<Void> logNow(JsonObject r) {
    return metaLog.appendAt(r.copy());
  }
}
