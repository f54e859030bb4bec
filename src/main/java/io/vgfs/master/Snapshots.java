package io.vgfs.master;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Named copy-on-write snapshots of a file or a directory prefix: each holds the file records as
 * they were, sharing their chunks (the chunk table counts the references), so taking one copies
 * no data. Pure logic, owned by the master's event loop.
 */
public final class Snapshots {

  /**
   * One snapshot. JSON: {@code {name, source, createdAt, files: [FileInfo]}}; files keep their
   * original paths.
   */
  public record Snapshot(String name, String source, long createdAt, TreeMap<String, FileInfo> files) {

    public long bytes() {
      return files.values().stream().mapToLong(FileInfo::size).sum();
    }

    public JsonObject summaryJson() {
      return new JsonObject().put("name", name).put("source", source).put("createdAt", createdAt)
          .put("files", files.size()).put("bytes", bytes());
    }

    public JsonObject toJson() {
      JsonArray arr = new JsonArray();
      files.values().forEach(f -> arr.add(f.toJson()));
      return new JsonObject().put("name", name).put("source", source).put("createdAt", createdAt)
          .put("files", arr);
    }

    public static Snapshot fromJson(JsonObject json) {
      TreeMap<String, FileInfo> files = new TreeMap<>();
      json.getJsonArray("files").forEach(o -> {
        FileInfo f = FileInfo.fromJson((JsonObject) o);
        files.put(f.path(), f);
      });
      return new Snapshot(json.getString("name"), json.getString("source"),
          json.getLong("createdAt"), files);
    }
  }

  private final Map<String, Snapshot> byName = new TreeMap<>();

  public Snapshot get(String name) {
    return byName.get(name);
  }

  public void put(Snapshot s) {
    byName.put(s.name(), s);
  }

  public Snapshot remove(String name) {
    return byName.remove(name);
  }

  public Collection<Snapshot> all() {
    return byName.values();
  }

  public List<Snapshot> snapshot() {
    return new ArrayList<>(byName.values());
  }

  public void clear() {
    byName.clear();
  }
}
