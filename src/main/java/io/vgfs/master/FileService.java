package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.Allocation;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.ListPage;
import io.vgfs.protocol.PathRules;
import io.vgfs.protocol.Replies;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.VgfsException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The namespace requests of the active master: allocate chunks, commit files, look them up, list
 * and delete them. See {@link Addresses} for the message shapes.
 */
final class FileService {

  static final int DEFAULT_LIST_LIMIT = 1000;
  static final int MAX_LIST_LIMIT = 10_000;

  private final Metadata metadata;
  private final ServerRegistry registry;
  private final MasterOptions options;
  private final String masterId;
  private final long epoch;
  private final io.vertx.core.Vertx vertx;
  private final long termStarted = System.nanoTime();
  private final java.util.function.BooleanSupplier serving; // the fence's checks, for retries
  private long chunkCounter;
  private java.util.function.Supplier<Future<Void>> reports = Future::succeededFuture;

  /**
   * How long after this term began an allocation that finds too few chunkservers waits for more to
   * register (they register again on a new master's announcement, within a fraction of a second
   * here) instead of refusing at once.
   */
  static final long REGISTRATION_GRACE_MS = 1500;

  FileService(io.vertx.core.Vertx vertx, Metadata metadata, ServerRegistry registry,
              MasterOptions options, String masterId, long epoch,
              java.util.function.BooleanSupplier serving) {
    this.vertx = vertx;
    this.serving = serving;
    this.metadata = metadata;
    this.registry = registry;
    this.options = options;
    this.masterId = masterId;
    this.epoch = epoch;
  }

  /** Wraps a handler with the checks every request passes first (epoch, active). */
  interface Fence extends Function<Function<JsonObject, Future<JsonObject>>,
      Function<JsonObject, Future<JsonObject>>> {
  }

  List<MessageConsumer<JsonObject>> register(EventBus bus, Fence fence) {
    List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    consumers.add(consume(bus, Addresses.INFO, fence.apply(this::info)));
    consumers.add(consume(bus, Addresses.ALLOCATE, fence.apply(this::allocate)));
    consumers.add(consume(bus, Addresses.COMMIT, fence.apply(this::commit)));
    consumers.add(consume(bus, Addresses.LOOKUP, fence.apply(this::lookup)));
    consumers.add(consume(bus, Addresses.STAT, fence.apply(this::stat)));
    consumers.add(consume(bus, Addresses.LIST, fence.apply(this::list)));
    consumers.add(consume(bus, Addresses.DELETE, fence.apply(this::delete)));
    consumers.add(consume(bus, Addresses.TRASH_LIST, fence.apply(this::trashList)));
    consumers.add(consume(bus, Addresses.TRASH_RESTORE, fence.apply(this::restore)));
    consumers.add(consume(bus, Addresses.RENAME, fence.apply(this::rename)));
    consumers.add(consume(bus, Addresses.SNAPSHOT_CREATE, fence.apply(this::snapshotCreate)));
    consumers.add(consume(bus, Addresses.SNAPSHOT_LIST, fence.apply(this::snapshotList)));
    consumers.add(consume(bus, Addresses.SNAPSHOT_DELETE, fence.apply(this::snapshotDelete)));
    return consumers;
  }

  /** A new chunk id: unique across terms because the epoch is in its high bits. */
  long nextChunkId() {
    return (epoch << 32) | (++chunkCounter & 0xffffffffL);
  }

  /** Lookups that find a chunk without replicas wait for this (chunk reports after a take-over). */
  void awaitReports(java.util.function.Supplier<Future<Void>> reports) {
    this.reports = reports;
  }

  static MessageConsumer<JsonObject> consume(EventBus bus, String address,
                                             Function<JsonObject, Future<JsonObject>> handler) {
    return bus.consumer(address, msg -> Replies.handle(msg, handler));
  }

