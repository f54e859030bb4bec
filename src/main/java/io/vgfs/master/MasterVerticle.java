package io.vgfs.master;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;
import io.vgfs.util.DirectoryLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A master process. It recovers the metadata from its disk, follows the active master as a hot
 * standby ({@link StandbyFollower}) and campaigns for the cluster-wide leader lock; the holder is
 * the active master and serves {@link Addresses}.
 *
 * <p>Terms: each activation takes an epoch one higher than any this master or the cluster has
 * seen and logs it durably before serving; chunkservers and standbys refuse anything from older
 * epochs. A master steps down for good ({@link #whenDeposed()}) when it learns of a newer epoch,
 * when it was paused long enough to have been replaced ({@link PauseGuard}), when its cluster
 * merges with another, or when its log fails; its process then rejoins the cluster as a fresh
 * standby.
 *
 * <p>All metadata lives on this verticle's event loop; disk and Hazelcast calls that block run on
 * workers.
 */
public class MasterVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MasterVerticle.class);
  /** How long after waking up from a pause a master distrusts its leadership. */
  static final long PAUSE_THRESHOLD_MS = 3000;

  private final MasterOptions options;
  private final HazelcastInstance hazelcast;
  private final Promise<Long> active = Promise.promise();
  private final Promise<String> deposed = Promise.promise();
  private String masterId;
  private String nodeId;
  private MetaLog metaLog;
  private MetadataState state;
  private ClusterMirror mirror;
  private StandbyFollower follower;
  private Metadata metadata;
  private ServerRegistry registry;
  private ServerService servers;
  private LogShipper shipper;
  private Repairer repairer;
  private TrashPurger purger;
  private AppendService appends;
  private PauseGuard guard;        // this term's
  private PauseGuard standbyGuard; // while standing by
  private long cutOffMs;           // a pause this long may have cost this member its membership
  private Campaign campaign;
  private Quorum quorum;
  private MasterStatus status;
  private long epoch;
  private UUID membershipListener;
  private UUID lifecycleListener;
  private final Map<String, String> standbyNodes = new HashMap<>(); // node id → master id
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private long tickTimer = -1;
  private boolean stopped;
  private boolean mapsChecked; // the maps equal this active master's state (MapRepair)
  private final StateTransfer transfers = new StateTransfer();
  private DirectoryLock dirLock;

  public MasterVerticle(MasterOptions options, HazelcastInstance hazelcast) {
    this.options = options;
    this.hazelcast = hazelcast;
  }

  /** Completes with the epoch when this master becomes the active one. */
  public Future<Long> whenActive() {
    return active.future();
  }

  /** Completes with the reason when this master has stepped down and must be restarted. */
  public Future<String> whenDeposed() {
    return deposed.future();
  }

  public String masterId() {
    return masterId;
  }

  @Override
  public Future<?> start() {
    nodeId = NodeIds.of(hazelcast.getCluster().getLocalMember());
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
    }).compose(v -> mirror.putMaster(masterId, standbyEntry())).onSuccess(v -> {
      log.info("master {} recovered {} files (epoch {}, seq {}); standing by", masterId,
          state.namespace().size(), state.epoch(), metaLog.lastSeq());
      lifecycleListener = hazelcast.getLifecycleService().addLifecycleListener(e -> {
        if (e.getState() == LifecycleEvent.LifecycleState.MERGING) {
          cutOff("the cluster is merging with another partition");
        }
      });
      membershipListener = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent e) {
        }

        @Override
        public void memberRemoved(MembershipEvent e) {
          String node = NodeIds.of(e.getMember());
          context.runOnContext(v -> memberLeft(node));
        }
      });
      // Standbys too: see cutOff.
      cutOffMs = Math.max(PAUSE_THRESHOLD_MS, heartbeatTimeoutMs(hazelcast) - 1000);
      standbyGuard = PauseGuard.watching(PAUSE_THRESHOLD_MS, hazelcast, gap -> {
        if (gap >= cutOffMs) {
          cutOff("this process was paused for " + gap + " ms");
        } else {
          log.warn("standby master {} was paused for {} ms, too short to have been removed from "
              + "the cluster; standing by", masterId, gap);
        }
      });
      standbyGuard.start();
      follower = new StandbyFollower(vertx, masterId, nodeId, state, metaLog, mirror);
      follower.start();
      quorum = new Quorum(vertx, hazelcast, options.masterQuorum(), masterId, nodeId,
          this::logPosition);
      status = new MasterStatus(vertx, hazelcast, mirror, masterId);
      quorum.start();
      campaign = new Campaign(vertx, hazelcast, mirror, masterId, options.coldStartWaitMs(),
          this::standbyEntry, () -> Set.copyOf(state.masters()), quorum, lock -> won());
      campaign.start();
    });
  }

  // ---------------------------------------------------------------- becoming active

  private void won() {
    if (!standbyGuard.healthy()) {
      stepDown("this process was paused while it campaigned");
      return;
    }
    activate().onFailure(t -> {
      log.error("master {} failed to take over", masterId, t);
      stepDown("take-over failed: " + t.getMessage());
    });
  }

  private void memberLeft(String node) {
    if (servers != null && !quorum.present()) {
      stepDown("the master quorum is lost (" + quorum.describe() + ")");
      return;
    }
    if (servers != null) {
      servers.nodeLeft(node);
      String standby = standbyNodes.remove(node);
      if (standby != null) {
        shipper.memberLeft(standby);
      }
    } else if (campaign != null) {
      campaign.memberLeft();
    }
  }

  private Future<Void> activate() {
    long won = System.nanoTime();
    boolean inSync = follower.stop();
    long followed = follower.highestEpoch();
    return metaLog.barrier().compose(idle -> vertx.executeBlocking(() -> {
      String hzEpoch = mirror.loadCluster("epoch");
      long clusterEpoch = hzEpoch == null ? 0 : Long.parseLong(hzEpoch);
      JsonObject mine = mirror.loadMaster(masterId);
      // Hot only if the last active master waited for this standby (it holds every acknowledged
      // mutation) and it had caught up; otherwise the maps hold what was acknowledged.
      boolean waitedFor = mine != null && Boolean.TRUE.equals(mine.getBoolean("inSync"));
      // With a master quorum the campaign made sure that no master present has a more recent
      // log, and every acknowledged mutation is on a quorum of masters: a caught-up standby's
      // memory holds all of them even if the last active master stopped waiting for it.
      boolean hot = inSync && (waitedFor || quorum.enabled()) && followed >= clusterEpoch;
      // Whether the last active master finished repairing the maps (MapRepair) before it died.
      String repaired = mirror.loadCluster(ClusterMirror.MAPS_EPOCH);
      boolean mapsComplete = repaired != null && Long.parseLong(repaired) >= clusterEpoch;
      ClusterMirror.MetadataSnapshot files = null;
      boolean entryLost = mine == null && inSync && followed >= clusterEpoch;
      if (clusterEpoch > 0 && !hot && (entryLost || !mapsComplete || quorum.enabled())) {
        // Neither our memory nor the maps can be trusted alone. Either our entry is gone with a
        // lost Hazelcast partition, and so may be some files; or the last active master died
        // before it had repaired the maps after its own take-over. Our memory holds everything
        // acknowledged while an active master waited for us; the maps what was acknowledged
        // after. Keep both (at worst a deleted file comes back; nothing acknowledged is lost).
        files = mirror.loadState();
        state.load(files.header(clusterEpoch), state.unionWith(files.entries()));
        metaLog.install(state.checkpointHeader(), state.checkpointEntries(),
            MetadataState::encodeEntry, metaLog.lastSeq());
        log.warn("master {}: {}; took the union of its memory and the maps", masterId,
            entryLost ? "its standby entry was lost from the cluster maps"
                : "the last active master had not finished repairing the cluster maps");
      } else if (clusterEpoch > 0 && !hot) {
        // Not a hot standby of the last active master: its maps are the truth.
        files = mirror.loadState();
        state.load(files.header(clusterEpoch), files.entries());
        metaLog.install(state.checkpointHeader(), state.checkpointEntries(),
            MetadataState::encodeEntry, metaLog.lastSeq());
      }
      // Otherwise a cold start (our log is the truth) or a hot standby (our memory is). Either way
      // the maps are made equal to the state once this master serves (MapRepair).
      log.info("master {} taking over: cluster epoch {}, {} ({} files, {} ms after winning the lock)",
          masterId, clusterEpoch, clusterEpoch == 0 ? "cold start from the local log"
              : files == null ? "hot standby state" : "state loaded from the cluster maps",
          state.namespace().size(), (System.nanoTime() - won) / 1_000_000);
      return clusterEpoch;
    }, false)).compose(clusterEpoch -> {
      epoch = Math.max(Math.max(clusterEpoch, state.epoch()), followed) + 1;
      registry = new ServerRegistry(options.heartbeatMs(), options.deadAfterMissed());
      standbyGuard.stop();
      guard = PauseGuard.latching(PAUSE_THRESHOLD_MS, hazelcast, gap -> {
        if (gap >= cutOffMs) {
          cutOff("this process was paused for " + gap + " ms");
        } else {
          context.runOnContext(v -> stepDown("this process was paused for " + gap + " ms"));
        }
      });
      guard.start();
      shipper = new LogShipper(vertx, masterId, epoch, metaLog.lastSeq(), mirror, guard,
          options.replicationTimeoutMs(), options.masterQuorum(), this::stepDown);
      metadata = new Metadata(state, metaLog, mirror, () -> stepDown("its log failed"));
      // With quorum 1 a standby takes over from the maps; alone or with a quorum, logs do.
      metadata.replicate(shipper, guard::healthy,
          () -> !quorum.enabled() && quorum.mastersPresent() > 1);
      return metadata.mutate(new JsonObject().put("op", "epoch").put("epoch", epoch)
              .put("master", masterId), null)
          .compose(v -> Future.all(mirror.putCluster("activeMaster", masterId),
              mirror.putCluster("chunkSize", String.valueOf(options.chunkSize())),
              mirror.putCluster("replication", String.valueOf(options.replication())),
              mirror.putMaster(masterId, role("active").put("epoch", epoch))))
          .compose(v -> vertx.executeBlocking(mirror::loadServers, false))
          .map(known -> {
            serve(known);
            log.info("master {} serves {} ms after winning the leader lock", masterId,
                (System.nanoTime() - won) / 1_000_000);
            repairMaps();
            return null;
          });
    });
  }

  private void serve(Map<String, JsonObject> knownServers) {
    FileService files = new FileService(vertx, metadata, registry, options, masterId, epoch,
        this::serving);
    appends = new AppendService(vertx, metadata, registry, options, epoch, files::nextChunkId);
    repairer = new Repairer(vertx, state, registry, options, epoch, appends::leased);
    purger = new TrashPurger(state.trash(), metadata, options.trashRetentionMs(), this::serving);
    servers = new ServerService(vertx, metadata, registry, options, mirror, masterId, epoch,
        () -> status.json(shipper, epoch, role("active")), repairer);
    state.chunks().attendAll(); // a new term looks at every chunk once
    servers.onDeath(appends::serverDied);
    servers.expectReports(knownServers, System.currentTimeMillis());
    files.awaitReports(servers::reportsIn);
    FileService.Fence fenced = h -> req -> admit(req).compose(v -> h.apply(req));
    consumers.addAll(files.register(vertx.eventBus(), fenced));
    consumers.addAll(servers.register(vertx.eventBus(), fenced));
    consumers.addAll(appends.register(vertx.eventBus(), fenced));
    consumers.add(FileService.consume(vertx.eventBus(), Addresses.FOLLOW, fenced.apply(this::follow)));
    consumers.add(FileService.consume(vertx.eventBus(), Addresses.ofMaster(Addresses.FOLLOW,
        masterId), fenced.apply(this::follow)));
    consumers.add(FileService.consume(vertx.eventBus(), Addresses.ofMaster(
        Addresses.FOLLOW_STATE, masterId), fenced.apply(req -> Future.succeededFuture(
            transfers.page(req)))));
    shipper.start();
    long tick = Math.max(100, options.heartbeatMs() / 2);
    tickTimer = vertx.setPeriodic(tick, id -> tick());
    // Announce once the consumers are known cluster-wide: chunkservers answer the announcement
    // at this master's own addresses, which must not fail with NO_HANDLERS.
    long announcedEpoch = epoch;
    Future.join(consumers.stream().map(MessageConsumer::completion).toList())
        .onComplete(ar -> vertx.eventBus().publish(Addresses.MASTER_ANNOUNCE,
            new JsonObject().put("masterId", masterId).put("epoch", announcedEpoch)));
    log.info("master {} is active: epoch {}, {} files, chunk size {}, replication {}", masterId,
        epoch, state.namespace().size(), options.chunkSize(), options.replication());
    active.tryComplete(epoch);
  }

  // Standbys may follow (and load the maps) only once the maps equal this master's state.
  private void repairMaps() {
    long started = System.nanoTime();
    new MapRepair(vertx, mirror, state, this::serving).run()
        .compose(n -> mirror.putCluster(ClusterMirror.MAPS_EPOCH, String.valueOf(epoch)).map(n))
        .onSuccess(n -> {
          mapsChecked = true;
          if (n > 0) {
            log.warn("the cluster maps differed from this master's state in {} entries (lost "
                + "Hazelcast partitions, unacknowledged writes or a cold start); rewritten in {} ms",
                n, (System.nanoTime() - started) / 1_000_000);
          }
        })
        .onFailure(t -> {
          if (!stopped && !deposed.future().isComplete()) {
            log.warn("repairing the cluster maps failed ({}); trying again", t.toString());
            vertx.setTimer(1000, id -> repairMaps());
          }
        });
  }

  // Whether this master may still act: active, not deposed, not woken from a pause.
  private boolean serving() {
    return metadata != null && !stopped && !deposed.future().isComplete() && guard.healthy();
  }

  // Every request may carry the highest epoch its sender has seen: a newer one than ours means
  // another master has taken over, and this one must not act again.
  private Future<Void> admit(JsonObject req) {
    long seen = req.getLong("epoch", 0L);
    if (seen > epoch) {
      stepDown("a request carried epoch " + seen + ", newer than this master's " + epoch);
    }
    if (metadata == null || deposed.future().isComplete() || !guard.healthy()) {
      return Future.failedFuture(new VgfsException(ErrorCode.NOT_ACTIVE,
          "master " + masterId + " is not the active master"));
    }
    return Future.succeededFuture();
  }

  private Future<JsonObject> follow(JsonObject req) {
    String standby = req.getString("masterId");
    if (standby == null || standby.equals(masterId)) {
      throw new VgfsException(ErrorCode.BAD_REQUEST, "a follow request needs the standby's id");
    }
    if (!mapsChecked) {
      throw new VgfsException(ErrorCode.NOT_ACTIVE, "master " + masterId
          + " is still repairing the cluster maps after taking over; follow again in a moment");
    }
    if (req.getString("nodeId") != null) {
      standbyNodes.put(req.getString("nodeId"), standby);
    }
    // The state at `from`, for the standby to fetch (StateTransfer); standbys of earlier
    // versions read the maps instead, so everything up to `from` must be in them too.
    transfers.offer(standby, shipper.lastSeq(), state);
    return shipper.follow(standby, req.getString("nodeId"))
        .compose(from -> metadata.mirrored().map(v -> new JsonObject().put("masterId", masterId)
            .put("epoch", epoch).put("seq", from)));
  }

  private void tick() {
    if (servers == null) {
      return;
    }
    if (!quorum.present()) {
      // Also masters that left while this one was taking over (no memberLeft then).
      stepDown("the master quorum is lost (" + quorum.describe() + ")");
      return;
    }
    long now = System.nanoTime();
    servers.checkHealth(now);
    state.chunks().expire(now, TimeUnit.MILLISECONDS.toNanos(options.orphanGraceMs()));
    transfers.expire(now);
    appends.expireLeases(now);
    repairer.tick(now);
    purger.tick();
    if (metaLog.recordsSinceCheckpoint() >= options.checkpointEvery()) {
      metaLog.checkpoint(state.checkpointHeader(), state.checkpointEntries(),
          MetadataState::encodeEntry);
    }
  }

  // ---------------------------------------------------------------- stepping down

  // Hazelcast removes a member after this long without heartbeats.
  private static long heartbeatTimeoutMs(HazelcastInstance hz) {
    String s = hz.getConfig().getProperty("hazelcast.max.no.heartbeat.seconds");
    return TimeUnit.SECONDS.toMillis(s == null ? 60 : Long.parseLong(s.trim()));
  }

  /**
   * This member may no longer belong to the cluster it believes in (it was paused, or its cluster
   * is merging with another): it leaves the cluster at once, from any thread, and steps down. A
   * member the others removed while it was stopped wakes up in a one-member cluster of its own
   * within a moment; Hazelcast would merge the live cluster into it if that one-member cluster
   * lasted until the next split-brain check (one data member on each side is a tie, decided by
   * address, not by which master is active), resetting the live master and every chunkserver.
   */
  private void cutOff(String reason) {
    Thread t = new Thread(() -> {
      try {
        hazelcast.getLifecycleService().terminate();
      } catch (RuntimeException e) {
        log.warn("leaving the cluster failed: {}", e.toString());
      }
    }, "vgfs-leave-cluster");
    t.start();
    context.runOnContext(v -> stepDown(reason));
  }

  private void stepDown(String reason) {
    if (deposed.future().isComplete() || stopped) {
      return;
    }
    boolean wasActive = metadata != null;
    log.warn("master {} steps down{}: {}", masterId, wasActive ? " (epoch " + epoch + ")" : "",
        reason);
    endTerm();
    deposed.tryComplete(reason);
  }

  private void endTerm() {
    if (metadata != null) {
      metadata.close();
    }
    consumers.forEach(MessageConsumer::unregister);
    consumers.clear();
    if (tickTimer >= 0) {
      vertx.cancelTimer(tickTimer);
    }
    if (shipper != null) {
      shipper.stop();
    }
    if (guard != null) {
      guard.stop();
    }
    if (standbyGuard != null) {
      standbyGuard.stop();
    }
    if (follower != null) {
      follower.stop();
    }
    if (campaign != null) {
      campaign.stop();
    }
    if (quorum != null) {
      quorum.stop();
    }
  }

  // How far this master's log goes, for a quorum's position poll: a standby that is catching up
  // has the new master's state in memory but not yet on disk, so it reports its log's own epoch.
  private JsonObject logPosition() {
    JsonObject pos = standbyEntry();
    if (metadata == null && follower != null && !follower.ready()) {
      pos.put("epoch", follower.loggedEpoch());
    }
    return pos;
  }

  private JsonObject standbyEntry() {
    return role("standby").put("epoch", state.epoch()).put("seq", metaLog.lastSeq());
  }

  private JsonObject role(String role) {
    return new JsonObject().put("role", role).put("nodeId", nodeId)
        .put("since", System.currentTimeMillis());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    try {
      endTerm();
      if (membershipListener != null) {
        hazelcast.getCluster().removeMembershipListener(membershipListener);
      }
      if (lifecycleListener != null) {
        hazelcast.getLifecycleService().removeLifecycleListener(lifecycleListener);
      }
    } catch (RuntimeException e) {
      // Cut off (cutOff): the listeners went with the instance. The log and the directory lock
      // must be released whatever happened, or the restarted master cannot open them.
      log.debug("stopping after leaving the cluster: {}", e.toString());
    }
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
