package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.ReplicaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Record append on a chunkserver. As the <em>primary</em> of a chunk (it holds the master's lease)
 * it orders the records writers send it: queued records are taken in batches, given consecutive
 * offsets, appended here and at every secondary at exactly those offsets, and reported to the
 * master, which makes them part of the file; only then is each writer told where its record
 * landed. A record is never split, never interleaved with another, and never visible unless every
 * replica has it. Any failure drops the lease: the master's next grant bumps the chunk version and
 * cuts every replica back to the committed length, so a failed record leaves nothing behind and
 * its retry lands exactly once. As a <em>secondary</em> it appends what the primary forwards,
 * refusing versions and offsets that do not follow.
 *
 * <p>Runs on the chunkserver's event loop; disk work on workers, one batch per chunk at a time.
 */
final class AppendService {

  private static final Logger log = LoggerFactory.getLogger(AppendService.class);
  private static final long BATCH_BYTES = 8L * 1024 * 1024;
  private static final long LEASE_MARGIN_MS = 2_000;

  private record Pending(String requestId, Buffer data, String ifMatch, Promise<JsonObject> reply) {
  }

  private final class Lease {
    final long chunk;
    final long version;
    final long epoch;
    final String path;
    final String fileId;
    final List<ServerAddress> secondaries;
    final long chunkSize;
    final long maxRecord;
    long fileOffset;
    long expiresNanos;
    long length;
    boolean busy;
    boolean dropped;
    final ArrayDeque<Pending> queue = new ArrayDeque<>();

    Lease(JsonObject cmd) {
      chunk = cmd.getLong("chunk");
      version = cmd.getLong("version");
      epoch = cmd.getLong("epoch");
      path = cmd.getString("path");
      fileId = cmd.getString("fileId");
      fileOffset = cmd.getLong("fileOffset");
      chunkSize = cmd.getLong("chunkSize");
      maxRecord = cmd.getLong("maxRecord");
      length = cmd.getLong("length");
      secondaries = new ArrayList<>();
      cmd.getJsonArray("secondaries", new JsonArray())
          .forEach(o -> secondaries.add(ServerAddress.fromJson((JsonObject) o)));
      expiresNanos = System.nanoTime()
          + TimeUnit.MILLISECONDS.toNanos(cmd.getLong("leaseMs") - LEASE_MARGIN_MS);
    }
  }

  private final Vertx vertx;
  private final ChunkStore store;
  private final DataChannelPool pool;
  private final EpochFence fence;
  private final Map<Long, Lease> leases = new HashMap<>();

  AppendService(Vertx vertx, ChunkStore store, DataChannelPool pool, EpochFence fence) {
    this.vertx = vertx;
    this.store = store;
    this.pool = pool;
    this.fence = fence;
  }

  // ------------------------------------------------------------ commands from the master

  /** {@code prepare}: this replica continues chunk at {@code version} from {@code length}. */
  Future<JsonObject> prepare(JsonObject cmd) {
    long chunk = cmd.getLong("chunk");
    long version = cmd.getLong("version");
    long length = cmd.getLong("length");
    Lease old = leases.remove(chunk);
    if (old != null) {
      drop(old, "the master is granting a new lease");
    }
    ReplicaInfo info = store.replica(chunk);
    if (info != null && info.version() > version) {
      return Future.failedFuture(new VgfsException(ErrorCode.STALE_EPOCH, "chunk "
          + ChunkStore.hex(chunk) + " is at version " + info.version() + ", newer than " + version));
    }
    return vertx.executeBlocking(() -> store.appends().prepare(chunk, version, length), false)
        .map(meta -> new JsonObject().put("chunk", chunk).put("length", meta.length()));
  }

  /** {@code lease}: this replica is the primary of the chunk until the lease ends. */
  Future<JsonObject> lease(JsonObject cmd) {
    Lease lease = new Lease(cmd);
    ReplicaInfo info = store.replica(lease.chunk);
    if (info == null || info.version() != lease.version || info.length() != lease.length) {
      return Future.failedFuture(new VgfsException(ErrorCode.CONFLICT, "chunk "
          + ChunkStore.hex(lease.chunk) + " was not prepared for this lease"));
    }
    Lease old = leases.put(lease.chunk, lease);
    if (old != null && old != lease) {
      drop(old, "a new lease replaced it");
    }
    return Future.succeededFuture(new JsonObject().put("chunk", lease.chunk));
  }

  /** {@code clone}: copy a local replica under a new chunk id (copy-on-write). */
  Future<JsonObject> cloneChunk(JsonObject cmd) {
    long from = cmd.getLong("from");
    long to = cmd.getLong("to");
    long version = cmd.getLong("version");
    return vertx.executeBlocking(() -> {
      store.cloneChunk(from, to, version);
      return new JsonObject().put("chunk", to);
    }, false);
  }

  // ------------------------------------------------------------ primary

  /** The largest record the lease accepts, or -1 when this server is not the chunk's primary. */
  long maxRecord(long chunk, long version) {
    Lease l = leases.get(chunk);
    return l == null || l.version != version ? -1 : l.maxRecord;
  }

  /** A writer's record; completes with {@code {offset, size}} once it is part of the file. */
  Future<JsonObject> submit(long chunk, long version, long epoch, String requestId, Buffer data,
                            String ifMatch) {
    Lease l = leases.get(chunk);
    if (!fence.admit(epoch)) {
      return Future.failedFuture(new VgfsException(ErrorCode.STALE_EPOCH, "append from master epoch "
          + epoch + " refused: epoch " + fence.highest() + " has taken over"));
    }
    if (l == null || l.version != version || l.dropped || System.nanoTime() > l.expiresNanos) {
      return Future.failedFuture(new VgfsException(ErrorCode.NOT_PRIMARY, "this server holds no"
          + " append lease for chunk " + ChunkStore.hex(chunk) + " version " + version));
    }
    Promise<JsonObject> reply = Promise.promise();
    l.queue.add(new Pending(requestId, data, ifMatch, reply));
    if (!l.busy) {
      runBatch(l);
    }
    return reply.future();
  }

  private void runBatch(Lease l) {
    if (l.queue.isEmpty() || l.dropped) {
      l.busy = false;
      return;
    }
    l.busy = true;
    if (System.nanoTime() > l.expiresNanos) {
      drop(l, "its lease expired");
      return;
    }
    List<Pending> batch = new ArrayList<>();
    long bytes = 0;
    while (!l.queue.isEmpty()) {
      Pending p = l.queue.peek();
      boolean conditional = p.ifMatch() != null;
      if (!batch.isEmpty() && (conditional || bytes + p.data().length() > BATCH_BYTES)) {
        break; // a conditional record goes alone, so that refusing it takes nothing else back
      }
      if (l.length + bytes + p.data().length() > l.chunkSize) {
        break;
      }
      batch.add(l.queue.poll());
      bytes += p.data().length();
      if (conditional) {
        break;
      }
    }
    if (batch.isEmpty()) {
      // The next record does not fit: the chunk is full; everyone moves on to a new one.
      for (Pending p : l.queue) {
        p.reply().tryFail(new VgfsException(ErrorCode.CHUNK_FULL, "chunk "
            + ChunkStore.hex(l.chunk) + " is full"));
      }
      l.queue.clear();
      l.busy = false;
      return;
    }
    long offset = l.length;
    long total = bytes;
    List<Buffer> data = new ArrayList<>();
    batch.forEach(p -> data.add(p.data()));
    Future<ChunkMeta> local = vertx.executeBlocking(
        () -> store.appends().append(l.chunk, l.version, offset, data), false);
    Buffer joined = Buffer.buffer((int) total);
    data.forEach(joined::appendBuffer);
    List<Future<Void>> remote = new ArrayList<>();
    for (ServerAddress s : l.secondaries) {
      remote.add(forward(l, s, offset, joined));
    }
    Future.all(remote).compose(v -> local).compose(meta -> report(l, batch, offset, meta))
        .onComplete(ar -> {
          try {
            finishBatch(l, batch, offset, total, ar);
          } catch (RuntimeException e) {
            log.error("append batch on chunk {} failed unexpectedly", ChunkStore.hex(l.chunk), e);
            batch.forEach(p -> p.reply().tryFail(e));
            drop(l, "internal error: " + e);
          }
        });
  }

  private void finishBatch(Lease l, List<Pending> batch, long offset, long total,
                           io.vertx.core.AsyncResult<JsonObject> ar) {
    {
      {
          if (ar.failed()) {
            VgfsException e = VgfsException.of(ar.cause());
            batch.forEach(p -> p.reply().tryFail(e));
            drop(l, e.getMessage());
            return;
          }
          JsonObject r = ar.result();
          l.length = offset + total;
          l.fileOffset = r.getLong("fileOffset");
          l.expiresNanos = System.nanoTime()
              + TimeUnit.MILLISECONDS.toNanos(r.getLong("leaseMs") - LEASE_MARGIN_MS);
          JsonArray results = r.getJsonArray("results");
          boolean refused = false;
          for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            JsonObject res = results.getJsonObject(i);
            if (res.getString("error") != null) {
              refused = true;
              p.reply().tryFail(new VgfsException(ErrorCode.ofName(res.getString("error")),
                  res.getString("message")));
            } else {
              p.reply().tryComplete(new JsonObject().put("offset", res.getLong("offset"))
                  .put("size", res.getLong("size")).put("length", p.data().length()));
            }
          }
          if (refused) {
            drop(l, "the master refused a record; its bytes must be cut off");
            return;
          }
          runBatch(l);
      }
    }
  }

  private Future<Void> forward(Lease l, ServerAddress s, long offset, Buffer data) {
    return pool.acquire(s).compose(ch -> {
      Promise<Void> acked = Promise.promise();
      ch.handlers(f -> {
        if (f.type() == FrameType.APPEND_OK) {
          pool.release(ch);
          acked.tryComplete();
        } else {
          ch.close();
          acked.tryFail(f.type() == FrameType.ERROR ? ErrorFrame.fromJson(f.json()).toException()
              : new ReplicaException(ErrorCode.BAD_REQUEST, "unexpected " + f.type(), s.id()));
        }
      }, t -> acked.tryFail(new ReplicaException(ErrorCode.UNAVAILABLE, "secondary " + s
          + " failed: " + t.getMessage(), s.id())));
      ch.send(FrameType.APPEND_FWD, new JsonObject().put("chunk", l.chunk).put("version", l.version)
          .put("epoch", l.epoch).put("offset", offset).put("length", data.length()));
      ch.send(data);
      return acked.future();
    });
  }

  private Future<JsonObject> report(Lease l, List<Pending> batch, long offset, ChunkMeta meta) {
    JsonArray records = new JsonArray();
    long at = offset;
    for (Pending p : batch) {
      JsonObject r = new JsonObject().put("id", p.requestId()).put("offset", at)
          .put("length", p.data().length());
      if (p.ifMatch() != null) {
        r.put("ifMatch", p.ifMatch());
      }
      records.add(r);
      at += p.data().length();
    }
    int crc = 0;
    for (int i = 0; i < meta.crcs().length; i++) {
      long blockLen = Math.min(meta.blockSize(), meta.length() - (long) i * meta.blockSize());
      crc = Crc32c.combine(crc, meta.crcs()[i], blockLen);
    }
    JsonObject req = new JsonObject().put("path", l.path).put("fileId", l.fileId)
        .put("chunk", l.chunk).put("version", l.version).put("epoch", l.epoch)
        .put("server", store.serverId()).put("length", meta.length())
        .put("crc32c", Crc32c.hex(crc)).put("records", records);
    return vertx.eventBus().<JsonObject>request(Addresses.APPEND_REPORT, req,
        new DeliveryOptions().setSendTimeout(10_000)).map(m -> m.body());
  }

  private void drop(Lease l, String why) {
    if (l.dropped) {
      return;
    }
    l.dropped = true;
    leases.remove(l.chunk, l);
    for (Pending p : l.queue) {
      p.reply().tryFail(new VgfsException(ErrorCode.NOT_PRIMARY, "append lease on chunk "
          + ChunkStore.hex(l.chunk) + " dropped: " + why));
    }
    l.queue.clear();
    log.info("dropping the append lease on chunk {}: {}", ChunkStore.hex(l.chunk), why);
  }

  // ------------------------------------------------------------ secondary

  /** Appends forwarded records at exactly {@code offset}; completes when durable here. */
  Future<JsonObject> secondaryAppend(JsonObject hdr, Buffer data) {
    long chunk = hdr.getLong("chunk");
    long epoch = hdr.getLong("epoch", 0L);
    if (!fence.admit(epoch)) {
      return Future.failedFuture(new VgfsException(ErrorCode.STALE_EPOCH, "append from master"
          + " epoch " + epoch + " refused"));
    }
    long version = hdr.getLong("version");
    long offset = hdr.getLong("offset");
    return vertx.executeBlocking(
        () -> store.appends().append(chunk, version, offset, List.of(data)), false)
        .map(meta -> new JsonObject().put("offset", offset));
  }
}
