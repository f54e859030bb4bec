package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The metadata as Hazelcast maps, held by the master processes (the data members) with a
 * synchronous backup each, so that a standby finds the whole namespace in memory when it takes
 * over. The active master writes through on every mutation before acknowledging it.
 *
 * <pre>
 * vgfs.files    path → FileInfo JSON (with its chunks: id, version, length, checksum)
 * vgfs.servers  chunkserver id → its last registration/heartbeat JSON
 * vgfs.cluster  "epoch", "activeMaster", "chunkSize", "replication", "draining",
 *               "mapsEpoch" (the last epoch whose master finished MapRepair) → value as string
 * vgfs.masters  master id → {"role", "nodeId", "since"}
 * vgfs.trash    trash id → Trash.Entry JSON
 * vgfs.snapshots name → Snapshot JSON
 * </pre>
 * The chunk table is derived from the file records (each lists its chunks with version and
 * length); replica locations are not kept here at all but rebuilt from chunkserver reports, as
 * in GFS. Async methods complete on the caller's context; {@code load*} methods block.
 */
public final class ClusterMirror {

  public static final String FILES = "vgfs.files";
  public static final String SERVERS = "vgfs.servers";
  public static final String CLUSTER = "vgfs.cluster";
  public static final String MASTERS = "vgfs.masters";
  public static final String TRASH = "vgfs.trash";
  public static final String SNAPSHOTS = "vgfs.snapshots";
  /** The cluster-map key of the last epoch whose active master finished {@link MapRepair}. */
  public static final String MAPS_EPOCH = "mapsEpoch";

  private final HazelcastInstance hz;
  private final Context context;
  private final IMap<String, String> files;
  private final IMap<String, String> servers;
  private final IMap<String, String> cluster;
  private final IMap<String, String> masters;
  private final IMap<String, String> trash;
  private final IMap<String, String> snapshots;

  public ClusterMirror(HazelcastInstance hz, Context context) {
    this.hz = hz;
    this.context = context;
    this.files = hz.getMap(FILES);
    this.servers = hz.getMap(SERVERS);
    this.cluster = hz.getMap(CLUSTER);
    this.masters = hz.getMap(MASTERS);
    this.trash = hz.getMap(TRASH);
    this.snapshots = hz.getMap(SNAPSHOTS);
  }

  public HazelcastInstance hazelcast() {
    return hz;
  }

  /** Mirrors a committed file and its chunks; {@code old} is the record it replaced, if any. */
  public Future<Void> put(FileInfo file, FileInfo old) {
    return wrap(files.setAsync(file.path(), file.toJson().encode()));
  }

  public Future<Void> remove(FileInfo old) {
    return wrap(files.removeAsync(old.path()).thenApply(b -> (Void) null));
  }

  /** A file moved to the trash. */
  public Future<Void> trash(Trash.Entry entry) {
    return Future.all(wrap(files.removeAsync(entry.file().path()).thenApply(b -> (Void) null)),
        wrap(trash.setAsync(entry.id(), entry.toJson().encode()))).mapEmpty();
  }

  /** A trash entry went back to its path ({@code displaced}: the file it replaced, if any). */
  public Future<Void> restore(String id, FileInfo file, FileInfo displaced) {
    return Future.all(wrap(trash.removeAsync(id).thenApply(b -> (Void) null)),
        put(file, displaced)).mapEmpty();
  }

  /** A trash entry is gone with its chunks. */
  public Future<Void> purge(String id, FileInfo file) {
    return wrap(trash.removeAsync(id).thenApply(b -> (Void) null));
  }

  /** Files moved: {@code moved} holds the records at their new paths, {@code from} the old paths. */
  public Future<Void> rename(List<String> from, List<FileInfo> moved) {
    List<Future<Void>> all = new ArrayList<>();
    for (String p : from) {
      all.add(wrap(files.removeAsync(p).thenApply(b -> (Void) null)));
    }
    return Future.all(all).compose(v -> {
      List<Future<Void>> puts = new ArrayList<>();
      for (FileInfo f : moved) {
        puts.add(wrap(files.setAsync(f.path(), f.toJson().encode())));
      }
      return Future.all(puts);
    }).mapEmpty();
  }

  public Future<Void> putSnapshot(Snapshots.Snapshot s) {
    return wrap(snapshots.setAsync(s.name(), s.toJson().encode()));
  }

  public Future<Void> removeSnapshot(String name) {
    return wrap(snapshots.removeAsync(name).thenApply(b -> (Void) null));
  }