  private Future<JsonObject> info(JsonObject req) {
    return Future.succeededFuture(new JsonObject().put("masterId", masterId).put("epoch", epoch)
        .put("chunkSize", options.chunkSize()).put("replication", options.replication())
        .put("smallFileLimit", options.smallFileLimit())
        .put("maxRecord", Math.max(1, options.chunkSize() / 4)));
  }

  private Future<JsonObject> allocate(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    // Fail fast, before any byte moves; the commit checks again, atomically.
    checkPreconditions(path, metadata.state().namespace().get(path), req);
    Set<String> exclude = new HashSet<>();
    req.getJsonArray("exclude", new JsonArray()).forEach(o -> exclude.add((String) o));
    long now = System.nanoTime();
    List<ServerState> chosen = registry.forNewChunk(now, options.replication(), exclude);
    if (chosen.size() < options.replication()
        && now - termStarted < REGISTRATION_GRACE_MS * 1_000_000) {
      io.vertx.core.Promise<JsonObject> later = io.vertx.core.Promise.promise();
      vertx.setTimer(50, id -> {
        if (!serving.getAsBoolean()) {
          later.fail(new VgfsException(ErrorCode.NOT_ACTIVE, "master " + masterId
              + " is no longer the active master"));
          return;
        }
        try {
          allocate(req).onComplete(later);
        } catch (RuntimeException e) {
          later.fail(e);
        }
      });
      return later.future();
    }
    if (chosen.size() < options.replication()) {
      throw new VgfsException(ErrorCode.NOT_ENOUGH_CHUNKSERVERS, "replication "
          + options.replication() + " needs " + options.replication()
          + " live chunkservers; " + chosen.size() + " available"
          + (exclude.isEmpty() ? "" : " (excluding " + exclude + ")"));
    }
    long chunkId = nextChunkId();
    List<ServerAddress> chain = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (ServerState s : chosen) {
      s.recentAllocations++;
      chain.add(s.address());
      ids.add(s.id());
    }
    metadata.state().chunks().allocated(chunkId, ids, now, req.getString("upload"));
    return Future.succeededFuture(
        new Allocation(chunkId, 1, epoch, "", options.chunkSize(), chain).toJson());
  }

