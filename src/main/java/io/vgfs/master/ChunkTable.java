package io.vgfs.master;

import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The chunk table: for every chunk referenced by a file, its version, length and the servers that
 * hold a replica; the chunks allocated but not committed yet; and what each server must delete.
 *
 * <p>Replica locations are never persisted: they come from chunkserver reports (as in GFS), so
 * they are right after any restart. Pure logic, owned by the master's event loop.
 */
public final class ChunkTable {

  /** A committed chunk. */
  public static final class Chunk {
    final long id;
    long version;
    long length;
    int refs; // files, trash entries and snapshots that hold this chunk
    final Set<String> replicas = new LinkedHashSet<>();

    Chunk(long id, long version, long length) {
      this.id = id;
      this.version = version;
      this.length = length;
    }

    public long id() {
      return id;
    }

    public long version() {
      return version;
    }

    public Set<String> replicas() {
      return replicas;
    }

    public long length() {
      return length;
    }

    /** How many files, trash entries and snapshots hold this chunk (more than one: shared). */
    public int refs() {
      return refs;
    }
  }

  private record Pending(long allocatedNanos, List<String> servers, String upload) {
  }

  private static final int EXPIRED_REMEMBERED = 100_000;

  private final Map<Long, Chunk> chunks = new HashMap<>();
  private final Map<String, Set<Long>> byServer = new HashMap<>();
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Map<String, Map<Long, Long>> orphans = new HashMap<>(); // server → chunk → first seen
  private final DeletionQueue deletions = new DeletionQueue();
  private final Map<String, Set<Long>> uploads = new HashMap<>();
  private final Set<Long> expired = new LinkedHashSet<>();
  private final Set<Long> attention = new LinkedHashSet<>(); // replica count may be off
  private final Set<Long> removed = new LinkedHashSet<>(); // chunks of replaced or purged files
  private final Map<Long, Set<String>> corrupt = new HashMap<>(); // bad replicas not yet deleted

  public int size() {
    return chunks.size();
  }

  public Chunk get(long id) {
    return chunks.get(id);
  }

  /** Records an allocation, so the replicas' reports of it are not mistaken for garbage. */
  public void allocated(long chunkId, List<String> servers, long nowNanos) {
    allocated(chunkId, servers, nowNanos, null);
  }

  /**
   * Records an allocation for an upload. Every allocation of an upload renews the upload's other
   * pending chunks, so an upload that keeps making progress never has its first chunks collected
   * however long it takes.
   */
  public void allocated(long chunkId, List<String> servers, long nowNanos, String upload) {
    if (upload != null) {
      Set<Long> ids = uploads.computeIfAbsent(upload, u -> new LinkedHashSet<>());
      for (long id : ids) {
        Pending p = pending.get(id);
        if (p != null) {
          pending.put(id, new Pending(nowNanos, p.servers(), upload));
        }
      }
      ids.add(chunkId);
    }
    pending.put(chunkId, new Pending(nowNanos, servers, upload));
  }

  /** Whether the chunk's allocation expired uncommitted (its replicas are being deleted). */
  public boolean expired(long chunkId) {
    return expired.contains(chunkId);
  }

  /** True when {@code chunkId} belongs to a committed file. */
  public boolean committed(long chunkId) {
    return chunks.containsKey(chunkId);
  }

  /**
   * Adds the chunks of a newly committed file; {@code acked.get(i)} are the servers known to hold
   * chunk {@code i} (the writer's acknowledgement).
   */
  public void addFile(FileInfo file, List<List<String>> acked) {
    for (int i = 0; i < file.chunks().size(); i++) {
      ChunkRef ref = file.chunks().get(i);
      Chunk c = chunks.computeIfAbsent(ref.id(), id -> new Chunk(id, ref.version(), ref.length()));
      c.version = Math.max(c.version, ref.version());
      c.length = ref.length();
      c.refs++;
      Pending p = pending.remove(ref.id());
      if (p != null && p.upload() != null) {
        uploads.remove(p.upload());
      }
      if (acked != null && i < acked.size()) {
        for (String server : acked.get(i)) {
          addReplica(c, server);
        }
      }
      for (Map<Long, Long> o : orphans.values()) {
        o.remove(ref.id());
      }
      if (acked != null) {
        attention.add(ref.id()); // a writer's chain may have lost a replica on the way
      }
    }
  }

  /** Adds the chunks of a file loaded from the log or checkpoint; locations come from reports. */
  public void addFile(FileInfo file) {
    addFile(file, null);
  }

  /** Forgets the chunks of a deleted or replaced file and queues their replicas for deletion. */
  public void removeFile(FileInfo file) {
    for (ChunkRef ref : file.chunks()) {
      Chunk c = chunks.get(ref.id());
      if (c == null || --c.refs > 0) {
        continue; // still held by another file version, the trash or a snapshot
      }
      chunks.remove(ref.id());
      // Remembered, so that a server that was away and reports it later deletes it at once.
      removed.add(ref.id());
      if (removed.size() > EXPIRED_REMEMBERED) {
        Iterator<Long> oldest = removed.iterator();
        oldest.next();
        oldest.remove();
      }
      for (String server : c.replicas) {
        Set<Long> held = byServer.get(server);
        if (held != null) {
          held.remove(c.id);
        }
        deletions.add(server, c.id);
      }
    }
  }

