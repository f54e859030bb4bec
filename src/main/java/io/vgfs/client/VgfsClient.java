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
 * may be called from any thread, and its streams call their handlers on that context. Its futures
 * complete on that context too and run their callbacks there, even callbacks added from another
 * thread after completion, so a stream can be set up safely inside {@code compose}.
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

  /** As {@link #write(String, ReadStream)}, under conditions on the file being replaced. */
  Future<FileInfo> write(String path, ReadStream<Buffer> data, WriteOptions options);

  /** Writes a file from a buffer in memory. */
  Future<FileInfo> write(String path, Buffer data);

  /** Writes a file from a buffer in memory, under conditions. */
  Future<FileInfo> write(String path, Buffer data, WriteOptions options);

  /**
   * Appends {@code data} to the end of the file as one record, creating the file if absent. Many
   * writers may append to one file at once: each record lands exactly once, whole and contiguous,
   * and the result says where. A record is at most a quarter of the chunk size
   * ({@code TOO_LARGE} otherwise).
   */
  Future<AppendResult> append(String path, Buffer data);

  /** As {@link #append(String, Buffer)}, with a request id for retries and conditions. */
  Future<AppendResult> append(String path, Buffer data, AppendOptions options);

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

  /** Deletes a file only if it still has ETag {@code ifMatch}. */
  Future<Void> delete(String path, String ifMatch);

  /**
   * Moves a file, or every file under the directory {@code from}, to {@code to}, atomically:
   * readers see each file under the old or the new name, never neither. Fails with
   * {@code CONFLICT} when a destination exists, unless {@code overwrite}. Completes with the number
   * of files moved.
   */
  Future<Integer> rename(String from, String to, boolean overwrite);

  /**
   * Takes a snapshot named {@code name} of a file or of every file under a directory prefix:
   * instant, no data copied (chunks are shared and copied on the first write to them).
   * Completes with {@code {name, source, createdAt, files, bytes}}.
   */
  Future<JsonObject> snapshot(String source, String name);

  /** Every snapshot's summary. */
  Future<JsonArray> snapshots();

  /** Deletes a snapshot; chunks no one else holds are then collected. */
  Future<Void> deleteSnapshot(String name);

  /** Streams a file as it was in snapshot {@code snapshot} (by its original path). */
  Future<FileReadStream> readSnapshot(String snapshot, String path);

  /** Lists a snapshot's files under {@code prefix}. */
  Future<ListResult> listSnapshot(String snapshot, String prefix, String after, int limit);

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
