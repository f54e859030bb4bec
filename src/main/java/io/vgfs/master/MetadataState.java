package io.vgfs.master;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The durable metadata and how each log record changes it. The same {@link #apply} runs when the
 * active master mutates, when a log is replayed at start-up, and on standbys, so they can never
 * disagree about what a record means. Records describe their result (the whole file record, the
 * trash id), so applying one twice changes nothing more. Pure logic, owned by one event loop.
 *
 * <p>Log records ({@code "op"}):
 * <ul>
 *   <li>{@code {"op": "epoch", "epoch", "master"}}: a master term began</li>
 *   <li>{@code {"op": "put", "file": FileInfo}}: a file was committed (created or replaced)</li>
 *   <li>{@code {"op": "delete", "path", "id", "at"}}: a file moved to the trash as entry {@code id}</li>
 *   <li>{@code {"op": "restore", "id"}}: a trash entry went back to its path</li>
 *   <li>{@code {"op": "purge", "id"}}: a trash entry and its chunks are gone for good</li>
 *   <li>{@code {"op": "drain", "server", "on"}}: a chunkserver is (no longer) being decommissioned</li>
 *   <li>{@code {"op": "rename", "moves": [{"from", "to"}]}}: files moved, all at once; a file that
 *       was at a destination is replaced</li>
 *   <li>{@code {"op": "snapshot", "snapshot": Snapshot}}: a snapshot was taken</li>
 *   <li>{@code {"op": "snapshot-delete", "name"}}: a snapshot was deleted</li>
 *   <li>{@code {"op": "version", "path", "fileId", "chunk", "version"}}: a new append lease bumped a
 *       chunk's version (replicas with an older one are stale)</li>
 *   <li>{@code {"op": "append", "path", "fileId", "chunk", "length", "crc32c", "size", "fileCrc",
 *       "modified", "requests": [{id, offset, size}]}}: records appended to the file's last chunk;
 *       the request ids are remembered so a retry is answered, not applied again</li>
 * </ul>
 * A checkpoint is a header ({@link #checkpointHeader()}) and one entry per file or trash entry
 * ({@link #checkpointEntries()}).
 */
public final class MetadataState {

  private final Namespace namespace = new Namespace();
  private final ChunkTable chunks = new ChunkTable();
  private final Trash trash = new Trash();
  private final Snapshots snapshots = new Snapshots();
  private final Set<String> masters = new TreeSet<>();
  private final Set<String> draining = new TreeSet<>();
  private long epoch;
  private static final int APPEND_IDS = 100_000;
  private final java.util.LinkedHashMap<String, long[]> appended =
      new java.util.LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, long[]> eldest) {
          return size() > APPEND_IDS;
        }
      };

  public Namespace namespace() {
    return namespace;
  }

  public ChunkTable chunks() {
    return chunks;
  }

  public Trash trash() {
    return trash;
  }

  public Snapshots snapshots() {
    return snapshots;
  }

  /**
   * Where an append to {@code path} with this request id landed ({@code [offset, size]}), or
   * {@code null}. Ids are per file: the same key on two files names two appends.
   */
  public long[] appendResult(String path, String requestId) {
    return appended.get(path + "\u0000" + requestId);
  }

  public long epoch() {
    return epoch;
  }

  /** Every master that has led this file system, as far as this state knows. */
  public Set<String> masters() {
    return Collections.unmodifiableSet(masters);
  }

  /** Chunkservers being decommissioned: their replicas do not count towards replication. */
  public Set<String> draining() {
    return Collections.unmodifiableSet(draining);
  }

  /** Applies one log record; returns the file it replaced, removed or restored, if any. */
  public FileInfo apply(JsonObject record) {
    return apply(record, null);
  }

  /**
   * Applies one log record. For {@code put}, {@code acked} lists per chunk the servers known to
   * hold it (the writer's acknowledgement); replayed records have none.
   */
  public FileInfo apply(JsonObject record, List<List<String>> acked) {
    String op = record.getString("op");
    switch (op) {
      case "epoch" -> {
        epoch = Math.max(epoch, record.getLong("epoch"));
        if (record.getString("master") != null) {
          masters.add(record.getString("master"));
        }
        return null;
      }
      case "put" -> {
        FileInfo file = FileInfo.fromJson(record.getJsonObject("file"));
        FileInfo old = namespace.put(file);
        // New references first, then the old ones go: chunks the two versions share (an append
        // adding a chunk, a copy-on-write) keep their count and are never collected on the way.
        chunks.addFile(file, acked);
        if (old != null) {
          chunks.removeFile(old);
        }
        return old;
      }
      case "delete" -> {
        FileInfo old = namespace.remove(record.getString("path"));
        if (old != null) {
          trash.add(new Trash.Entry(record.getString("id"), record.getLong("at"), old));
        }
        return old;
      }
      case "restore" -> {
        Trash.Entry e = trash.remove(record.getString("id"));
        if (e == null) {
          return null;
        }
        FileInfo displaced = namespace.put(e.file());
        if (displaced != null && !displaced.id().equals(e.file().id())) {
          chunks.removeFile(displaced);
        }
        return e.file();
      }
      case "purge" -> {
        Trash.Entry e = trash.remove(record.getString("id"));
        if (e == null) {
          return null;
        }
        chunks.removeFile(e.file());
        return e.file();
      }
      case "drain" -> {
        if (record.getBoolean("on", true)) {
          draining.add(record.getString("server"));
        } else {
          draining.remove(record.getString("server"));
        }
        return null;
      }
      case "rename" -> {
        List<FileInfo> moving = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        for (Object o : record.getJsonArray("moves")) {
          JsonObject m = (JsonObject) o;
          FileInfo f = namespace.remove(m.getString("from"));
          if (f != null) {
            moving.add(f);
            targets.add(m.getString("to"));
          }
        }
        for (int i = 0; i < moving.size(); i++) {
          FileInfo displaced = namespace.put(moving.get(i).withPath(targets.get(i)));
          if (displaced != null) {
            chunks.removeFile(displaced);
          }
        }
        return null;
      }
      case "snapshot" -> {
        Snapshots.Snapshot snap = Snapshots.Snapshot.fromJson(record.getJsonObject("snapshot"));
        if (snapshots.get(snap.name()) == null) {
          snapshots.put(snap);
          snap.files().values().forEach(chunks::addFile);
        }
        return null;
      }
      case "snapshot-delete" -> {
        Snapshots.Snapshot snap = snapshots.remove(record.getString("name"));
        if (snap != null) {
          snap.files().values().forEach(chunks::removeFile);
        }
        return null;
      }
      case "version" -> {
        FileInfo f = namespace.get(record.getString("path"));
        long chunk = record.getLong("chunk");
        long version = record.getLong("version");
        if (f != null && f.id().equals(record.getString("fileId"))) {
          List<io.vgfs.protocol.ChunkRef> refs = new ArrayList<>();
          for (io.vgfs.protocol.ChunkRef c : f.chunks()) {
            refs.add(c.id() == chunk ? new io.vgfs.protocol.ChunkRef(c.id(), version, c.length(),
                c.crc32c(), List.of()) : c);
          }
          namespace.put(f.withChunks(refs));
        }
        chunks.update(chunk, version, chunks.get(chunk) == null ? 0 : chunks.get(chunk).length());
        return null;
      }
      case "append" -> {
        FileInfo f = namespace.get(record.getString("path"));
        long chunk = record.getLong("chunk");
        if (f != null && f.id().equals(record.getString("fileId"))) {
          List<io.vgfs.protocol.ChunkRef> refs = new ArrayList<>();
          for (io.vgfs.protocol.ChunkRef c : f.chunks()) {
            refs.add(c.id() == chunk ? new io.vgfs.protocol.ChunkRef(c.id(), c.version(),
                record.getLong("length"), io.vgfs.protocol.Crc32c.parseHex(record.getString("crc32c")),
                List.of()) : c);
          }
          namespace.put(new FileInfo(f.path(), f.id(), record.getLong("size"), f.created(),
              record.getLong("modified"), io.vgfs.protocol.Crc32c.parseHex(record.getString("fileCrc")),
              refs));
          ChunkTable.Chunk c = chunks.get(chunk);
          chunks.update(chunk, c == null ? 0 : c.version(), record.getLong("length"));
        }
        for (Object o : record.getJsonArray("requests", new JsonArray())) {
          JsonObject r = (JsonObject) o;
          appended.put(record.getString("path") + "\u0000" + r.getString("id"),
              new long[] {r.getLong("offset"), r.getLong("size")});
        }
        return null;
      }
      default -> throw new IllegalArgumentException("unknown metadata record op " + op);
    }
  }

  /** Replaces everything with a checkpoint's content (files and trash entries). */
  public void load(JsonObject header, List<JsonObject> entries) {
    namespace.clear();
    chunks.clear();
    trash.clear();
    snapshots.clear();
    appended.clear();
    epoch = header == null ? 0 : header.getLong("epoch", 0L);
    if (header != null && header.getJsonArray("masters") != null) {
      masters.clear();
      header.getJsonArray("masters").forEach(m -> masters.add((String) m));
    }
    if (header != null && header.getJsonArray("draining") != null) {
      draining.clear();
      header.getJsonArray("draining").forEach(m -> draining.add((String) m));
    }
    for (JsonObject e : entries) {
      if (e.containsKey("trash")) {
        Trash.Entry t = Trash.Entry.fromJson(e.getJsonObject("trash"));
        trash.add(t);
        chunks.addFile(t.file());
      } else if (e.containsKey("appended")) {
        for (Object o : e.getJsonArray("appended")) {
          JsonArray a = (JsonArray) o;
          appended.put(a.getString(0), new long[] {a.getLong(1), a.getLong(2)});
        }
      } else if (e.containsKey("snapshot")) {
        Snapshots.Snapshot snap = Snapshots.Snapshot.fromJson(e.getJsonObject("snapshot"));
        snapshots.put(snap);
        snap.files().values().forEach(chunks::addFile);
      } else {
        FileInfo file = FileInfo.fromJson(e);
        namespace.put(file);
        chunks.addFile(file);
      }
    }
  }

  /** The checkpoint header for the current state. */
  public JsonObject checkpointHeader() {
    return new JsonObject().put("format", 1).put("epoch", epoch)
        .put("masters", new JsonArray(new ArrayList<>(masters)))
        .put("draining", new JsonArray(new ArrayList<>(draining)));
  }

  /** Every file and trash entry, cheap to take (immutable values), to encode on a worker. */
  public List<Object> checkpointEntries() {
    List<Object> out = new ArrayList<>(namespace.size() + trash.size());
    out.addAll(namespace.snapshot());
    out.addAll(trash.snapshot());
    out.addAll(snapshots.snapshot());
    JsonArray ids = new JsonArray();
    appended.forEach((id, r) -> ids.add(new JsonArray().add(id).add(r[0]).add(r[1])));
    out.add(new JsonObject().put("appended", ids));
    return out;
  }

  /**
   * This state's checkpoint entries, each replaced by the entry of {@code others} with the same
   * key (file path, trash id or snapshot name), plus the entries only {@code others} has.
   */
  public List<JsonObject> unionWith(List<JsonObject> others) {
    Map<String, JsonObject> byKey = new java.util.LinkedHashMap<>();
    checkpointEntries().forEach(o -> {
      JsonObject e = encodeEntry(o);
      byKey.put(entryKey(e), e);
    });
    others.forEach(e -> byKey.put(entryKey(e), e));
    return new ArrayList<>(byKey.values());
  }

  private static String entryKey(JsonObject e) {
    if (e.containsKey("trash")) {
      return "t:" + e.getJsonObject("trash").getString("id");
    }
    if (e.containsKey("snapshot")) {
      return "s:" + e.getJsonObject("snapshot").getString("name");
    }
    return "f:" + e.getString("path");
  }

  /** Encodes an element of {@link #checkpointEntries()}. */
  public static JsonObject encodeEntry(Object o) {
    if (o instanceof Trash.Entry t) {
      return new JsonObject().put("trash", t.toJson());
    }
    if (o instanceof Snapshots.Snapshot s) {
      return new JsonObject().put("snapshot", s.toJson());
    }
    if (o instanceof JsonObject j) {
      return j;
    }
    return ((FileInfo) o).toJson();
  }
}