  /** Forgets every location (the table is being reloaded; reports will bring them back). */
  public void clear() {
    chunks.clear();
    byServer.clear();
    pending.clear();
    uploads.clear();
    expired.clear();
    attention.clear();
    corrupt.clear();
    removed.clear();
    orphans.clear();
    deletions.clear();
  }

  /**
   * Reconciles a server's full chunk report: its locations become exactly what it reports, stale
   * versions and garbage are queued for deletion, unknown chunks are remembered as orphans.
   *
   * @param reported {@code [id, version, length]} triples
   */
  public void report(String server, List<long[]> reported, long nowNanos) {
    report(server, reported, nowNanos, true);
  }

  /**
   * As {@link #report(String, List, long)}; a report that is not {@code full} (a periodic one,
   * which may miss chunks written while it was being taken) only adds locations.
   */
  public void report(String server, List<long[]> reported, long nowNanos, boolean full) {
    Set<Long> before = full ? byServer.remove(server) : null;
    if (before != null) {
      for (long id : before) {
        Chunk c = chunks.get(id);
        if (c != null) {
          c.replicas.remove(server);
          attention.add(id);
        }
      }
    }
    Map<Long, Long> serverOrphans = orphans.computeIfAbsent(server, s -> new HashMap<>());
    Set<Long> stillReported = new HashSet<>();
    for (long[] r : reported) {
      long id = r[0];
      stillReported.add(id);
      Chunk c = chunks.get(id);
      if (c != null) {
        // A replica may run ahead of the committed length (appends in flight), never behind it.
        if (r[1] >= c.version && r[2] >= c.length) {
          addReplica(c, server);
        } else {
          // An old version (the server missed updates while away) or a wrong length: discard.
          deletions.add(server, id);
        }
        attention.add(id);
      } else if (removed.contains(id) || expired.contains(id)) {
        deletions.add(server, id); // known garbage
      } else if (!pending.containsKey(id)) {
        serverOrphans.putIfAbsent(id, nowNanos);
      }
    }
    if (full) {
      serverOrphans.keySet().retainAll(stillReported);
    }
  }

  /** Forgets a server's replicas (it is dead). Returns how many chunk locations were lost. */
  public int removeServer(String server) {
    Set<Long> held = byServer.remove(server);
    if (held == null) {
      return 0;
    }
    for (long id : held) {
      Chunk c = chunks.get(id);
      if (c != null) {
        c.replicas.remove(server);
        attention.add(id);
      }
    }
    return held.size();
  }

  /** Drops one replica location (it was found corrupt) and queues it for deletion. */
  public boolean dropReplica(long chunkId, String server) {
    Chunk c = chunks.get(chunkId);
    if (c == null || !c.replicas.remove(server)) {
      return false;
    }
    Set<Long> held = byServer.get(server);
    if (held != null) {
      held.remove(chunkId);
    }
    deletions.add(server, chunkId);
    corrupt.computeIfAbsent(chunkId, k -> new HashSet<>()).add(server);
    attention.add(chunkId);
    return true;
  }

  /** Sets a chunk's version and length (appends, new leases). */
  public void update(long chunkId, long version, long length) {
    Chunk c = chunks.get(chunkId);
    if (c != null) {
      c.version = Math.max(c.version, version);
      c.length = length;
    }
  }

  /** Drops every replica not in {@code keep} (stale after a version bump) and deletes them. */
  public void keepOnly(long chunkId, Set<String> keep) {
    Chunk c = chunks.get(chunkId);
    if (c == null) {
      return;
    }
    for (String s : new ArrayList<>(c.replicas)) {
      if (!keep.contains(s)) {
        removeReplica(chunkId, s);
      }
    }
    attention.add(chunkId);
  }

  /** Records a new replica (a copy made by re-replication or balancing). */
  public boolean addReplica(long chunkId, String server) {
    Chunk c = chunks.get(chunkId);
    if (c == null) {
      return false;
    }
    addReplica(c, server);
    attention.add(chunkId);
    return true;
  }

  /** Removes a surplus replica (balancing, draining, over-replication) and deletes it. */
  public void removeReplica(long chunkId, String server) {
    Chunk c = chunks.get(chunkId);
    if (c != null && c.replicas.remove(server)) {
      Set<Long> held = byServer.get(server);
      if (held != null) {
        held.remove(chunkId);
      }
      deletions.add(server, chunkId);
    }
  }

  /** Has a server delete its copy of a chunk that is not one of the chunk's replicas. */
  public void discard(long chunkId, String server) {
    Chunk c = chunks.get(chunkId);
    if (c == null || !c.replicas.contains(server)) {
      deletions.add(server, chunkId);
    }
  }