  public Future<Void> putServer(String id, JsonObject state) {
    return wrap(servers.setAsync(id, state.encode()));
  }

  public Future<Void> putMaster(String id, JsonObject state) {
    return wrap(masters.setAsync(id, state.encode()));
  }

  public Future<Void> putCluster(String key, String value) {
    return wrap(cluster.setAsync(key, value));
  }

  /** One master's entry, or null (blocking, but a single-key read: see {@link #loadMasters}). */
  public JsonObject loadMaster(String masterId) {
    String v = masters.get(masterId);
    return v == null ? null : new JsonObject(v);
  }

  /**
   * Every registered master process (blocking). A whole-map query: right after a member crashes it can wait
   * seconds for the lost partitions to be re-assigned, where a single-key read takes a moment.
   */
  public Map<String, JsonObject> loadMasters() {
    Map<String, JsonObject> out = new HashMap<>();
    masters.forEach((k, v) -> out.put(k, new JsonObject(v)));
    return out;
  }

  /** Every chunkserver's last registration or heartbeat (blocking). */
  public Map<String, JsonObject> loadServers() {
    Map<String, JsonObject> out = new HashMap<>();
    servers.forEach((k, v) -> out.put(k, new JsonObject(v)));
    return out;
  }

  /** A cluster-map value (blocking), or {@code null}. */
  public String loadCluster(String key) {
    return cluster.get(key);
  }

  /**
   * The whole metadata as the maps hold it (blocking): checkpoint-style entries (files, and trash
   * entries as {@code {"trash": ...}}) and the draining chunkservers.
   */
  public MetadataSnapshot loadState() {
    List<JsonObject> out = new ArrayList<>(files.size() + trash.size());
    files.values().forEach(v -> out.add(new JsonObject(v)));
    trash.values().forEach(v -> out.add(new JsonObject().put("trash", new JsonObject(v))));
    snapshots.values().forEach(v -> out.add(new JsonObject().put("snapshot", new JsonObject(v))));
    String d = cluster.get("draining");
    return new MetadataSnapshot(out, d == null ? new io.vertx.core.json.JsonArray()
        : new io.vertx.core.json.JsonArray(d));
  }

  /** The maps' content in checkpoint form. */
  public record MetadataSnapshot(List<JsonObject> entries, io.vertx.core.json.JsonArray draining) {

    /** A checkpoint header for this snapshot at {@code epoch}. */
    public JsonObject header(long epoch) {
      return new JsonObject().put("epoch", epoch).put("draining", draining);
    }
  }

  /** The maps that hold the namespace, which {@link MapRepair} makes equal to a master's state. */
  public enum Store { FILES, TRASH, SNAPSHOTS }

  private IMap<String, String> map(Store store) {
    return switch (store) {
      case FILES -> files;
      case TRASH -> trash;
      case SNAPSHOTS -> snapshots;
    };
  }

  /**
   * The values of {@code keys} in a store (blocking). Partition-wise reads: unlike a whole-map
   * query, they do not wait for partitions lost with a crashed member to be re-created.
   */
  public Map<String, String> read(Store store, Set<String> keys) {
    return map(store).getAll(keys);
  }

  /** Every key of a store (blocking: a whole-map query). */
  public Set<String> keys(Store store) {
    return new HashSet<>(map(store).keySet());
  }

  public Future<Void> write(Store store, String key, String value) {
    return wrap(map(store).setAsync(key, value));
  }

  /**
   * Sets {@code key} to {@code value} only if it still holds {@code expected} ({@code null}: is
   * absent), and tells whether it did (blocking). Conditional, so that a repair never overwrites
   * a value that a mutation wrote after the repair read the map, whatever order Hazelcast
   * applies asynchronous writes in when it retries them.
   */
  public boolean replace(Store store, String key, String expected, String value) {
    return expected == null ? map(store).putIfAbsent(key, value) == null
        : map(store).replace(key, expected, value);
  }

  /** Removes {@code key} only if it still holds {@code expected}; whether it did (blocking). */
  public boolean remove(Store store, String key, String expected) {
    return map(store).remove(key, expected);
  }

  /** The list of draining chunkservers, as the active master's state has it. */
  public Future<Void> putDraining(java.util.Collection<String> draining) {
    return putCluster("draining", new io.vertx.core.json.JsonArray(new ArrayList<>(draining)).encode());
  }

  private <T> Future<T> wrap(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage, context);
  }
}
