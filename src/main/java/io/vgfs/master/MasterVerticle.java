package io.vgfs.master;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.FileInfo;
import io.vgfs.util.DirectoryLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A master process: recovers the metadata from its disk, then campaigns for the cluster-wide
 * master lock; the holder is the active master and serves {@link Addresses}, the others wait as
 * standbys. Each term gets an epoch one higher than any before, logged before the master serves.
 *
 * <p>All metadata lives on this verticle's event loop; disk and Hazelcast calls that block run on
 * workers.
 */
public class MasterVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MasterVerticle.class);
  static final String LEADER_LOCK = "vgfs.master.leader";

  private final MasterOptions options;
  private final HazelcastInstance hazelcast;
  private final Promise<Long> active = Promise.promise();
  private String masterId;
  private MetaLog metaLog;
  private MetadataState state;
  private ClusterMirror mirror;
  private ServerRegistry registry;
  private ServerService servers;
  private Lock leaderLock;
  private UUID membershipListener;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private long tickTimer = -1;
  private boolean stopped;
  private DirectoryLock dirLock;

  public MasterVerticle(MasterOptions options, HazelcastInstance hazelcast) {
    this.options = options;
    this.hazelcast = hazelcast;
  }

  /** Completes with the epoch when this master becomes the active one. */
  public Future<Long> whenActive() {
    return active.future();
  }

  public String masterId() {
    return masterId;
  }

  @Override
  public Future<?> start() {
    mirror = new ClusterMirror(hazelcast, context);
    metaLog = new MetaLog(vertx, options.dataDir().resolve("meta"));
    state = new MetadataState();
    return vertx.executeBlocking(() -> {
      dirLock = DirectoryLock.acquire(options.dataDir());
      masterId = loadOrCreateId(options.dataDir());
      MetaLog.Recovered r = metaLog.recover();
      state.load(r.checkpointHeader(), r.entries());
      r.records().forEach(state::apply);
      return null;
    }).compose(v -> mirror.putMaster(masterId, role("standby"))).onSuccess(v -> {
      log.info("master {} recovered {} files (epoch {}); campaigning for leadership", masterId,
          state.namespace().size(), state.epoch());
      campaign();
    });
  }

  private void campaign() {
    if (stopped) {
      return;
    }
    vertx.sharedData().getLockWithTimeout(LEADER_LOCK, 10_000).onComplete(ar -> {
      if (stopped) {
        if (ar.succeeded()) {
          ar.result().release();
        }
        return;
      }
      if (ar.failed()) {
        campaign(); // still held by the active master: keep waiting
        return;
      }
      leaderLock = ar.result();
      activate().onFailure(t -> {
        log.error("master {} failed to take over", masterId, t);
        leaderLock.release();
        leaderLock = null;
        vertx.setTimer(1000, id -> campaign());
      });
    });
  }

  private Future<Void> activate() {
    return vertx.executeBlocking(() -> {
      String hzEpoch = mirror.loadCluster("epoch");
      long clusterEpoch = hzEpoch == null ? 0 : Long.parseLong(hzEpoch);
      // The maps are newer than our disk when the cluster outlived the previous master: take
      // over from memory. Otherwise this is a cold start and our log is the truth.
      List<JsonObject> files = clusterEpoch >= state.epoch() && clusterEpoch > 0
          ? mirror.loadFiles() : null;
      return new Object[] {clusterEpoch, files};
    }, false).compose(loaded -> {
      long clusterEpoch = (Long) loaded[0];
      @SuppressWarnings("unchecked")
      List<JsonObject> files = (List<JsonObject>) loaded[1];
      if (files != null) {
        state.load(new JsonObject().put("epoch", clusterEpoch), files);
      }
      long epoch = Math.max(clusterEpoch, state.epoch()) + 1;
      registry = new ServerRegistry(options.heartbeatMs(), options.deadAfterMissed());
      Metadata metadata = new Metadata(state, metaLog, mirror, this::onLogFailure);
      Future<Void> published = files != null ? Future.succeededFuture()
          : vertx.executeBlocking(() -> {
            mirror.replaceAll(state.namespace().snapshot());
            return null;
          }, false);
      return published
          .compose(v -> metadata.mutate(new JsonObject().put("op", "epoch").put("epoch", epoch)
              .put("master", masterId), null))
          .compose(v -> files != null ? checkpoint() : Future.succeededFuture())
          .compose(v -> Future.all(mirror.putCluster("activeMaster", masterId),
              mirror.putCluster("chunkSize", String.valueOf(options.chunkSize())),
              mirror.putCluster("replication", String.valueOf(options.replication())),
              mirror.putMaster(masterId, role("active").put("epoch", epoch))))
          .map(v -> {
            serve(metadata, epoch);
            return null;
          });
    });
  }

  private void serve(Metadata metadata, long epoch) {
    FileService files = new FileService(metadata, registry, options, masterId, epoch);
    servers = new ServerService(metadata, registry, options, mirror, masterId, epoch,
        this::mastersJson);
    consumers.addAll(files.register(vertx.eventBus()));
    consumers.addAll(servers.register(vertx.eventBus()));
    membershipListener = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        String node = e.getMember().getUuid().toString();
        context.runOnContext(v -> servers.nodeLeft(node));
      }
    });
    long tick = Math.max(100, options.heartbeatMs() / 2);
    tickTimer = vertx.setPeriodic(tick, id -> tick());
    vertx.eventBus().publish(Addresses.MASTER_ANNOUNCE,
        new JsonObject().put("masterId", masterId).put("epoch", epoch));
    log.info("master {} is active: epoch {}, {} files, chunk size {}, replication {}", masterId,
        epoch, state.namespace().size(), options.chunkSize(), options.replication());
    active.tryComplete(epoch);
  }

  private void tick() {
    long now = System.nanoTime();
    servers.checkHealth(now);
    state.chunks().expire(now, TimeUnit.MILLISECONDS.toNanos(options.orphanGraceMs()));
    if (metaLog.recordsSinceCheckpoint() >= options.checkpointEvery()) {
      checkpoint();
    }
  }

  private Future<Void> checkpoint() {
    List<FileInfo> snapshot = state.namespace().snapshot();
    return metaLog.checkpoint(state.checkpointHeader(), snapshot, FileInfo::toJson);
  }

  private void onLogFailure() {
    log.error("master {} cannot write its metadata log: stepping down", masterId);
    stepDown();
  }

  private void stepDown() {
    consumers.forEach(MessageConsumer::unregister);
    consumers.clear();
    if (tickTimer >= 0) {
      vertx.cancelTimer(tickTimer);
    }
    if (leaderLock != null) {
      leaderLock.release();
      leaderLock = null;
    }
  }

  private JsonArray mastersJson() {
    Set<String> members = hazelcast.getCluster().getMembers().stream()
        .map(m -> m.getUuid().toString()).collect(Collectors.toSet());
    JsonArray arr = new JsonArray();
    Map<String, JsonObject> known;
    try {
      known = mirror.loadMasters();
    } catch (RuntimeException e) {
      known = Map.of(masterId, role("active"));
    }
    known.forEach((id, json) -> {
      if (members.contains(json.getString("nodeId"))) {
        arr.add(new JsonObject().put("id", id).put("role", json.getString("role"))
            .put("since", json.getLong("since")));
      }
    });
    return arr;
  }

  private JsonObject role(String role) {
    return new JsonObject().put("role", role)
        .put("nodeId", hazelcast.getCluster().getLocalMember().getUuid().toString())
        .put("since", System.currentTimeMillis());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (membershipListener != null) {
      hazelcast.getCluster().removeMembershipListener(membershipListener);
    }
    stepDown();
    return vertx.executeBlocking(() -> {
      metaLog.close();
      if (dirLock != null) {
        dirLock.close();
      }
      return null;
    });
  }

  private static String loadOrCreateId(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("master.id");
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
    String id = "m-" + UUID.randomUUID().toString().substring(0, 8);
    Files.writeString(file, id, StandardCharsets.UTF_8);
    return id;
  }
}
