package io.vgfs.master;

import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Deleted files, restorable until they are purged after the retention period. A deleted file keeps
 * its chunks (they stay referenced), so restoring it is a metadata operation. Entries are keyed by
 * an id unique per deletion, so a path deleted twice has two entries. Pure logic, owned by the
 * master's event loop.
 */
public final class Trash {

  /** One deleted file. JSON: {@code {id, deletedAt, file: FileInfo}}. */
  public record Entry(String id, long deletedAt, FileInfo file) {

    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("deletedAt", deletedAt).put("file", file.toJson());
    }

    public static Entry fromJson(JsonObject json) {
      return new Entry(json.getString("id"), json.getLong("deletedAt"),
          FileInfo.fromJson(json.getJsonObject("file")));
    }
  }

  private final Map<String, Entry> entries = new HashMap<>();

  public void add(Entry e) {
    entries.put(e.id(), e);
  }

  public Entry remove(String id) {
    return entries.remove(id);
  }

  public Entry get(String id) {
    return entries.get(id);
  }

  public int size() {
    return entries.size();
  }

  public void clear() {
    entries.clear();
  }

  /** The most recently deleted version of {@code path}, or {@code null}. */
  public Entry latest(String path) {
    Entry best = null;
    for (Entry e : entries.values()) {
      if (e.file().path().equals(path) && (best == null || e.deletedAt() > best.deletedAt())) {
        best = e;
      }
    }
    return best;
  }

  /** Entries whose path starts with {@code prefix}, oldest deletion first. */
  public List<Entry> list(String prefix) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.file().path().startsWith(prefix)) {
        out.add(e);
      }
    }
    out.sort(Comparator.comparingLong(Entry::deletedAt).thenComparing(Entry::id));
    return out;
  }

  /** Entries deleted before {@code cutoff}, oldest first, at most {@code max}. */
  public List<Entry> expired(long cutoff, int max) {
    // One pass keeping the max oldest: the master calls this batch after batch while a mass
    // delete is purged, so it must not copy and sort the whole trash each time.
    Comparator<Entry> age = Comparator.comparingLong(Entry::deletedAt).thenComparing(Entry::id);
    PriorityQueue<Entry> youngestFirst = new PriorityQueue<>(age.reversed());
    for (Entry e : entries.values()) {
      if (e.deletedAt() >= cutoff || max <= 0) {
        continue;
      }
      if (youngestFirst.size() < max) {
        youngestFirst.add(e);
      } else if (age.compare(e, youngestFirst.peek()) < 0) {
        youngestFirst.poll();
        youngestFirst.add(e);
      }
    }
    List<Entry> out = new ArrayList<>(youngestFirst);
    out.sort(age);
    return out;
  }

  /** A snapshot of every entry (immutable values). */
  public List<Entry> snapshot() {
    return new ArrayList<>(entries.values());
  }
}
