package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.PathRules;
import io.vgfs.protocol.VgfsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The master's side of record append. Appends go to the file's last chunk through its
 * <em>primary</em>, a replica holding a lease from this master; the master decides where appends
 * go ({@link Addresses#APPEND_LOCATE}) and makes reported batches part of the file
 * ({@link Addresses#APPEND_REPORT}).
 *
 * <p>Granting a lease bumps the chunk's version, logged, and has every live replica cut itself back
 * to the committed length at the new version: what an earlier primary wrote without it being
 * committed disappears, replicas that cannot follow are stale (and replaced later), and an old
 * primary can no longer reach its secondaries. So a lease is granted again at once when its holder
 * is dead or refused, without waiting for the old lease to run out. A file whose last chunk is
 * shared with a snapshot gets a private copy first (made locally on each chunkserver). Request ids
 * of committed appends are remembered, so a retried append is answered, not applied twice.
 *
 * <p>Requests for one file are handled one at a time; runs on the master's event loop.
 */
final class AppendService {

  private static final Logger log = LoggerFactory.getLogger(AppendService.class);
  static final long LEASE_MS = 60_000;

  private record Lease(long chunk, long version, String primary, List<String> secondaries,
                       long expiresNanos) {
  }

  private final Vertx vertx;
  private final Metadata metadata;
  private final ServerRegistry registry;
  private final MasterOptions options;
  private final long epoch;
  private final java.util.function.LongSupplier nextChunkId;
  private final Map<Long, Lease> leases = new HashMap<>();
  private final Map<String, Future<?>> perFile = new HashMap<>();

  AppendService(Vertx vertx, Metadata metadata, ServerRegistry registry, MasterOptions options,
                long epoch, java.util.function.LongSupplier nextChunkId) {
    this.vertx = vertx;
    this.metadata = metadata;
    this.registry = registry;
    this.options = options;
    this.epoch = epoch;
    this.nextChunkId = nextChunkId;
  }

  List<MessageConsumer<JsonObject>> register(EventBus bus, FileService.Fence fence) {
    List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    consumers.add(FileService.consume(bus, Addresses.APPEND_LOCATE, fence.apply(this::locate)));
    consumers.add(FileService.consume(bus, Addresses.APPEND_REPORT, fence.apply(this::report)));
    return consumers;
  }

  /** Whether the chunk is open for appends (the repairer leaves it alone until the lease ends). */
  boolean leased(long chunk) {
    Lease l = leases.get(chunk);
    return l != null && System.nanoTime() < l.expiresNanos();
  }

  /**
   * A chunkserver died: leases it took part in end now, so their chunks can be repaired (the next
   * append grants a new lease, which bumps the version on every replica, copies included).
   */
  void serverDied(String server) {
    leases.values().removeIf(l -> {
      if (l.primary().equals(server) || l.secondaries().contains(server)) {
        metadata.state().chunks().needsAttention(l.chunk());
        return true;
      }
      return false;
    });
  }

  /** Forgets expired leases; their chunks are looked at again by the repairer. */
  void expireLeases(long now) {
    leases.values().removeIf(l -> {
      if (now > l.expiresNanos()) {
        metadata.state().chunks().needsAttention(l.chunk());
        return true;
      }
      return false;
    });
  }

  // The repairer skips a chunk while it is leased and looks at it again only when told: a lease
  // ended here without that left a chunk that had lost replicas under its lease (a shared one
  // after copy-on-write, found by ChaosIT) under-replicated for good.
  private void endLease(long chunk) {
    if (leases.remove(chunk) != null) {
      metadata.state().chunks().needsAttention(chunk);
    }
  }

  long maxRecord() {
    return Math.max(1, options.chunkSize() / 4);
  }

  // ------------------------------------------------------------------ locate

  private Future<JsonObject> locate(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    String requestId = req.getString("requestId");
    long length = req.getLong("length", -1L);
    if (requestId == null || requestId.isEmpty() || requestId.length() > 200) {
      throw new VgfsException(ErrorCode.BAD_REQUEST, "an append needs a request id");
    }
    if (length < 0 || length > maxRecord()) {
      throw new VgfsException(ErrorCode.TOO_LARGE, "an append is at most " + maxRecord()
          + " bytes (a quarter of the chunk size); this one has " + length);
    }
    // One file at a time: two writers must not grant two leases on one chunk.
    Future<?> before = perFile.getOrDefault(path, Future.succeededFuture());
    Future<JsonObject> mine = before.transform(x -> locateNow(path, requestId, length, req));
    perFile.put(path, mine);
    mine.onComplete(ar -> perFile.remove(path, mine));
    return mine;
  }

  private Future<JsonObject> locateNow(String path, String requestId, long length, JsonObject req) {
    long[] done = metadata.state().appendResult(path, requestId);
    if (done != null) {
      return metadata.barrier().map(v -> new JsonObject().put("done", true)
          .put("offset", done[0]).put("size", done[1]).put("length", done[1] - done[0]));
    }
    FileInfo file = metadata.state().namespace().get(path);
    FileService.checkPreconditions(path, file, req);
    Future<FileInfo> ready = file != null ? Future.succeededFuture(file) : create(path);
    Set<String> failed = new HashSet<>();
    req.getJsonArray("failed", new JsonArray()).forEach(o -> failed.add((String) o));
    Long full = req.getLong("full");
    Long refused = req.getLong("refused");
    long triedVersion = req.getLong("version", -1L);
    return ready.compose(created -> {
      // Creating it took a log write: the file may have been renamed or replaced meanwhile.
      FileInfo f = metadata.state().namespace().get(path);
      if (f == null || !f.id().equals(created.id())) {
        return Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE, path
            + " changed while being created for an append; try again"));
      }
      return lastChunk(f, length, full);
    }).compose(f -> {
      // A writer's complaint is about the lease it tried; if a newer one was granted since
      // (another writer complained first), it does not apply to it.
      Lease current = leases.get(last(f).id());
      boolean outdated = current != null && current.version() > triedVersion;
      boolean refusedNow = !outdated && refused != null && refused == last(f).id();
      return lease(f, outdated ? Set.of() : failed, refusedNow);
    });
  }

  private Future<FileInfo> create(String path) {
    long now = System.currentTimeMillis();
    FileInfo f = new FileInfo(path, "f-" + UUID.randomUUID(), 0, now, now, 0, List.of());
    return metadata.mutate(new JsonObject().put("op", "put").put("file", f.toJson()), null)
        .map(old -> f);
  }

  private static ChunkRef last(FileInfo f) {
    return f.chunks().isEmpty() ? null : f.chunks().get(f.chunks().size() - 1);
  }

  // The chunk appends go to: the last one if the record fits, else a new one; a private copy
  // when the last one is shared with a snapshot.
  private Future<FileInfo> lastChunk(FileInfo f, long length, Long full) {
    ChunkRef last = last(f);
    boolean fresh = last == null || (full != null && full == last.id())
        || last.length() + length > options.chunkSize();
    if (fresh) {
      if (last != null) {
        endLease(last.id()); // sealed: no more appends to it
      }
      return newChunk(f);
    }
    ChunkTable.Chunk c = metadata.state().chunks().get(last.id());
    if (c != null && c.refs() > 1) {
      return copyOnWrite(f, last, c);
    }
    return Future.succeededFuture(f);
  }

  private Future<FileInfo> newChunk(FileInfo f) {
    long now = System.nanoTime();
    List<ServerState> chosen = registry.forNewChunk(now, options.replication(), Set.of());
    if (chosen.size() < options.replication()) {
      return Future.failedFuture(new VgfsException(ErrorCode.NOT_ENOUGH_CHUNKSERVERS,
          "replication " + options.replication() + " needs " + options.replication()
              + " live chunkservers; " + chosen.size() + " available"));
    }
    long id = nextChunkId.getAsLong();
    List<String> ids = new ArrayList<>();
    chosen.forEach(s -> {
      s.recentAllocations++;
      ids.add(s.id());
    });
    List<ChunkRef> chunks = new ArrayList<>(f.chunks());
    chunks.add(new ChunkRef(id, 0, 0, 0, List.of()));
    FileInfo updated = f.withChunks(chunks);
    List<List<String>> acked = new ArrayList<>();
    for (int i = 0; i < chunks.size(); i++) {
      acked.add(i == chunks.size() - 1 ? ids : List.of());
    }
    return metadata.mutate(new JsonObject().put("op", "put").put("file", updated.toJson()), acked)
        .map(old -> updated);
  }

  private Future<FileInfo> copyOnWrite(FileInfo f, ChunkRef last, ChunkTable.Chunk c) {
    // No more appends to the shared chunk: a report under its lease is refused from now on (its
    // writer locates again and lands on the copy), so the copies hold every committed byte.
    endLease(last.id());
    long id = nextChunkId.getAsLong();
    Set<String> readable = registry.readable(System.nanoTime());
    List<Future<String>> copies = new ArrayList<>();
    for (String s : c.replicas()) {
      if (readable.contains(s)) {
        copies.add(command(s, new JsonObject().put("op", "clone").put("from", last.id())
            .put("to", id).put("version", last.version())).map(r -> s));
      }
    }
    return Future.join(new ArrayList<>(copies)).transform(ar -> {
      List<String> ok = new ArrayList<>();
      copies.forEach(x -> {
        if (x.succeeded()) {
          ok.add(x.result());
        }
      });
      if (ok.isEmpty()) {
        return Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE,
            "no replica of chunk " + Long.toHexString(last.id()) + " could be copied"));
      }
      // The copies took time: the file may have been deleted, renamed or replaced meanwhile, and
      // writing back what was read before would undo that.
      FileInfo now = metadata.state().namespace().get(f.path());
      ChunkRef nowLast = now == null ? null : last(now);
      if (now == null || !now.id().equals(f.id()) || nowLast == null
          || nowLast.id() != last.id()) {
        return Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE, f.path()
            + " changed while its last chunk was being copied; try again"));
      }
      log.info("chunk {} of {} is shared with a snapshot: copied to chunk {} on {}",
          Long.toHexString(last.id()), f.path(), Long.toHexString(id), ok);
      List<ChunkRef> chunks = new ArrayList<>(now.chunks());
      chunks.set(chunks.size() - 1, new ChunkRef(id, nowLast.version(), nowLast.length(),
          nowLast.crc32c(), List.of()));
      FileInfo updated = now.withChunks(chunks);
      List<List<String>> acked = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        acked.add(i == chunks.size() - 1 ? ok : List.of());
      }
      return metadata.mutate(new JsonObject().put("op", "put").put("file", updated.toJson()), acked)
          .map(old -> updated);
    });
  }

  // A valid lease on the last chunk, granted anew when there is none, its holder is dead, or the
  // writer found it refused or unreachable.
  private Future<JsonObject> lease(FileInfo f, Set<String> failed, boolean refused) {
    ChunkRef last = last(f);
    long now = System.nanoTime();
    Lease l = leases.get(last.id());
    boolean valid = l != null && !refused && now < l.expiresNanos() && l.version() == last.version()
        && !failed.contains(l.primary()) && registry.get(l.primary()) != null
        && registry.health(registry.get(l.primary()), now) != ServerState.Health.DEAD;
    if (valid) {
      return Future.succeededFuture(grantJson(f, last, l));
    }
    return grant(f, last, failed);
  }

  private Future<JsonObject> grant(FileInfo f, ChunkRef last, Set<String> failed) {
    long now = System.nanoTime();
    ChunkTable.Chunk c = metadata.state().chunks().get(last.id());
    Set<String> readable = registry.readable(now);
    List<String> candidates = new ArrayList<>();
    if (c != null) {
      for (String s : c.replicas()) {
        if (readable.contains(s) && !failed.contains(s)) {
          candidates.add(s);
        }
      }
    }
    if (candidates.isEmpty()) {
      return Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE, "no live replica of "
          + "chunk " + Long.toHexString(last.id()) + " of " + f.path() + " to append to"));
    }
    long version = last.version() + 1;
    List<Future<String>> prepared = new ArrayList<>();
    for (String s : candidates) {
      prepared.add(command(s, new JsonObject().put("op", "prepare").put("chunk", last.id())
          .put("version", version).put("length", last.length())).map(r -> s));
    }
    return Future.join(new ArrayList<>(prepared)).transform(ar -> {
      List<String> ok = new ArrayList<>();
      prepared.forEach(x -> {
        if (x.succeeded()) {
          ok.add(x.result());
        } else {
          log.info("replica of chunk {} could not continue: {}", Long.toHexString(last.id()),
              x.cause().getMessage());
        }
      });
      if (ok.isEmpty()) {
        return Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE, "no replica of chunk "
            + Long.toHexString(last.id()) + " could continue at version " + version));
      }
      return metadata.mutate(new JsonObject().put("op", "version").put("path", f.path())
              .put("fileId", f.id()).put("chunk", last.id()).put("version", version), null)
          .compose(v -> topUp(last, version, ok))
          .compose(replicas -> {
            metadata.state().chunks().keepOnly(last.id(), new LinkedHashSet<>(replicas));
            FileInfo current = metadata.state().namespace().get(f.path());
            ChunkRef now2 = last(current);
            Lease lease = new Lease(last.id(), version, replicas.get(0),
                replicas.subList(1, replicas.size()),
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEASE_MS));
            JsonArray secondaries = new JsonArray();
            lease.secondaries().forEach(s -> secondaries.add(registry.get(s).address().toJson()));
            return command(lease.primary(), new JsonObject().put("op", "lease")
                .put("chunk", last.id()).put("version", version).put("path", current.path())
                .put("fileId", current.id()).put("fileOffset", current.size() - now2.length())
                .put("length", now2.length()).put("secondaries", secondaries)
                .put("leaseMs", LEASE_MS).put("chunkSize", options.chunkSize())
                .put("maxRecord", maxRecord())).map(r -> {
                  leases.put(last.id(), lease);
                  log.info("append lease on chunk {} of {}: primary {}, version {}, secondaries {}",
                      Long.toHexString(last.id()), current.path(), lease.primary(), version,
                      lease.secondaries());
                  return grantJson(current, now2, lease);
                });
          });
    });
  }

  // A lease starts with the replication factor when it can: missing replicas are copied first,
  // while nothing is being appended, so that they are exact.
  private Future<List<String>> topUp(ChunkRef last, long version, List<String> ok) {
    int missing = options.replication() - ok.size();
    if (missing <= 0) {
      return Future.succeededFuture(ok);
    }
    List<ServerState> targets = Placement.choose(registry.writable(System.nanoTime()), missing,
        new HashSet<>(metadata.state().chunks().get(last.id()).replicas()));
    List<Future<String>> copies = new ArrayList<>();
    for (ServerState t : targets) {
      copies.add(command(ok.get(0), new JsonObject().put("op", "replicate").put("chunk", last.id())
          .put("target", t.address().toJson())).map(r -> t.id()));
    }
    return Future.join(new ArrayList<>(copies)).transform(ar -> {
      List<String> all = new ArrayList<>(ok);
      copies.forEach(x -> {
        if (x.succeeded()) {
          all.add(x.result());
          metadata.state().chunks().addReplica(last.id(), x.result());
        }
      });
      return Future.succeededFuture(all);
    });
  }

  private JsonObject grantJson(FileInfo f, ChunkRef last, Lease l) {
    return new JsonObject().put("path", f.path()).put("fileId", f.id()).put("chunk", last.id())
        .put("version", l.version()).put("epoch", epoch)
        .put("primary", registry.get(l.primary()).address().toJson())
        .put("maxRecord", maxRecord());
  }

  // ------------------------------------------------------------------ report

  private Future<JsonObject> report(JsonObject req) {
    String path = req.getString("path");
    long chunk = req.getLong("chunk");
    long version = req.getLong("version");
    Lease l = leases.get(chunk);
    if (l == null || l.version() != version || !l.primary().equals(req.getString("server"))) {
      throw new VgfsException(ErrorCode.NOT_PRIMARY, "no lease on chunk "
          + Long.toHexString(chunk) + " version " + version + " for " + req.getString("server"));
    }
    FileInfo f = metadata.state().namespace().get(path);
    ChunkRef last = f == null ? null : last(f);
    if (f == null || !f.id().equals(req.getString("fileId")) || last == null
        || last.id() != chunk) {
      endLease(chunk);
      throw new VgfsException(ErrorCode.CONFLICT, path + " changed while being appended to");
    }
    long length = req.getLong("length");
    int chunkCrc = Crc32c.parseHex(req.getString("crc32c"));
    long start = f.size() - last.length();
    JsonArray records = req.getJsonArray("records");
    JsonArray results = new JsonArray();
    // A conditional record comes alone; refusing it refuses the whole batch.
    for (int i = 0; i < records.size(); i++) {
      String ifMatch = records.getJsonObject(i).getString("ifMatch");
      if (ifMatch != null && !ifMatch.equals("*") && !ifMatch.equals(f.etag())) {
        results.add(new JsonObject().put("error", ErrorCode.PRECONDITION_FAILED.name())
            .put("message", path + " has ETag " + f.etag() + ", not " + ifMatch));
        return Future.succeededFuture(new JsonObject().put("fileOffset", start)
            .put("leaseMs", LEASE_MS).put("results", results));
      }
    }
    if (length < last.length() || length > options.chunkSize()) {
      throw new VgfsException(ErrorCode.CONFLICT, "chunk length " + length + " does not follow "
          + last.length());
    }
    int prefix = 0;
    for (int i = 0; i < f.chunks().size() - 1; i++) {
      ChunkRef c = f.chunks().get(i);
      prefix = Crc32c.combine(prefix, c.crc32c(), c.length());
    }
    JsonArray requests = new JsonArray();
    for (int i = 0; i < records.size(); i++) {
      JsonObject r = records.getJsonObject(i);
      long offset = start + r.getLong("offset");
      long end = offset + r.getLong("length");
      requests.add(new JsonObject().put("id", r.getString("id")).put("offset", offset)
          .put("size", end));
      results.add(new JsonObject().put("offset", offset).put("size", end));
    }
    JsonObject record = new JsonObject().put("op", "append").put("path", path)
        .put("fileId", f.id()).put("chunk", chunk).put("length", length)
        .put("crc32c", Crc32c.hex(chunkCrc)).put("size", start + length)
        .put("fileCrc", Crc32c.hex(Crc32c.combine(prefix, chunkCrc, length)))
        .put("modified", System.currentTimeMillis()).put("requests", requests);
    leases.put(chunk, new Lease(chunk, version, l.primary(), l.secondaries(),
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEASE_MS)));
    return metadata.mutate(record, null).map(v -> new JsonObject().put("fileOffset", start)
        .put("leaseMs", LEASE_MS).put("results", results));
  }

  private Future<JsonObject> command(String server, JsonObject cmd) {
    return vertx.eventBus().<JsonObject>request(Addresses.chunkserver(server),
        cmd.put("epoch", epoch), new DeliveryOptions().setSendTimeout(10_000))
        .map(m -> m.body());
  }
}
