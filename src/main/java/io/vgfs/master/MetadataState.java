package io.vgfs.master;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * </ul>
 * A checkpoint is a header ({@link #checkpointHeader()}) and one entry per file or trash entry
 * ({@link #checkpointEntries()}).
 */
public final class MetadataState {

  private final Namespace namespace = new Namespace();
  private final ChunkTable chunks = new ChunkTable();
  private final Trash trash = new Trash();
  private final Set<String> masters = new TreeSet<>();
  private final Set<String> draining = new TreeSet<>();
  private long epoch;

  public Namespace namespace() {
    return namespace;
  }

  public ChunkTable chunks() {
    return chunks;
  }

  public Trash trash() {
    return trash;
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
        if (old != null && !old.id().equals(file.id())) {
          chunks.removeFile(old);
        }
        chunks.addFile(file, acked);
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
      default -> throw new IllegalArgumentException("unknown metadata record op " + op);
    }
  }

  /** Replaces everything with a checkpoint's content (files and trash entries). */
  public void load(JsonObject header, List<JsonObject> entries) {
    namespace.clear();
    chunks.clear();
    trash.clear();
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
    return out;
  }

  /** Encodes an element of {@link #checkpointEntries()}. */
  public static JsonObject encodeEntry(Object o) {
    return o instanceof Trash.Entry t ? new JsonObject().put("trash", t.toJson())
        : ((FileInfo) o).toJson();
  }
}
