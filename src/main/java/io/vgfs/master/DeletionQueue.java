package io.vgfs.master;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * The replicas each chunkserver must delete: queued until a heartbeat reply carries them, then
 * remembered as sent until the server confirms them, so that no new replica of those chunks is
 * placed on it meanwhile. A server that is down keeps its queue. Part of {@link ChunkTable}, owned
 * by the master's event loop.
 */
final class DeletionQueue {

  /** How long a sent deletion waits for its confirmation before the server's next report tells. */
  static final long CONFIRM_WAIT_NANOS = 60_000_000_000L;

  private final Map<String, Set<Long>> queued = new HashMap<>();
  private final Map<String, Map<Long, Long>> sent = new HashMap<>(); // server → chunk → sent at

  /** Queues the deletion of a server's replica of a chunk. */
  void add(String server, long chunkId) {
    queued.computeIfAbsent(server, s -> new LinkedHashSet<>()).add(chunkId);
  }

  void clear() {
    queued.clear();
    sent.clear();
  }

  /**
   * Takes up to {@code max} queued deletions for a server, skipping those {@code stillHeld} says
   * the server holds a live replica of again; the rest stay pending until confirmed.
   */
  List<Long> take(String server, int max, long nowNanos, BiPredicate<String, Long> stillHeld) {
    Set<Long> q = queued.get(server);
    List<Long> out = new ArrayList<>();
    if (q == null) {
      return out;
    }
    Map<Long, Long> pendingHere = sent.computeIfAbsent(server, s -> new HashMap<>());
    Iterator<Long> it = q.iterator();
    while (it.hasNext() && out.size() < max) {
      long id = it.next();
      it.remove();
      if (!stillHeld.test(server, id)) {
        out.add(id);
        pendingHere.put(id, nowNanos);
      }
    }
    return out;
  }

  /** Deletions queued, or sent and unconfirmed for at most {@link #CONFIRM_WAIT_NANOS}. */
  int pending(long nowNanos) {
    int n = 0;
    for (Set<Long> q : queued.values()) {
      n += q.size();
    }
    for (Map<Long, Long> m : sent.values()) {
      for (long at : m.values()) {
        if (nowNanos - at <= CONFIRM_WAIT_NANOS) {
          n++;
        }
      }
    }
    return n;
  }

  /** A server reports the deletions it carried out. */
  void confirm(String server, List<Long> ids) {
    Map<Long, Long> pendingHere = sent.get(server);
    if (pendingHere != null) {
      ids.forEach(pendingHere::remove);
    }
  }

  /** Whether the server's replica of the chunk is queued for deletion or was sent lately. */
  boolean contains(String server, long chunkId, long nowNanos) {
    if (queued.getOrDefault(server, Set.of()).contains(chunkId)) {
      return true;
    }
    Map<Long, Long> pendingHere = sent.get(server);
    if (pendingHere == null) {
      return false;
    }
    Long at = pendingHere.get(chunkId);
    if (at != null && nowNanos - at > CONFIRM_WAIT_NANOS) {
      pendingHere.remove(chunkId); // the confirmation got lost: the next report tells the truth
      return false;
    }
    return at != null;
  }
}