  /** Takes the chunks whose replica count may be wrong since last asked. */
  public List<Long> takeAttention(int max) {
    List<Long> out = new ArrayList<>();
    Iterator<Long> it = attention.iterator();
    while (it.hasNext() && out.size() < max) {
      out.add(it.next());
      it.remove();
    }
    return out;
  }

  /** Puts chunks back for a later look (no repair slot was free). */
  public void needsAttention(long chunkId) {
    if (chunks.containsKey(chunkId)) {
      attention.add(chunkId);
    }
  }

  /** Marks every chunk for a look (a server started or stopped draining, a new term began). */
  public void attendAll() {
    attention.addAll(chunks.keySet());
  }

  /**
   * Chunks with a replica reported corrupt that are not back to {@code replication} good replicas
   * on servers in {@code live} yet.
   */
  public int corruptChunks(int replication, Set<String> live) {
    corrupt.keySet().removeIf(id -> {
      Chunk c = chunks.get(id);
      return c == null || c.replicas.stream().filter(live::contains).count() >= replication;
    });
    return corrupt.size();
  }

  /** Every committed chunk (for status counts; O(chunks)). */
  public java.util.Collection<Chunk> all() {
    return chunks.values();
  }

  /** The chunks a server holds. */
  public Set<Long> held(String server) {
    return byServer.getOrDefault(server, Set.of());
  }

  /**
   * Moves orphans older than {@code graceNanos} and expired allocations to the deletion queues:
   * uploads that were never committed.
   */
  public void expire(long nowNanos, long graceNanos) {
    Iterator<Map.Entry<Long, Pending>> expired = pending.entrySet().iterator();
    while (expired.hasNext()) {
      Map.Entry<Long, Pending> p = expired.next();
      if (nowNanos - p.getValue().allocatedNanos() > graceNanos) {
        expired.remove();
        if (p.getValue().upload() != null) {
          uploads.remove(p.getValue().upload());
        }
        this.expired.add(p.getKey());
        if (this.expired.size() > EXPIRED_REMEMBERED) {
          Iterator<Long> oldest = this.expired.iterator();
          oldest.next();
          oldest.remove();
        }
        // Never committed: whatever its replicas stored of it is garbage.
        for (String server : p.getValue().servers()) {
          deletions.add(server, p.getKey());
        }
      }
    }
    for (Map.Entry<String, Map<Long, Long>> e : orphans.entrySet()) {
      Iterator<Map.Entry<Long, Long>> it = e.getValue().entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<Long, Long> o = it.next();
        if (nowNanos - o.getValue() > graceNanos && !pending.containsKey(o.getKey())
            && !chunks.containsKey(o.getKey())) {
          deletions.add(e.getKey(), o.getKey());
          it.remove();
        }
      }
    }
  }

  /** Takes up to {@code max} queued deletions for a server (sent in its heartbeat reply). */
  public List<Long> takeDeletions(String server, int max) {
    return takeDeletions(server, max, System.nanoTime());
  }

  /**
   * As {@link #takeDeletions(String, int)}; the deletions stay pending until the server confirms
   * them ({@link #confirmDeleted}), so no new replica of those chunks is placed there meanwhile.
   */
  public List<Long> takeDeletions(String server, int max, long nowNanos) {
    return deletions.take(server, max, nowNanos,
        (s, id) -> chunks.containsKey(id) && chunks.get(id).replicas.contains(s));
  }

  /**
   * Replica deletions not carried out yet: queued for a heartbeat reply, or sent and not yet
   * confirmed (for at most {@link DeletionQueue#CONFIRM_WAIT_NANOS}, after which a server's next
   * report tells). What is still on the chunkservers' disks of deleted files, for the cluster
   * status; a server that is down keeps its queue and carries it out when it is back.
   */
  public int pendingDeletions(long nowNanos) {
    return deletions.pending(nowNanos);
  }

  /** A server reports the deletions it carried out. */
  public void confirmDeleted(String server, List<Long> ids) {
    deletions.confirm(server, ids);
  }

  /** Whether a replica of the chunk on that server is about to be deleted (or just was). */
  public boolean deleting(String server, long chunkId, long nowNanos) {
    return deletions.contains(server, chunkId, nowNanos);
  }

  /** Chunks with more than {@code replication} replicas on servers in {@code live}. */
  public int overReplicated(int replication, Set<String> live) {
    int n = 0;
    for (Chunk c : chunks.values()) {
      int ok = 0;
      for (String s : c.replicas) {
        if (live.contains(s)) {
          ok++;
        }
      }
      if (ok > replication) {
        n++;
      }
    }
    return n;
  }

  /** Chunks with fewer than {@code replication} replicas on servers in {@code live}. */
  public int underReplicated(int replication, Set<String> live) {
    int n = 0;
    for (Chunk c : chunks.values()) {
      int ok = 0;
      for (String s : c.replicas) {
        if (live.contains(s)) {
          ok++;
        }
      }
      if (ok < replication) {
        n++;
      }
    }
    return n;
  }

  private void addReplica(Chunk c, String server) {
    c.replicas.add(server);
    byServer.computeIfAbsent(server, s -> new HashSet<>()).add(c.id);
  }
}
