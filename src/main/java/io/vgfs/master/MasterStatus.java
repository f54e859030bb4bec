package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The masters part of the active master's cluster status: which masters are in the cluster, which
 * standbys are in sync, and whether every partition of the metadata maps has its backup (no
 * migration under way: a crash of a master during one loses partitions, see {@link MapRepair}).
 * Cluster-wide Hazelcast calls run on a worker; the answer is put together back on the event
 * loop, where the log shipper's state lives.
 */
final class MasterStatus {

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final ClusterMirror mirror;
  private final String masterId;
  private Future<Boolean> safeCheck;
  private long safeCheckAt;
  private Boolean lastSafe;

  MasterStatus(Vertx vertx, HazelcastInstance hazelcast, ClusterMirror mirror, String masterId) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.mirror = mirror;
    this.masterId = masterId;
  }

  /**
   * {@code {masters: [...], mapsSafe}} as seen by the active master of {@code epoch}; {@code self}
   * is its own entry, shown if the masters map cannot be read.
   */
  Future<JsonObject> json(LogShipper shipper, long epoch, JsonObject self) {
    Future<Map<String, JsonObject>> known = vertx.executeBlocking(mirror::loadMasters, false)
        .otherwise(t -> Map.of(masterId, self));
    Future<Boolean> safe = mapsSafe();
    return Future.all(known, safe).map(v -> new JsonObject()
        .put("masters", masters(known.result(), shipper, epoch)).put("mapsSafe", safe.result()));
  }

  // Asks every member (and waits for a hung one), so at most one check runs at a time, started at
  // most once a second; while one runs, the status shows the last answer.
  private Future<Boolean> mapsSafe() {
    long now = System.nanoTime();
    if (safeCheck == null || safeCheck.isComplete() && now - safeCheckAt > 1_000_000_000L) {
      safeCheckAt = now;
      safeCheck = vertx.executeBlocking(() -> hazelcast.getPartitionService().isClusterSafe(),
          false).otherwise(false).onSuccess(safe -> lastSafe = safe);
    }
    return safeCheck.isComplete() || lastSafe == null ? safeCheck
        : Future.succeededFuture(lastSafe);
  }

  private JsonArray masters(Map<String, JsonObject> known, LogShipper shipper, long epoch) {
    Set<String> members = hazelcast.getCluster().getMembers().stream()
        .map(NodeIds::of).collect(Collectors.toSet());
    JsonArray arr = new JsonArray();
    Map<String, Boolean> syncing = shipper == null ? Map.of() : shipper.standbys();
    known.forEach((id, json) -> {
      if (members.contains(json.getString("nodeId")) || id.equals(masterId)) {
        JsonObject m = new JsonObject().put("id", id)
            .put("role", id.equals(masterId) ? "active" : "standby")
            .put("since", json.getLong("since"));
        if (id.equals(masterId)) {
          m.put("epoch", epoch);
        } else {
          m.put("inSync", syncing.getOrDefault(id, false));
        }
        arr.add(m);
      }
    });
    return arr;
  }
}
