package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The chunkserver-facing requests of the active master (registration with chunk reports,
 * heartbeats, bad-replica reports) and the cluster status.
 */
final class ServerService {

  private static final Logger log = LoggerFactory.getLogger(ServerService.class);
  private static final int DELETIONS_PER_HEARTBEAT = 1000;

  private final Metadata metadata;
  private final ServerRegistry registry;
  private final MasterOptions options;
  private final ClusterMirror mirror;
  private final String masterId;
  private final long epoch;
  private final Supplier<Future<JsonObject>> masters;
  private final Set<String> dead = new HashSet<>();
  private static final long REPORT_WAIT_MS = 10_000;
  private final Set<String> expected = new HashSet<>();
  private final io.vertx.core.Promise<Void> reports = io.vertx.core.Promise.promise();
  private final io.vertx.core.Vertx vertx;
  private long reportsTimer = -1;
  private final Repairer repairer;
  private java.util.function.Consumer<String> deaths = id -> { };

  /** Who to tell when a chunkserver dies. */
  void onDeath(java.util.function.Consumer<String> listener) {
    this.deaths = listener;
  }

  ServerService(io.vertx.core.Vertx vertx, Metadata metadata, ServerRegistry registry,
                MasterOptions options, ClusterMirror mirror, String masterId, long epoch,
                Supplier<Future<JsonObject>> masters, Repairer repairer) {
    this.vertx = vertx;
    this.repairer = repairer;
    this.metadata = metadata;
    this.registry = registry;
    this.options = options;
    this.mirror = mirror;
    this.masterId = masterId;
    this.epoch = epoch;
    this.masters = masters;
  }

  List<MessageConsumer<JsonObject>> register(EventBus bus, FileService.Fence fence) {
    List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    consumers.add(FileService.consume(bus, Addresses.REGISTER, fence.apply(this::registerServer)));
    consumers.add(FileService.consume(bus, Addresses.HEARTBEAT, fence.apply(this::heartbeat)));
    consumers.add(FileService.consume(bus, Addresses.ofMaster(Addresses.REGISTER, masterId),
        fence.apply(this::registerServer)));
    consumers.add(FileService.consume(bus, Addresses.ofMaster(Addresses.HEARTBEAT, masterId),
        fence.apply(this::heartbeat)));
    consumers.add(FileService.consume(bus, Addresses.REPORT_BAD_REPLICA,
        fence.apply(this::badReplica)));
    consumers.add(FileService.consume(bus, Addresses.STATUS, fence.apply(this::status)));
    consumers.add(FileService.consume(bus, Addresses.DRAIN, fence.apply(this::drain)));
    return consumers;
  }

  /**
   * After a take-over, the chunkservers that were alive under the previous master are expected to
   * report their chunks (they register again on this master's announcement); until they have, a
   * chunk may look as if it had no replica. {@link #reportsIn()} tells when they are all in.
   */
  void expectReports(java.util.Map<String, JsonObject> known, long nowMs) {
    long recent = options.heartbeatMs() * options.deadAfterMissed();
    long now = System.nanoTime();
    known.forEach((id, json) -> {
      long age = nowMs - json.getLong("at", 0L);
      if (age <= recent && json.getString("host") != null && json.getInteger("port") != null) {
        expected.add(id);
        // Alive under the previous master a moment ago: it can take new chunks at once, before it
        // registers again (it has a heartbeat interval to show it is still there).
        registry.update(json, now);
      }
    });
    if (!expected.isEmpty()) {
      log.info("waiting for chunk reports from {} chunkservers", expected.size());
      reportsTimer = vertx.setTimer(REPORT_WAIT_MS, id -> {
        if (!expected.isEmpty()) {
          log.warn("no chunk report from {} after {} ms; serving without them", expected,
              REPORT_WAIT_MS);
        }
        expected.clear();
        reports.tryComplete();
      });
    } else {
      reports.tryComplete();
    }
  }

  /** Completes when the chunkservers expected after a take-over have all reported. */
  Future<Void> reportsIn() {
    return reports.future();
  }

  private Future<JsonObject> registerServer(JsonObject req) {
    if (req.getString("id") == null || req.getString("host") == null
        || req.getInteger("port") == null) {
      throw new VgfsException(ErrorCode.BAD_REQUEST, "a registration needs id, host and port");
    }
    long now = System.nanoTime();
    ServerState s = registry.update(req, now);
    dead.remove(s.id());
    List<long[]> reported = new ArrayList<>();
    JsonArray chunks = req.getJsonArray("chunks", new JsonArray());
    for (int i = 0; i < chunks.size(); i++) {
      JsonArray r = chunks.getJsonArray(i);
      reported.add(new long[] {r.getLong(0), r.getLong(1), r.getLong(2)});
    }
    metadata.state().chunks().report(s.id(), reported, now, req.getBoolean("full", true));
    if (expected.remove(s.id()) && expected.isEmpty()) {
      vertx.cancelTimer(reportsTimer);
      reports.tryComplete();
    }
    log.info("chunkserver {} at {} registered with {} chunks", s.id(), s.address(), reported.size());
    mirror.putServer(s.id(), req.copy().put("chunks", reported.size())
        .put("at", System.currentTimeMillis()));
    return Future.succeededFuture(new JsonObject().put("epoch", epoch).put("masterId", masterId)
        .put("chunkSize", options.chunkSize())
        .put("delete", deletions(s.id())));
  }

