package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.Replies;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.DataChannelPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A chunkserver: stores chunk replicas on local disk ({@link ChunkStore}), serves the data
 * protocol on its own port ({@link DataConnection}), and keeps the master informed
 * ({@link MasterLink}). Deploy one instance per data directory.
 */
public class ChunkServerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ChunkServerVerticle.class);

  private final ChunkServerOptions options;
  private ChunkStore store;
  private final EpochFence fence = new EpochFence();
  private DataChannelPool pool;
  private NetServer server;
  private MasterLink master;
  private Scrubber scrubber;
  private ReplicaSender sender;
  private AppendService appends;
  private long syncTimer = -1;
  private boolean syncRunning;

  private final ServingStats stats = new ServingStats();

  public ChunkServerVerticle(ChunkServerOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    store = new ChunkStore(options.dataDir(), options.checksumAttributes());
    pool = new DataChannelPool(vertx, 16, 30_000);
    return vertx.executeBlocking(() -> {
      store.open();
      return null;
    }).compose(v -> {
      server = vertx.createNetServer(new NetServerOptions()
          .setHost(options.bindHost())
          .setPort(options.port())
          .setTcpNoDelay(true)
          .setReceiveBufferSize(1024 * 1024)
          .setSendBufferSize(1024 * 1024)
          .setIdleTimeout(300));
      appends = new AppendService(vertx, store, pool, fence);
      server.connectHandler(socket -> new DataConnection(vertx, store, pool, fence, appends,
          stats, socket));
      return server.listen();
    }).compose(s -> {
      sender = new ReplicaSender(vertx, store, pool, new RateLimiter(options.repairRate()),
          options.writeStallMs());
      vertx.eventBus().<JsonObject>consumer(Addresses.chunkserver(store.serverId()),
          msg -> Replies.handle(msg, this::command));
      if (options.scrubRate() > 0) {
        scrubber = new Scrubber(vertx, store, options.scrubRate(), options.scrubPauseMs());
        scrubber.start();
      }
      // Chunks acknowledged as BUFFERED are made durable by one syncfs for all of them. Often
      // rather than seldom: a second's worth of small files from three replicas on one disk is a
      // burst that held the master's log fsyncs up for up to 0.1 s (BENCHMARKS.md, 2026-12-07).
      syncTimer = vertx.setPeriodic(bufferedSyncMs(), id -> syncBuffered());
      master = new MasterLink(vertx, store, fence, options, s.actualPort(),
          () -> scrubber == null ? new JsonObject() : scrubber.stats());
      return master.start();
    }).onSuccess(v -> log.info("chunkserver {} serving {} on {}:{}", store.serverId(),
        options.dataDir(), options.publicHost(), server.actualPort()));
  }

  private long bufferedSyncMs() {
    return Math.max(10, options.bufferedSyncMs());
  }

  // One at a time; a failed one leaves its chunks queued for the next.
  private void syncBuffered() {
    if (syncRunning) {
      return;
    }
    syncRunning = true;
    vertx.executeBlocking(() -> {
      store.syncBuffered();
      return null;
    }, false).onComplete(ar -> {
      syncRunning = false;
      if (ar.failed()) {
        log.warn("syncing buffered chunks failed (retried in {} ms): {}", bufferedSyncMs(),
            ar.cause().toString());
      }
    });
  }

  // Commands from the master, fenced by its epoch.
  private Future<JsonObject> command(JsonObject cmd) {
    long epoch = cmd.getLong("epoch", 0L);
    if (!fence.admit(epoch)) {
      throw new VgfsException(ErrorCode.STALE_EPOCH, "command from master epoch " + epoch
          + " refused: epoch " + fence.highest() + " has taken over");
    }
    switch (String.valueOf(cmd.getString("op"))) {
      case "prepare" -> {
        return appends.prepare(cmd);
      }
      case "lease" -> {
        return appends.lease(cmd);
      }
      case "clone" -> {
        return appends.cloneChunk(cmd);
      }
      case "replicate" -> {
        // below
      }
      default -> throw new VgfsException(ErrorCode.BAD_REQUEST, "unknown command "
          + cmd.getString("op"));
    }
    long chunk = cmd.getLong("chunk");
    ServerAddress target = ServerAddress.fromJson(cmd.getJsonObject("target"));
    return sender.send(chunk, epoch, target)
        .map(bytes -> new JsonObject().put("chunk", chunk).put("bytes", bytes))
        .onFailure(t -> {
          if (t instanceof ReplicaSender.CorruptReplicaException) {
            vertx.eventBus().request(Addresses.REPORT_BAD_REPLICA, new JsonObject()
                .put("chunk", chunk).put("server", store.serverId()).put("reason", t.getMessage()));
          }
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(syncTimer);
    if (scrubber != null) {
      scrubber.stop();
    }
    if (master != null) {
      master.stop();
    }
    return Future.all(server == null ? Future.succeededFuture() : server.close(), pool.close())
        .compose(v -> vertx.executeBlocking(() -> {
          store.close();
          return null;
        }));
  }

  /** The persistent id (valid once started). */
  public String serverId() {
    return store.serverId();
  }

  /** The data port actually bound (valid once started). */
  public int dataPort() {
    return server.actualPort();
  }

  /** Whether the master has accepted this server's registration. */
  public boolean registered() {
    return master != null && master.registered();
  }

  /** Bytes of chunk data sent to readers since this server started. */
  public long bytesServed() {
    return stats.served.sum();
  }

  /** Data connections open now, from clients, gateways and other chunkservers. */
  public int dataConnections() {
    return stats.connections.get();
  }

  /** The local store, for tests and tools that inspect replicas on disk. */
  public ChunkStore store() {
    return store;
  }
}
