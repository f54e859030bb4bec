package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * A chunkserver's side of its conversation with the master: register with a full chunk report,
 * then heartbeat with space and load; carry out what the replies ask (delete chunks, register
 * again). Registers again at once when a new master announces itself. Runs on the chunkserver
 * verticle's context; never blocks it (deletions go to workers).
 */
final class MasterLink {

  private static final Logger log = LoggerFactory.getLogger(MasterLink.class);
  private static final DeliveryOptions SHORT = new DeliveryOptions().setSendTimeout(5000);

  private final Vertx vertx;
  private final ChunkStore store;
  private final EpochFence fence;
  private final ChunkServerOptions options;
  private final int dataPort;
  private final java.util.function.Supplier<JsonObject> stats;
  private long lastReport = System.currentTimeMillis();
  private MessageConsumer<JsonObject> announcements;
  private long timer = -1;
  private boolean registered;
  private boolean registering;
  private long registrations;
  private boolean stopped;
  private boolean spaceRefreshing;
  private volatile long[] space = {0, 0};
  private long followedEpoch;
  /** The master last followed; requests go to its own addresses ({@link Addresses#ofMaster}). */
  private String followedMaster;
  private int misses; // consecutive NO_HANDLERS answers from followedMaster's own address
  private final List<Long> deleted = new ArrayList<>(); // carried out, not yet confirmed
  private final String nodeId;

  MasterLink(Vertx vertx, ChunkStore store, EpochFence fence, ChunkServerOptions options,
             int dataPort, java.util.function.Supplier<JsonObject> stats) {
    this.vertx = vertx;
    this.store = store;
    this.fence = fence;
    this.options = options;
    this.dataPort = dataPort;
    this.stats = stats;
    this.nodeId = vertx instanceof io.vertx.core.internal.VertxInternal vi && vi.clusterManager() != null
        ? vi.clusterManager().getNodeId() : null;
  }