  private Future<JsonObject> commit(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    String id = req.getString("id");
    if (id == null || id.isEmpty() || id.length() > 128) {
      throw bad("a commit needs the upload's id");
    }
    FileInfo existing = metadata.state().namespace().get(path);
    if (existing != null && existing.id().equals(id)) {
      // A retry of a commit that already took effect.
      return metadata.barrier().map(v -> existing.toJson());
    }
    checkPreconditions(path, existing, req);
    long size = req.getLong("size");
    int crc = Crc32c.parseHex(req.getString("crc32c"));
    JsonArray chunkArr = req.getJsonArray("chunks", new JsonArray());
    List<ChunkRef> chunks = new ArrayList<>();
    long total = 0;
    int composed = 0;
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < chunkArr.size(); i++) {
      ChunkRef c = ChunkRef.fromJson(chunkArr.getJsonObject(i));
      if (c.length() <= 0 || c.length() > options.chunkSize()) {
        throw bad("chunk " + c.id() + " has an invalid length " + c.length());
      }
      if (metadata.state().chunks().expired(c.id())) {
        throw new VgfsException(ErrorCode.CONFLICT, "chunk " + c.id() + " was allocated too long"
            + " ago and has been collected (uncommitted timeout); upload the file again");
      }
      if (!seen.add(c.id()) || metadata.state().chunks().committed(c.id())) {
        throw new VgfsException(ErrorCode.CONFLICT, "chunk " + c.id()
            + " already belongs to a file");
      }
      total += c.length();
      composed = Crc32c.combine(composed, c.crc32c(), c.length());
      chunks.add(c.withReplicas(List.of()));
    }
    if (total != size) {
      throw bad("chunks hold " + total + " bytes but the file size is " + size);
    }
    if (composed != crc) {
      throw bad("the file checksum does not match its chunks' checksums");
    }
    List<List<String>> acked = new ArrayList<>();
    JsonArray replicas = req.getJsonArray("replicas", new JsonArray());
    for (int i = 0; i < replicas.size(); i++) {
      List<String> ids = new ArrayList<>();
      replicas.getJsonArray(i).forEach(o -> ids.add((String) o));
      acked.add(ids);
    }
    long now = System.currentTimeMillis();
    FileInfo file = new FileInfo(path, id, size, now, now, crc, chunks);
    return metadata.mutate(new JsonObject().put("op", "put").put("file", file.toJson()), acked)
        .map(old -> file.toJson());
  }

  private Future<JsonObject> lookup(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    String snapshot = req.getString("snapshot");
    return metadata.barrier().compose(v -> {
      FileInfo f = snapshot == null ? found(path) : inSnapshot(snapshot, path);
      for (ChunkRef c : f.chunks()) {
        ChunkTable.Chunk chunk = metadata.state().chunks().get(c.id());
        if (chunk == null || chunk.replicas().isEmpty()) {
          // Right after a take-over the replicas' reports may still be on their way.
          return reports.get().map(x -> located(f));
        }
      }
      return Future.succeededFuture(located(f));
    });
  }

  private FileInfo inSnapshot(String name, String path) {
    Snapshots.Snapshot snap = metadata.state().snapshots().get(name);
    if (snap == null) {
      throw new VgfsException(ErrorCode.NOT_FOUND, "no snapshot " + name);
    }
    FileInfo f = snap.files().get(path);
    if (f == null) {
      throw new VgfsException(ErrorCode.NOT_FOUND, "no file " + path + " in snapshot " + name);
    }
    return f;
  }

  private JsonObject located(FileInfo f) {
    {
      long now = System.nanoTime();
      Set<String> readable = registry.readable(now);
      List<ChunkRef> located = new ArrayList<>(f.chunks().size());
      for (ChunkRef c : f.chunks()) {
        List<ServerAddress> where = new ArrayList<>();
        ChunkTable.Chunk chunk = metadata.state().chunks().get(c.id());
        if (chunk != null) {
          for (String s : chunk.replicas()) {
            if (readable.contains(s)) {
              where.add(registry.get(s).address());
            }
          }
        }
        located.add(c.withReplicas(where));
      }
      return f.withChunks(located).toJson().put("epoch", epoch);
    }
  }

  private Future<JsonObject> stat(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    String snapshot = req.getString("snapshot");
    return metadata.barrier().map(v -> (snapshot == null ? found(path)
        : inSnapshot(snapshot, path)).summaryJson());
  }

  private Future<JsonObject> list(JsonObject req) {
    String prefix = PathRules.prefix(req.getString("prefix", ""));
    String after = req.getString("after");
    int limit = req.getInteger("limit", DEFAULT_LIST_LIMIT);
    if (limit <= 0 || limit > MAX_LIST_LIMIT) {
      throw bad("limit must be between 1 and " + MAX_LIST_LIMIT);
    }
    String snapshot = req.getString("snapshot");
    return metadata.barrier().map(v -> {
      Namespace.Page page;
      if (snapshot == null) {
        page = metadata.state().namespace().list(prefix, after, limit);
      } else {
        Snapshots.Snapshot snap = metadata.state().snapshots().get(snapshot);
        if (snap == null) {
          throw new VgfsException(ErrorCode.NOT_FOUND, "no snapshot " + snapshot);
        }
        page = Namespace.page(snap.files(), prefix, after, limit);
      }
      JsonObject out = new JsonObject().put("prefix", prefix)
          .put("page", ListPage.encode(page.files())).put("truncated", page.truncated());
      if (page.truncated()) {
        out.put("next", page.files().get(page.files().size() - 1).path());
      }
      return out;
    });
  }

  // A deleted file goes to the trash, restorable until the retention ends.
  private Future<JsonObject> delete(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    checkPreconditions(path, found(path), req);
    String id = "t-" + java.util.UUID.randomUUID();
    return metadata.mutate(new JsonObject().put("op", "delete").put("path", path).put("id", id)
            .put("at", System.currentTimeMillis()), null)
        .map(old -> new JsonObject().put("path", path).put("deleted", true).put("trashId", id));
  }

  private Future<JsonObject> trashList(JsonObject req) {
    String prefix = PathRules.prefix(req.getString("prefix", ""));
    return metadata.barrier().map(v -> {
      JsonArray files = new JsonArray();
      for (Trash.Entry e : metadata.state().trash().list(prefix)) {
        files.add(trashJson(e));
      }
      return new JsonObject().put("files", files);
    });
  }

  private JsonObject trashJson(Trash.Entry e) {
    return new JsonObject().put("path", e.file().path()).put("id", e.id())
        .put("size", e.file().size()).put("deletedAt", e.deletedAt())
        .put("purgeAt", e.deletedAt() + options.trashRetentionMs());
  }

  private Future<JsonObject> restore(JsonObject req) {
    String path = PathRules.file(req.getString("path"));
    String id = req.getString("id");
    Trash.Entry e = id != null ? metadata.state().trash().get(id)
        : metadata.state().trash().latest(path);
    if (e == null || !e.file().path().equals(path)) {
      throw new VgfsException(ErrorCode.NOT_FOUND, "no deleted file " + path + " in the trash"
          + (id == null ? "" : " with id " + id));
    }
    if (metadata.state().namespace().get(path) != null) {
      throw new VgfsException(ErrorCode.CONFLICT, "a file exists at " + path
          + "; delete or move it before restoring");
    }
    return metadata.mutate(new JsonObject().put("op", "restore").put("id", e.id()), null)
        .map(f -> e.file().summaryJson());
  }

  /**
   * HTTP-style conditions on the current file: {@code ifMatch} (an ETag or {@code *}: the file must
   * exist with that tag) and {@code ifNoneMatch: "*"} (there must be no file).
   */
  static void checkPreconditions(String path, FileInfo current, JsonObject req) {
    String ifMatch = req.getString("ifMatch");
    String ifNoneMatch = req.getString("ifNoneMatch");
    if (ifNoneMatch != null && current != null
        && (ifNoneMatch.equals("*") || ifNoneMatch.equals(current.etag()))) {
      throw new VgfsException(ErrorCode.PRECONDITION_FAILED, path + " exists (ETag "
          + current.etag() + ")");
    }
    if (ifMatch != null) {
      if (current == null) {
        throw new VgfsException(ErrorCode.PRECONDITION_FAILED, path + " does not exist");
      }
      if (!ifMatch.equals("*") && !ifMatch.equals(current.etag())) {
        throw new VgfsException(ErrorCode.PRECONDITION_FAILED, path + " has ETag "
            + current.etag() + ", not " + ifMatch);
      }
    }
  }

  // A file, or every file under a directory, moves in one step: readers see old or new paths.
  private Future<JsonObject> rename(JsonObject req) {
    boolean overwrite = req.getBoolean("overwrite", false);
    String fromRaw = req.getString("from");
    String toRaw = req.getString("to");
    Namespace ns = metadata.state().namespace();
    JsonArray moves = new JsonArray();
    java.util.Map<String, String> plan = new java.util.LinkedHashMap<>();
    String from = fromRaw == null ? null : (fromRaw.endsWith("/") ? fromRaw : fromRaw + "/");
    String single = fromRaw != null && !fromRaw.endsWith("/") ? PathRules.file(fromRaw) : null;
    if (single != null && ns.get(single) != null) {
      plan.put(single, PathRules.file(toRaw));
    } else {
      String prefix = PathRules.prefix(from);
      if (prefix.isEmpty()) {
        throw bad("the root cannot be renamed");
      }
      String target = PathRules.prefix(toRaw.endsWith("/") ? toRaw : toRaw + "/");
      if (target.startsWith(prefix)) {
        throw bad("cannot move " + prefix + " into itself");
      }
      for (FileInfo f : ns.list(prefix, null, Integer.MAX_VALUE).files()) {
        plan.put(f.path(), PathRules.file(target + f.path().substring(prefix.length())));
      }
      if (plan.isEmpty()) {
        throw new VgfsException(ErrorCode.NOT_FOUND, "no file or directory " + fromRaw);
      }
      String asFile = target.substring(0, target.length() - 1);
      if (ns.get(asFile) != null && !plan.containsKey(asFile)) {
        throw new VgfsException(ErrorCode.CONFLICT, "a file exists at " + asFile);
      }
    }
    for (java.util.Map.Entry<String, String> m : plan.entrySet()) {
      if (ns.get(m.getValue()) != null && !plan.containsKey(m.getValue()) && !overwrite) {
        throw new VgfsException(ErrorCode.CONFLICT, m.getValue()
            + " exists; pass overwrite=true to replace it");
      }
      moves.add(new JsonObject().put("from", m.getKey()).put("to", m.getValue()));
    }
    if (plan.size() == 1 && plan.containsKey(plan.values().iterator().next())) {
      return Future.succeededFuture(new JsonObject().put("moved", 0));
    }
    return metadata.mutate(new JsonObject().put("op", "rename").put("moves", moves), null)
        .map(v -> new JsonObject().put("moved", moves.size()));
  }

  private static final java.util.regex.Pattern SNAPSHOT_NAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,128}");

  // Instant: records are copied, chunks are shared (reference counts), no byte moves.
  private Future<JsonObject> snapshotCreate(JsonObject req) {
    String name = req.getString("name");
    if (name == null || !SNAPSHOT_NAME.matcher(name).matches()) {
      throw bad("a snapshot name is 1 to 128 of A-Z a-z 0-9 . _ -");
    }
    if (metadata.state().snapshots().get(name) != null) {
      throw new VgfsException(ErrorCode.CONFLICT, "a snapshot named " + name + " exists");
    }
    String sourceRaw = req.getString("source", "");
    Namespace ns = metadata.state().namespace();
    java.util.TreeMap<String, FileInfo> files = new java.util.TreeMap<>();
    String source;
    if (!sourceRaw.isEmpty() && !sourceRaw.endsWith("/") && ns.get(PathRules.file(sourceRaw)) != null) {
      source = PathRules.file(sourceRaw);
      files.put(source, ns.get(source));
    } else {
      source = PathRules.prefix(sourceRaw);
      for (FileInfo f : ns.list(source, null, Integer.MAX_VALUE).files()) {
        files.put(f.path(), f);
      }
    }
    Snapshots.Snapshot snap = new Snapshots.Snapshot(name, source, System.currentTimeMillis(), files);
    return metadata.mutate(new JsonObject().put("op", "snapshot").put("snapshot", snap.toJson()),
        null).map(v -> snap.summaryJson());
  }

  private Future<JsonObject> snapshotList(JsonObject req) {
    return metadata.barrier().map(v -> {
      JsonArray arr = new JsonArray();
      metadata.state().snapshots().all().forEach(s -> arr.add(s.summaryJson()));
      return new JsonObject().put("snapshots", arr);
    });
  }

  private Future<JsonObject> snapshotDelete(JsonObject req) {
    String name = req.getString("name");
    if (name == null || metadata.state().snapshots().get(name) == null) {
      throw new VgfsException(ErrorCode.NOT_FOUND, "no snapshot " + name);
    }
    return metadata.mutate(new JsonObject().put("op", "snapshot-delete").put("name", name), null)
        .map(v -> new JsonObject().put("name", name).put("deleted", true));
  }

  private FileInfo found(String path) {
    FileInfo f = metadata.state().namespace().get(path);
    if (f == null) {
      throw new VgfsException(ErrorCode.NOT_FOUND, "no such file: " + path);
    }
    return f;
  }

  private static VgfsException bad(String message) {
    return new VgfsException(ErrorCode.BAD_REQUEST, message);
  }
}