  private Future<JsonObject> heartbeat(JsonObject req) {
    String id = req.getString("id");
    if (id == null) {
      throw new VgfsException(ErrorCode.BAD_REQUEST, "a heartbeat needs the server id");
    }
    JsonObject reply = new JsonObject().put("epoch", epoch).put("masterId", masterId);
    long now = System.nanoTime();
    if (registry.get(id) == null || dead.contains(id)) {
      // Unknown to this master (new term) or declared dead: its report is needed again.
      return Future.succeededFuture(reply.put("register", true));
    }
    registry.update(req, now);
    JsonArray deleted = req.getJsonArray("deleted");
    if (deleted != null && !deleted.isEmpty()) {
      List<Long> ids = new ArrayList<>();
      deleted.forEach(o -> ids.add(((Number) o).longValue()));
      metadata.state().chunks().confirmDeleted(id, ids);
    }
    mirror.putServer(id, req.copy().put("at", System.currentTimeMillis()).put("deleted", 0));
    return Future.succeededFuture(reply.put("delete", deletions(id)));
  }

  private Future<JsonObject> badReplica(JsonObject req) {
    long chunk = req.getLong("chunk");
    String server = req.getString("server");
    ChunkTable.Chunk c = metadata.state().chunks().get(chunk);
    // Never drop the last known replica on one reader's word: it may be the reader that is wrong.
    if (c != null && c.replicas().size() > 1 && metadata.state().chunks().dropReplica(chunk, server)) {
      log.warn("replica of chunk {} on {} reported bad ({}); dropped", Long.toHexString(chunk),
          server, req.getString("reason"));
    }
    return Future.succeededFuture(new JsonObject());
  }

  /** Declares servers dead whose heartbeats stopped; called periodically. */
  void checkHealth(long now) {
    for (String id : registry.newlyDead(now, dead)) {
      deaths.accept(id);
      int lost = metadata.state().chunks().removeServer(id);
      log.warn("chunkserver {} is dead; {} chunk replicas lost with it", id, lost);
    }
  }

  /** A cluster node left: its chunkservers are dead now, not after missed heartbeats. */
  void nodeLeft(String nodeId) {
    for (String id : registry.nodeLeft(nodeId)) {
      dead.add(id);
      deaths.accept(id);
      int lost = metadata.state().chunks().removeServer(id);
      log.warn("chunkserver {} left the cluster; {} chunk replicas lost with it", id, lost);
    }
  }

  private JsonArray deletions(String server) {
    return new JsonArray(new ArrayList<>(
        metadata.state().chunks().takeDeletions(server, DELETIONS_PER_HEARTBEAT)));
  }

  private Future<JsonObject> drain(JsonObject req) {
    String server = req.getString("server");
    if (server == null || registry.get(server) == null) {
      throw new VgfsException(ErrorCode.NOT_FOUND, "no such chunkserver: " + server);
    }
    boolean on = req.getBoolean("drain", true);
    return metadata.mutate(new JsonObject().put("op", "drain").put("server", server).put("on", on),
        null).map(v -> {
          metadata.state().chunks().attendAll();
          log.info("chunkserver {} {}", server, on ? "is being drained" : "is no longer drained");
          return new JsonObject().put("server", server).put("draining", on)
              .put("remaining", on ? repairer.drainRemaining(server, System.nanoTime()) : 0);
        });
  }

  private Future<JsonObject> status(JsonObject req) {
    // masters: {"masters": [...], "mapsSafe": whether every map partition has its backup}
    return metadata.barrier().compose(v -> masters.get()).map(mastersJson -> {
      long now = System.nanoTime();
      MetadataState st = metadata.state();
      java.util.Set<String> counting = new java.util.HashSet<>(registry.readable(now));
      counting.removeAll(st.draining());
      JsonArray chunkservers = registry.statusJson(now);
      for (int i = 0; i < chunkservers.size(); i++) {
        JsonObject cs = chunkservers.getJsonObject(i);
        String id = cs.getString("id");
        if (st.draining().contains(id) && cs.getBoolean("alive")) {
          int remaining = repairer.drainRemaining(id, now);
          cs.put("state", remaining == 0 ? "drained" : "draining").put("drainRemaining", remaining);
        }
      }
      return new JsonObject()
          .put("epoch", epoch)
          .put("activeMaster", masterId)
          .put("masters", mastersJson.getJsonArray("masters"))
          .put("mapsSafe", mastersJson.getBoolean("mapsSafe"))
          .put("chunkSize", options.chunkSize())
          .put("replication", options.replication())
          .put("chunkservers", chunkservers)
          .put("liveChunkservers", registry.readable(now).size())
          .put("files", st.namespace().size())
          .put("trashedFiles", st.trash().size())
          .put("chunks", st.chunks().size())
          .put("pendingDeletions", st.chunks().pendingDeletions(now))
          .put("underReplicatedChunks", st.chunks().underReplicated(options.replication(), counting))
          .put("overReplicatedChunks", st.chunks().overReplicated(options.replication(), counting))
          .put("corruptChunks", st.chunks().corruptChunks(options.replication(), counting))
          .put("repair", repairer.status());
    });
  }
}