  /** Starts heartbeating; completes when the first registration succeeded or was attempted. */
  Future<Void> start() {
    announcements = vertx.eventBus().consumer(Addresses.MASTER_ANNOUNCE, msg -> {
      long epoch = msg.body().getLong("epoch", 0L);
      String master = msg.body().getString("masterId");
      if (!follow(master, epoch)) {
        return;
      }
      log.info("master {} announced epoch {}; registering again", master, epoch);
      registered = false;
      registering = false; // a registration still waiting on the old master must not hold us up
      register();
    });
    timer = vertx.setPeriodic(options.heartbeatMs(), id -> tick());
    return refreshSpace().compose(v -> register()).recover(t -> Future.succeededFuture());
  }

  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    if (announcements != null) {
      announcements.unregister();
    }
  }

  boolean registered() {
    return registered;
  }

  // The beat goes out at once with the space measured last time: waiting for a fresh figure
  // would queue it behind the disk work on the worker pool, and 32 busy uploads made a beat 1.5
  // intervals late, the master call the server suspect and refuse new chunks for lack of servers.
  private void tick() {
    boolean reportDue = options.reportIntervalMs() > 0
        && System.currentTimeMillis() - lastReport >= options.reportIntervalMs();
    if (registered && !reportDue) {
      heartbeat();
    } else {
      register();
    }
    if (!spaceRefreshing) {
      spaceRefreshing = true;
      refreshSpace().onComplete(ar -> spaceRefreshing = false);
    }
  }

  private Future<Void> register() {
    if (registering || stopped) {
      return Future.succeededFuture();
    }
    registering = true;
    long attempt = ++registrations;
    lastReport = System.currentTimeMillis();
    JsonArray chunks = new JsonArray();
    store.replicas().forEach(r -> chunks.add(r.toJson()));
    // A first registration with this master replaces what it knows of our chunks; later ones
    // (periodic reports) only add to it, as a chunk written meanwhile may be missing here.
    JsonObject body = identity().put("chunks", chunks).put("full", !registered);
    boolean named = followedMaster != null;
    return vertx.eventBus().<JsonObject>request(toMaster(Addresses.REGISTER), body, SHORT)
        .map(reply -> {
          if (!follow(reply.body().getString("masterId"), reply.body().getLong("epoch", 0L))) {
            return (Void) null;
          }
          if (attempt != registrations) {
            return (Void) null; // overtaken by a newer registration
          }
          registered = true;
          log.info("registered with master {} (epoch {}) reporting {} chunks",
              reply.body().getString("masterId"), reply.body().getLong("epoch"), chunks.size());
          handleCommands(reply.body());
          return (Void) null;
        })
        .onFailure(t -> {
          log.debug("registration failed, will retry: {}", t.getMessage());
          if (missed(t) && named) {
            vertx.setTimer(200, id -> {
              if (!registered) {
                register();
              }
            });
          }
        })
        .eventually(() -> {
          if (attempt == registrations) {
            registering = false;
          }
          return Future.succeededFuture();
        });
  }

  private void heartbeat() {
    JsonArray done = new JsonArray(new ArrayList<>(deleted));
    deleted.clear();
    vertx.eventBus().<JsonObject>request(toMaster(Addresses.HEARTBEAT),
            identity().put("deleted", done), SHORT)
        .onSuccess(reply -> {
          if (!follow(reply.body().getString("masterId"), reply.body().getLong("epoch", 0L))) {
            return;
          }
          if (reply.body().getBoolean("register", false)) {
            registered = false;
            register();
          }
          handleCommands(reply.body());
        })
        .onFailure(t -> {
          log.debug("heartbeat failed: {}", t.getMessage());
          missed(t);
          done.forEach(o -> deleted.add(((Number) o).longValue())); // tell the next one
        });
  }

  /**
   * Accepts a message from a master only if its epoch is not older than one already seen; logs
   * each change of master, so the sequence of masters a chunkserver obeyed can be audited.
   */
  private boolean follow(String master, long epoch) {
    if (!fence.admit(epoch)) {
      log.warn("ignoring master {} of stale epoch {} (following epoch {})", master, epoch,
          fence.highest());
      return false;
    }
    if (epoch > followedEpoch) {
      followedEpoch = epoch;
      log.info("following master {} epoch {}", master, epoch);
    }
    if (master != null) {
      followedMaster = master; // admitted: of the newest epoch seen
    }
    misses = 0;
    return true;
  }

  private String toMaster(String address) {
    String m = followedMaster;
    return m == null ? address : Addresses.ofMaster(address, m);
  }

  /**
   * Notes a failed request. A time-out or failure from the followed master's own address sends the
   * next requests to the shared address, where whichever master is active answers; NO_HANDLERS
   * (its consumers not yet visible here, or gone) does so only after a few tries.
   *
   * @return whether it was NO_HANDLERS (an answer that comes at once, so a retry is cheap)
   */
  private boolean missed(Throwable t) {
    boolean noHandlers = t instanceof io.vertx.core.eventbus.ReplyException re
        && re.failureType() == io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS;
    if (followedMaster != null && (!noHandlers || ++misses >= 5)) {
      followedMaster = null;
      misses = 0;
    }
    return noHandlers;
  }

  private JsonObject identity() {
    long[] s = space;
    long used = store.usedBytes();
    long capacity = options.capacity() > 0 ? Math.min(options.capacity(), s[1]) : s[1];
    long free = options.capacity() > 0 ? Math.max(0, Math.min(s[0], capacity - used)) : s[0];
    JsonObject json = new JsonObject().put("id", store.serverId()).put("host", options.publicHost())
        .put("epoch", fence.highest()).put("nodeId", nodeId)
        .put("port", dataPort).put("free", free).put("capacity", capacity)
        .put("used", used).put("chunkCount", store.chunkCount()).mergeIn(stats.get());
    if (options.rack() != null) {
      json.put("rack", options.rack());
    }
    return json;
  }

  private void handleCommands(JsonObject reply) {
    JsonArray delete = reply.getJsonArray("delete");
    if (delete == null || delete.isEmpty()) {
      return;
    }
    List<Long> ids = new ArrayList<>();
    delete.forEach(o -> ids.add(((Number) o).longValue()));
    vertx.executeBlocking(() -> {
      int n = 0;
      for (long id : ids) {
        if (store.delete(id)) {
          n++;
        }
      }
      return n;
    }, false).onSuccess(n -> {
      deleted.addAll(ids);
      if (n > 0) {
        log.info("deleted {} chunk replicas as the master asked", n);
      }
    }).onFailure(t -> log.warn("deleting chunks failed: {}", t.toString()));
  }

  private Future<Void> refreshSpace() {
    return vertx.executeBlocking(store::space, false).map(s -> {
      space = s;
      return (Void) null;
    }).recover(t -> Future.succeededFuture());
  }
}
