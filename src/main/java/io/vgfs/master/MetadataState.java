package io.vgfs.master;

import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;

import java.util.List;

/**
 * The durable metadata and how each log record changes it. The same {@link #apply} runs when the
 * active master mutates, when a log is replayed at start-up, and (later) on standbys, so they can
 * never disagree about what a record means. Pure logic, owned by one event loop.
 *
 * <p>Log records ({@code "op"}):
 * <ul>
 *   <li>{@code {"op": "epoch", "epoch", "master"}}: a master term began</li>
 *   <li>{@code {"op": "put", "file": FileInfo}}: a file was committed (created or replaced)</li>
 *   <li>{@code {"op": "delete", "path"}}: a file was deleted</li>
 * </ul>
 */
public final class MetadataState {

  private final Namespace namespace = new Namespace();
  private final ChunkTable chunks = new ChunkTable();
  private long epoch;
  private final java.util.Set<String> masters = new java.util.TreeSet<>();

  public Namespace namespace() {
    return namespace;
  }

  public ChunkTable chunks() {
    return chunks;
  }

  public long epoch() {
    return epoch;
  }

  /** Every master that has led this file system, as far as this state knows. */
  public java.util.Set<String> masters() {
    return java.util.Collections.unmodifiableSet(masters);
  }

  /** Applies one log record; returns the file it replaced or removed, if any. */
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
        if (old != null) {
          chunks.removeFile(old);
        }
        chunks.addFile(file, acked);
        return old;
      }
      case "delete" -> {
        FileInfo old = namespace.remove(record.getString("path"));
        if (old != null) {
          chunks.removeFile(old);
        }
        return old;
      }
      default -> throw new IllegalArgumentException("unknown metadata record op " + op);
    }
  }

  /** Replaces everything with a checkpoint's content. */
  public void load(JsonObject header, List<JsonObject> files) {
    namespace.clear();
    chunks.clear();
    epoch = header == null ? 0 : header.getLong("epoch", 0L);
    if (header != null && header.getJsonArray("masters") != null) {
      masters.clear();
      header.getJsonArray("masters").forEach(m -> masters.add((String) m));
    }
    for (JsonObject f : files) {
      FileInfo file = FileInfo.fromJson(f);
      namespace.put(file);
      chunks.addFile(file);
    }
  }

  /** The checkpoint header for the current state. */
  public JsonObject checkpointHeader() {
    return new JsonObject().put("format", 1).put("epoch", epoch)
        .put("masters", new io.vertx.core.json.JsonArray(new java.util.ArrayList<>(masters)));
  }
}
