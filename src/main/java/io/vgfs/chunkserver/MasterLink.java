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
  private final Runnable activity;
  private MessageConsumer<JsonObject> announcements;
  private long timer = -1;
  private boolean registered;
  private boolean registering;
  private boolean stopped;
  private volatile long[] space = {0, 0};
  private long followedEpoch;
  private final String nodeId;

  MasterLink(Vertx vertx, ChunkStore store, EpochFence fence, ChunkServerOptions options,
             int dataPort, Runnable activity) {
    this.vertx = vertx;
    this.store = store;
    this.fence = fence;
    this.options = options;
    this.dataPort = dataPort;
    this.activity = activity;
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

  private void tick() {
    refreshSpace().onComplete(ar -> {
      if (registered) {
        heartbeat();
      } else {
        register();
      }
    });
  }

  private Future<Void> register() {
    if (registering || stopped) {
      return Future.succeededFuture();
    }
    registering = true;
    JsonArray chunks = new JsonArray();
    store.replicas().forEach(r -> chunks.add(r.toJson()));
    JsonObject body = identity().put("chunks", chunks);
    return vertx.eventBus().<JsonObject>request(Addresses.REGISTER, body, SHORT)
        .map(reply -> {
          if (!follow(reply.body().getString("masterId"), reply.body().getLong("epoch", 0L))) {
            return (Void) null;
          }
          registered = true;
          log.info("registered with master {} (epoch {}) reporting {} chunks",
              reply.body().getString("masterId"), reply.body().getLong("epoch"), chunks.size());
          handleCommands(reply.body());
          return (Void) null;
        })
        .onFailure(t -> log.debug("registration failed, will retry: {}", t.getMessage()))
        .eventually(() -> {
          registering = false;
          return Future.succeededFuture();
        });
  }

  private void heartbeat() {
    vertx.eventBus().<JsonObject>request(Addresses.HEARTBEAT, identity(), SHORT)
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
        .onFailure(t -> log.debug("heartbeat failed: {}", t.getMessage()));
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
    return true;
  }

  private JsonObject identity() {
    long[] s = space;
    JsonObject json = new JsonObject().put("id", store.serverId()).put("host", options.publicHost())
        .put("epoch", fence.highest()).put("nodeId", nodeId)
        .put("port", dataPort).put("free", s[0]).put("capacity", s[1])
        .put("used", store.usedBytes()).put("chunkCount", store.chunkCount());
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
      if (n > 0) {
        log.info("deleted {} chunk replicas as the master asked", n);
        activity.run();
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
