package io.vgfs.client.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.Allocation;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.Durability;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.DataChannelPool;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One file upload: cuts the source stream into chunks, writes each along its replica chain
 * ({@link ChunkWriter}), and commits the file to the master once every chunk is acknowledged.
 *
 * <p>The source is paused whenever the current chunk's socket is full and while the next chunk is
 * being allocated, so memory stays at one partial block plus socket buffers whatever the file
 * size. The next chunk streams while the previous one is still being made durable (at most two
 * chunks in flight), so the fsync at the end of a chunk does not stall the pipe.
 */
final class FileUpload {

  private static final int MAX_UNACKED_CHUNKS = 1;

  private final MasterClient master;
  private final DataChannelPool pool;
  private final io.vertx.core.Vertx vertx;
  private final long stallTimeoutMs;
  private final Durability durability;
  private final String path;
  private final ReadStream<Buffer> source;
  private final String uploadId = "f-" + UUID.randomUUID();
  private final Promise<FileInfo> result = Promise.promise();
  private final List<Future<ChunkWriter.Written>> chunks = new ArrayList<>();
  private final List<ChunkWriter> unacked = new ArrayList<>();
  private long chunkSize;
  private ChunkWriter current;
  private Buffer held;        // input that arrived while no chunk was open
  private boolean opening;
  private boolean ended;
  private long size;

  private final io.vgfs.client.WriteOptions conditions;

  FileUpload(io.vertx.core.Vertx vertx, MasterClient master, DataChannelPool pool,
             Durability durability, long stallTimeoutMs, String path, ReadStream<Buffer> source,
             io.vgfs.client.WriteOptions conditions) {
    this.vertx = vertx;
    this.stallTimeoutMs = stallTimeoutMs;
    this.conditions = conditions;
    this.master = master;
    this.pool = pool;
    this.durability = durability;
    this.path = path;
    this.source = source;
  }

  /**
   * Why the caller's stream failed, as the caller should see it: its own fault (a client that hung
   * up, a producer that failed) is a bad request; a JVM out of memory (the socket could not get a
   * buffer) is this process's, and worth a retry later.
   */
  static VgfsException sourceFailure(Throwable t) {
    if (t instanceof VirtualMachineError) {
      return new VgfsException(ErrorCode.UNAVAILABLE,
          "out of memory while receiving the upload (" + t.getMessage() + "); retry later", t);
    }
    return new VgfsException(ErrorCode.BAD_REQUEST,
        "the upload stream failed before its end: " + t.getMessage(), t);
  }

  Future<FileInfo> start(Future<Long> chunkSizeFuture) {
    source.pause();
    source.exceptionHandler(t -> fail(sourceFailure(t)));
    source.endHandler(v -> {
      ended = true;
      maybeFinish();
    });
    source.handler(this::onData);
    chunkSizeFuture.onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
      } else {
        chunkSize = ar.result();
        source.resume();
      }
    });
    return result.future();
  }

  private void onData(Buffer data) {
    if (result.future().isComplete()) {
      return;
    }
    int pos = 0;
    while (pos < data.length()) {
      if (current == null) {
        Buffer rest = data.slice(pos, data.length());
        held = held == null ? rest : Buffer.buffer().appendBuffer(held).appendBuffer(rest);
        source.pause();
        if (!opening) {
          openChunk();
        }
        return;
      }
      int take = (int) Math.min(chunkSize - current.length(), data.length() - pos);
      current.write(pos == 0 && take == data.length() ? data : data.slice(pos, pos + take));
      size += take;
      pos += take;
      if (current.length() == chunkSize) {
        closeChunk();
      }
    }
    if (current != null && current.writeQueueFull()) {
      source.pause();
      ChunkWriter w = current;
      w.drainHandler(v -> {
        if (current == w && !result.future().isComplete()) {
          source.resume();
        }
      });
    }
  }

  private void openChunk() {
    opening = true;
    // Keep at most MAX_UNACKED_CHUNKS finished chunks waiting for their acknowledgement.
    Future<Void> window = unacked.size() > MAX_UNACKED_CHUNKS
        ? unacked.get(0).acked().mapEmpty() : Future.succeededFuture();
    window.compose(v -> master.request(Addresses.ALLOCATE,
            conditions.applyTo(new JsonObject().put("path", path).put("upload", uploadId))))
        .compose(json -> ChunkWriter.open(vertx, Allocation.fromJson(json), pool, durability,
            stallTimeoutMs))
        .onComplete(ar -> {
          opening = false;
          if (ar.failed()) {
            fail(ar.cause());
            return;
          }
          if (result.future().isComplete()) {
            ar.result().abort(new VgfsException(ErrorCode.UNAVAILABLE, "upload aborted"));
            return;
          }
          current = ar.result();
          // A chain that fails mid-chunk ends the upload now, not at the chunk's end: a writer
          // gone quiet, or paused on a socket that will never drain, would otherwise wait forever.
          current.acked().onFailure(this::fail);
          Buffer rest = held;
          held = null;
          onData(rest);
          // More input is wanted unless a chunk is being opened or the socket is full; the held
          // bytes may have filled the new chunk exactly, leaving no chunk open at all.
          if (!result.future().isComplete() && !opening
              && (current == null || !current.writeQueueFull())) {
            source.resume();
          }
          maybeFinish();
        });
  }

  private void closeChunk() {
    ChunkWriter w = current;
    current = null;
    unacked.add(w);
    Future<ChunkWriter.Written> done = w.finish();
    done.onComplete(ar -> unacked.remove(w));
    done.onFailure(this::fail);
    chunks.add(done);
  }

  private void maybeFinish() {
    if (!ended || opening || held != null || result.future().isComplete()) {
      return;
    }
    if (current != null) {
      closeChunk();
    }
    Future.all(new ArrayList<>(chunks)).compose(v -> commit()).onComplete(ar -> {
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        fail(ar.cause());
      }
    });
  }

  private Future<FileInfo> commit() {
    JsonArray refs = new JsonArray();
    JsonArray replicas = new JsonArray();
    int crc = 0;
    for (Future<ChunkWriter.Written> f : chunks) {
      ChunkWriter.Written w = f.result();
      refs.add(w.chunk().toJson());
      replicas.add(new JsonArray(new ArrayList<>(w.replicas())));
      crc = Crc32c.combine(crc, w.chunk().crc32c(), w.chunk().length());
    }
    JsonObject req = conditions.applyTo(new JsonObject()).put("path", path).put("id", uploadId)
        .put("size", size)
        .put("crc32c", Crc32c.hex(crc)).put("chunks", refs).put("replicas", replicas);
    return master.request(Addresses.COMMIT, req).map(FileInfo::fromJson);
  }

  private void fail(Throwable t) {
    if (!result.tryFail(VgfsException.of(t))) {
      return;
    }
    VgfsException cause = VgfsException.of(t);
    if (current != null) {
      current.abort(cause);
      current = null;
    }
    unacked.forEach(w -> w.abort(cause));
    // Whatever the source still delivers is ignored; its owner decides whether to close it.
  }
}
