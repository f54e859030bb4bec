package io.vgfs.master;

import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The file namespace: path → committed {@link FileInfo} (chunks without replica locations), kept
 * sorted so that listing a prefix costs O(log n + page). Pure logic; the master verticle owns it
 * and uses it from its event loop only.
 */
public final class Namespace {

  private final TreeMap<String, FileInfo> files = new TreeMap<>();

  public FileInfo get(String path) {
    return files.get(path);
  }

  /** Stores {@code file} under its path; returns the record it replaced, or {@code null}. */
  public FileInfo put(FileInfo file) {
    return files.put(file.path(), file);
  }

  public FileInfo remove(String path) {
    return files.remove(path);
  }

  public int size() {
    return files.size();
  }

  public Collection<FileInfo> all() {
    return files.values();
  }

  /** A snapshot of every record, cheap to take (records are immutable). */
  public List<FileInfo> snapshot() {
    return new ArrayList<>(files.values());
  }

  public void clear() {
    files.clear();
  }

  /**
   * Up to {@code limit} files whose path starts with {@code prefix}, in path order, after
   * {@code after} (exclusive; {@code null} to start at the beginning).
   */
  public Page list(String prefix, String after, int limit) {
    return page(files, prefix, after, limit);
  }

  /**
   * {@link #list} over any path-ordered file map (a snapshot's), in time proportional to the page,
   * not to the map.
   */
  public static Page page(NavigableMap<String, FileInfo> files, String prefix, String after,
                          int limit) {
    NavigableMap<String, FileInfo> tail = after != null && after.compareTo(prefix) >= 0
        ? files.tailMap(after, false) : files.tailMap(prefix, true);
    List<FileInfo> out = new ArrayList<>(Math.min(limit, 1024));
    for (Map.Entry<String, FileInfo> e : tail.entrySet()) {
      if (!e.getKey().startsWith(prefix)) {
        break;
      }
      if (out.size() == limit) {
        return new Page(out, true);
      }
      out.add(e.getValue());
    }
    return new Page(out, false);
  }

  /** One page of a listing; {@code truncated} when more entries follow the last one. */
  public record Page(List<FileInfo> files, boolean truncated) {
  }
}
