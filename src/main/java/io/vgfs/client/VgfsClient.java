package io.vgfs.client;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vgfs.client.impl.VgfsClientImpl;
import io.vgfs.protocol.FileInfo;

/**
 * The vgfs client for Vert.x applications in the cluster. Metadata requests go to the active
 * master over the event bus (retried across a master failover); file bytes stream directly to
 * and from chunkservers over TCP, with backpressure, so memory does not depend on file size.
 *
 * <p>Failures are {@link io.vgfs.protocol.VgfsException}s with an
 * {@link io.vgfs.protocol.ErrorCode}. A client belongs to the Vert.x context that created it; it
 * may be called from any thread, and its streams call their handlers on that context.
 *
 * <pre>{@code
 * VgfsClient fs = VgfsClient.create(vertx);
 * fs.write("logs/app.log", request)                  // any ReadStream<Buffer>
 *   .compose(info -> fs.read("logs/app.log"))
 *   .compose(stream -> stream.pipeTo(response));
 * }</pre>
 */
public interface VgfsClient {

  static VgfsClient create(Vertx vertx) {
    return new VgfsClientImpl(vertx, new VgfsClientOptions());
  }

  static VgfsClient create(Vertx vertx, VgfsClientOptions options) {
    return new VgfsClientImpl(vertx, options);
  }

  /**
   * Streams {@code data} into the file at {@code path}, replacing any file there atomically once
   * all of it is stored: until then readers see the old content (or no file); if the upload fails
   * nothing becomes visible. Completes with the committed file.
   */
  Future<FileInfo> write(String path, ReadStream<Buffer> data);

  /** Writes a file from a buffer in memory. */
  Future<FileInfo> write(String path, Buffer data);

  /** Streams a whole file. */
  Future<FileReadStream> read(String path);

  /**
   * Streams {@code length} bytes from {@code offset} (clipped to the end of the file); a negative
   * {@code offset} counts from the end ({@code -100}: the last 100 bytes, or the whole file if it
   * is shorter). Fails with {@code INVALID_RANGE} when {@code offset} is at or beyond the end of a
   * non-empty file.
   */
  Future<FileReadStream> read(String path, long offset, long length);

  /** Reads a whole file into memory; for small files. */
  Future<Buffer> readAll(String path);

  Future<FileInfo> stat(String path);

  /** The first page of files whose path starts with {@code prefix}. */
  Future<ListResult> list(String prefix);

  /** Up to {@code limit} files after {@code after} whose path starts with {@code prefix}. */
  Future<ListResult> list(String prefix, String after, int limit);

  /**
   * Deletes a file. It goes to the trash, where it stays restorable for the configured retention
   * (24 h by default); see {@link #trash(String)} and {@link #restore(String)}.
   */
  Future<Void> delete(String path);

  /** Deleted files whose path starts with {@code prefix}: {@code [{path, id, size, deletedAt, purgeAt}]}. */
  Future<JsonArray> trash(String prefix);

  /** Brings back the most recently deleted version of {@code path}; fails if a file is there. */
  Future<FileInfo> restore(String path);

  /**
   * Starts ({@code drain}) or stops decommissioning chunkserver {@code serverId}: its replicas
   * are copied elsewhere, after which it can be stopped without any chunk losing a replica.
   * Completes with {@code {server, draining, remaining}}.
   */
  Future<JsonObject> drain(String serverId, boolean drain);

  /** The master's view of the cluster (see {@code GET /api/v1/cluster}). */
  Future<JsonObject> clusterStatus();

  /** Cluster-wide settings: {@code {masterId, epoch, chunkSize, replication, smallFileLimit}}. */
  Future<JsonObject> clusterInfo();

  /** Closes the client's connections. */
  Future<Void> close();
}
