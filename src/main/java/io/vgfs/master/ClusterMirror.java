package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The metadata as Hazelcast maps, held by the master processes (the data members) with a
 * synchronous backup each, so that a standby finds the whole namespace in memory when it takes
 * over. The active master writes through on every mutation before acknowledging it.
 *
 * <pre>
 * vgfs.files    path → FileInfo JSON
 * vgfs.chunks   chunk id → {"version", "length", "path"}
 * vgfs.servers  chunkserver id → its last registration/heartbeat JSON
 * vgfs.cluster  "epoch", "activeMaster", "chunkSize", "replication" → value as string
 * vgfs.masters  master id → {"role", "nodeId", "since"}
 * </pre>
 * Async methods complete on the caller's context; {@code load*} methods block.
 */
public final class ClusterMirror {

  public static final String FILES = "vgfs.files";
  public static final String CHUNKS = "vgfs.chunks";
  public static final String SERVERS = "vgfs.servers";
  public static final String CLUSTER = "vgfs.cluster";
  public static final String MASTERS = "vgfs.masters";

  private final HazelcastInstance hz;
  private final Context context;
  private final IMap<String, String> files;
  private final IMap<Long, String> chunks;
  private final IMap<String, String> servers;
  private final IMap<String, String> cluster;
  private final IMap<String, String> masters;

  public ClusterMirror(HazelcastInstance hz, Context context) {
    this.hz = hz;
    this.context = context;
    this.files = hz.getMap(FILES);
    this.chunks = hz.getMap(CHUNKS);
    this.servers = hz.getMap(SERVERS);
    this.cluster = hz.getMap(CLUSTER);
    this.masters = hz.getMap(MASTERS);
  }

  public HazelcastInstance hazelcast() {
    return hz;
  }

  /** Mirrors a committed file and its chunks; {@code old} is the record it replaced, if any. */
  public Future<Void> put(FileInfo file, FileInfo old) {
    List<Future<Void>> all = new ArrayList<>();
    all.add(wrap(files.setAsync(file.path(), file.toJson().encode())));
    if (old != null) {
      for (ChunkRef c : old.chunks()) {
        all.add(wrap(chunks.removeAsync(c.id()).thenApply(b -> (Void) null)));
      }
    }
    for (ChunkRef c : file.chunks()) {
      all.add(wrap(chunks.setAsync(c.id(), chunkJson(c, file.path()))));
    }
    return Future.all(all).mapEmpty();
  }

  public Future<Void> remove(FileInfo old) {
    List<Future<Void>> all = new ArrayList<>();
    all.add(wrap(files.removeAsync(old.path()).thenApply(b -> (Void) null)));
    for (ChunkRef c : old.chunks()) {
      all.add(wrap(chunks.removeAsync(c.id()).thenApply(b -> (Void) null)));
    }
    return Future.all(all).mapEmpty();
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

  /** Every registered master process (blocking). */
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

  /** The whole namespace as the maps hold it (blocking). */
  public List<JsonObject> loadFiles() {
    List<JsonObject> out = new ArrayList<>(files.size());
    files.values().forEach(v -> out.add(new JsonObject(v)));
    return out;
  }

  /** Replaces the namespace and chunk maps with {@code all} (blocking; a cold start). */
  public void replaceAll(List<FileInfo> all) {
    files.clear();
    chunks.clear();
    Map<String, String> batch = new HashMap<>();
    Map<Long, String> chunkBatch = new HashMap<>();
    for (FileInfo f : all) {
      batch.put(f.path(), f.toJson().encode());
      for (ChunkRef c : f.chunks()) {
        chunkBatch.put(c.id(), chunkJson(c, f.path()));
      }
      if (batch.size() >= 10_000) {
        files.putAll(batch);
        chunks.putAll(chunkBatch);
        batch.clear();
        chunkBatch.clear();
      }
    }
    files.putAll(batch);
    chunks.putAll(chunkBatch);
  }

  private static String chunkJson(ChunkRef c, String path) {
    return new JsonObject().put("version", c.version()).put("length", c.length())
        .put("path", path).encode();
  }

  private <T> Future<T> wrap(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage, context);
  }
}
