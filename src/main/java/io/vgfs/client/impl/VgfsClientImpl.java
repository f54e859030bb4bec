package io.vgfs.client.impl;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vgfs.client.FileReadStream;
import io.vgfs.client.ListResult;
import io.vgfs.client.VgfsClient;
import io.vgfs.client.VgfsClientOptions;
import io.vgfs.client.WriteOptions;
import io.vgfs.client.AppendOptions;
import io.vgfs.client.AppendResult;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.ListPage;
import io.vgfs.protocol.PathRules;
import io.vgfs.protocol.VgfsException;
import io.vgfs.protocol.data.DataChannelPool;

import java.util.function.Supplier;

/**
 * {@link VgfsClient} implementation. All state lives on the context that created the client;
 * calls from elsewhere hop onto it first.
 */
public final class VgfsClientImpl implements VgfsClient {

  private final Vertx vertx;
  private final Context context;
  private final VgfsClientOptions options;
  private final MasterClient master;
  private final DataChannelPool pool;
  private Future<JsonObject> info;

  public VgfsClientImpl(Vertx vertx, VgfsClientOptions options) {
    this(vertx, options, false);
  }

  /**
   * @param directReads connections that can hand chunk bytes over without a copy, for
   *                    {@link #readDirect}; other calls work as usual
   */
  public VgfsClientImpl(Vertx vertx, VgfsClientOptions options, boolean directReads) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.options = new VgfsClientOptions(options);
    this.master = new MasterClient(vertx, options.getRequestTimeoutMs(),
        options.getFailoverTimeoutMs());
    this.pool = new DataChannelPool(vertx, options.getMaxIdleConnections(), 30_000, directReads);
  }

  @Override
  public Future<FileInfo> write(String path, ReadStream<Buffer> data) {
    return write(path, data, new WriteOptions());
  }

  @Override
  public Future<FileInfo> write(String path, Buffer data, WriteOptions options) {
    return onContext(() -> write(path, new BufferReadStream(context, data), options));
  }

  @Override
  public Future<FileInfo> write(String path, ReadStream<Buffer> data, WriteOptions options) {
    String p;
    try {
      p = PathRules.file(path);
    } catch (VgfsException e) {
      data.pause();
      return Future.failedFuture(e);
    }
    // Pause now, on the caller's turn, so no byte is lost while we hop contexts.
    data.pause();
    return onContext(() -> new FileUpload(vertx, master, pool, this.options.getDurability(),
        this.options.getWriteStallTimeoutMs(), p, data, options).start(chunkSize()));
  }

  @Override
  public Future<FileInfo> write(String path, Buffer data) {
    return write(path, data, new WriteOptions());
  }

  @Override
  public Future<AppendResult> append(String path, Buffer data) {
    return append(path, data, new AppendOptions());
  }

  @Override
  public Future<AppendResult> append(String path, Buffer data, AppendOptions options) {
    return onContext(() -> new Appender(vertx, master, pool, this.options.getFailoverTimeoutMs() * 2,
        this.options.getWriteStallTimeoutMs())
        .append(PathRules.file(path), data, options));
  }

  @Override
  public Future<FileReadStream> read(String path) {
    return read(path, 0, Long.MAX_VALUE);
  }

  @Override
  public Future<FileReadStream> read(String path, long offset, long length) {
    return read(null, path, offset, length);
  }

  @Override
  public Future<FileReadStream> readSnapshot(String snapshot, String path) {
    return read(snapshot, path, 0, Long.MAX_VALUE);
  }

  /**
   * Like {@link #read(String)} (of a snapshot's file when {@code snapshot} is not null), for a
   * consumer that passes the bytes on as they are: the stream emits {@link
   * io.vgfs.protocol.data.OwnedBuffer}s over the network memory (with a client made with
   * {@code directReads}), and the consumer releases every one once it has written it, and
   * {@link FileReadStreamImpl#cancel() cancels} the stream if it stops early.
   */
  public Future<FileReadStreamImpl> readDirect(String snapshot, String path) {
    return read(snapshot, path, 0, Long.MAX_VALUE, true);
  }

  private Future<FileReadStream> read(String snapshot, String path, long offset, long length) {
    return read(snapshot, path, offset, length, false).map(s -> s);
  }

  private Future<FileReadStreamImpl> read(String snapshot, String path, long offset, long length,
                                          boolean direct) {
    return onContext(() -> {
      String p = PathRules.file(path);
      if (length < 0) {
        throw new VgfsException(ErrorCode.INVALID_RANGE, "length must not be negative");
      }
      JsonObject lookup = new JsonObject().put("path", p);
      if (snapshot != null) {
        lookup.put("snapshot", snapshot);
      }
      return master.request(Addresses.LOOKUP, lookup).map(json -> {
        FileInfo f = FileInfo.fromJson(json);
        long start = offset < 0 ? Math.max(0, f.size() + offset) : offset;
        if (start > f.size() || (start == f.size() && f.size() > 0 && length > 0)) {
          throw new VgfsException(ErrorCode.INVALID_RANGE, "offset " + offset
              + " is beyond the end of " + p + " (" + f.size() + " bytes)");
        }
        long len = Math.min(length, f.size() - start);
        return new FileReadStreamImpl(context, f, start, len,
            (chunk, from, to, sink, relocate) -> new ChunkFetch(vertx, pool, master,
                options.getReadStallTimeoutMs(), chunk, from, to, sink, relocate, direct),
            chunkId -> relocate(lookup, chunkId));
      });
    });
  }

  // Fresh locations of a chunk, when every replica we knew of failed us.
  private Future<ChunkRef> relocate(JsonObject lookup, long chunkId) {
    String path = lookup.getString("path");
    return master.request(Addresses.LOOKUP, lookup).map(json -> {
      for (ChunkRef c : FileInfo.fromJson(json).chunks()) {
        if (c.id() == chunkId) {
          return c;
        }
      }
      throw new VgfsException(ErrorCode.CONFLICT, path + " was replaced while it was being read");
    });
  }

  @Override
  public Future<Buffer> readAll(String path) {
    return read(path).compose(stream -> {
      Buffer all = Buffer.buffer((int) Math.min(stream.length(), Integer.MAX_VALUE - 8));
      Promise<Buffer> p = Promise.promise();
      stream.exceptionHandler(p::tryFail).endHandler(v -> p.tryComplete(all))
          .handler(all::appendBuffer);
      return p.future();
    });
  }

  @Override
  public Future<FileInfo> stat(String path) {
    return onContext(() -> master.request(Addresses.STAT,
        new JsonObject().put("path", PathRules.file(path))).map(FileInfo::fromJson));
  }

  @Override
  public Future<ListResult> list(String prefix) {
    return list(prefix, null, 1000);
  }

  @Override
  public Future<ListResult> list(String prefix, String after, int limit) {
    return listSnapshot(null, prefix, after, limit);
  }

  @Override
  public Future<ListResult> listSnapshot(String snapshot, String prefix, String after, int limit) {
    return onContext(() -> {
      JsonObject req = new JsonObject().put("prefix", PathRules.prefix(prefix)).put("limit", limit);
      if (snapshot != null) {
        req.put("snapshot", snapshot);
      }
      if (after != null) {
        req.put("after", after);
      }
      return master.request(Addresses.LIST, req).map(json -> new ListResult(
          ListPage.decode(json.getBuffer("page")), json.getBoolean("truncated", false),
          json.getString("next")));
    });
  }

  @Override
  public Future<Void> delete(String path) {
    return delete(path, null);
  }

  @Override
  public Future<Void> delete(String path, String ifMatch) {
    return onContext(() -> {
      int[] attempts = new int[1];
      JsonObject req = new JsonObject().put("path", PathRules.file(path));
      if (ifMatch != null) {
        req.put("ifMatch", ifMatch);
      }
      return master.request(Addresses.DELETE, req, attempts)
          .<Void>mapEmpty()
          .recover(t -> {
            // A retried delete that finds nothing: an earlier attempt got through.
            if (attempts[0] > 1 && t instanceof VgfsException e && e.code() == ErrorCode.NOT_FOUND) {
              return Future.succeededFuture();
            }
            return Future.failedFuture(t);
          });
    });
  }

  @Override
  public Future<Integer> rename(String from, String to, boolean overwrite) {
    return onContext(() -> master.request(Addresses.RENAME, new JsonObject().put("from", from)
        .put("to", to).put("overwrite", overwrite)).map(j -> j.getInteger("moved")));
  }

  @Override
  public Future<JsonObject> snapshot(String source, String name) {
    return onContext(() -> master.request(Addresses.SNAPSHOT_CREATE,
        new JsonObject().put("source", source).put("name", name)));
  }

  @Override
  public Future<JsonArray> snapshots() {
    return onContext(() -> master.request(Addresses.SNAPSHOT_LIST, new JsonObject())
        .map(j -> j.getJsonArray("snapshots")));
  }

  @Override
  public Future<Void> deleteSnapshot(String name) {
    return onContext(() -> master.request(Addresses.SNAPSHOT_DELETE,
        new JsonObject().put("name", name)).mapEmpty());
  }

  @Override
  public Future<JsonArray> trash(String prefix) {
    return onContext(() -> master.request(Addresses.TRASH_LIST,
        new JsonObject().put("prefix", PathRules.prefix(prefix))).map(j -> j.getJsonArray("files")));
  }

  @Override
  public Future<FileInfo> restore(String path) {
    return onContext(() -> master.request(Addresses.TRASH_RESTORE,
        new JsonObject().put("path", PathRules.file(path))).map(FileInfo::fromJson));
  }

  @Override
  public Future<JsonObject> drain(String server, boolean on) {
    return onContext(() -> master.request(Addresses.DRAIN,
        new JsonObject().put("server", server).put("drain", on)));
  }

  @Override
  public Future<JsonObject> clusterStatus() {
    return onContext(() -> master.request(Addresses.STATUS, new JsonObject()));
  }

  @Override
  public Future<JsonObject> clusterInfo() {
    return onContext(() -> {
      if (info == null || info.failed()) {
        info = master.request(Addresses.INFO, new JsonObject());
      }
      return info;
    });
  }

  private Future<Long> chunkSize() {
    return clusterInfo().map(json -> json.getLong("chunkSize"));
  }

  @Override
  public Future<Void> close() {
    return onContext(() -> {
      master.close();
      return pool.close();
    });
  }

  // Every future handed out completes on the client's context, and its callbacks run there even
  // when they are added from another thread after it completed: a caller that composes on a read
  // from a plain thread then sets its stream's handlers on the thread the stream lives on, so the
  // stream cannot end between its handler and its end handler being set.
  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    Promise<T> p = ((ContextInternal) context).promise();
    if (Vertx.currentContext() == context) {
      safely(action).onComplete(p);
    } else {
      context.runOnContext(v -> safely(action).onComplete(p));
    }
    return p.future();
  }

  private static <T> Future<T> safely(Supplier<Future<T>> action) {
    try {
      return action.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(VgfsException.of(e));
    }
  }
}
