package io.vgfs.bench;

import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * vgfs through a gateway's HTTP API with Vert.x's {@link HttpClient} over HTTP/1.1, on a Vert.x
 * instance of its own (not the bench JVM's cluster node). Uploads are written from the caller's
 * array in 64 KiB slices with backpressure; downloads are counted (and checksummed) as they
 * arrive, never kept.
 */
final class VertxHttpTarget implements FsTarget {

  private static final String FILES = "/api/v1/files";
  private static final int SLICE = 64 * 1024;

  private final HttpClient http;
  private final int port;
  private final int listLimit;

  VertxHttpTarget(Vertx vertx, int port, int listLimit, int connections) {
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
            .setConnectTimeout(10_000).setTcpNoDelay(true)
            // Body pieces of up to 64 KiB, as the gateway sends them: the default 8 KiB costs this
            // JVM a handler call and a heap copy per 8 KiB on the cores the servers share.
            .setMaxChunkSize(64 * 1024),
        new PoolOptions().setHttp1MaxSize(connections));
    this.port = port;
    this.listLimit = listLimit;
  }

  @Override
  public String name() {
    return "vgfs-http";
  }

  @Override
  public String system() {
    return "vgfs";
  }

  private Future<HttpClientRequest> request(HttpMethod method, String uri) {
    return http.request(new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port)
        .setURI(uri).setIdleTimeout(600_000));
  }

  /** The response if its status is one of {@code ok}; otherwise a failure carrying its body. */
  private static Future<HttpClientResponse> expect(HttpClientRequest req, HttpClientResponse r,
                                                  int... ok) {
    for (int code : ok) {
      if (r.statusCode() == code) {
        return Future.succeededFuture(r);
      }
    }
    return r.body().transform(ar -> Future.failedFuture(new IllegalStateException(
        req.getMethod() + " " + req.getURI() + ": HTTP " + r.statusCode() + " "
            + (ar.succeeded() ? ar.result().toString() : ""))));
  }

  private static <T> CompletableFuture<T> cf(Future<T> f) {
    return f.toCompletionStage().toCompletableFuture();
  }

  @Override
  public CompletableFuture<Void> write(String path, byte[] data, int off, int len) {
    return cf(request(HttpMethod.PUT, FILES + "/" + path).compose(req -> {
      req.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(len));
      Future<HttpClientResponse> response = req.response();
      pump(req, data, off, off + len);
      return response.compose(r -> expect(req, r, 201, 200)).compose(HttpClientResponse::body);
    }).mapEmpty());
  }

  // Writes slices until the connection's queue is full, then again when it drains.
  private static void pump(HttpClientRequest req, byte[] data, int pos, int end) {
    while (pos < end && !req.writeQueueFull()) {
      int n = Math.min(SLICE, end - pos);
      req.write(BufferInternal.buffer(Unpooled.wrappedBuffer(data, pos, n)));
      pos += n;
    }
    if (pos < end) {
      int next = pos;
      req.drainHandler(v -> pump(req, data, next, end));
    } else {
      req.end();
    }
  }

  @Override
  public CompletableFuture<ReadResult> read(String path, boolean verify) {
    return cf(request(HttpMethod.GET, FILES + "/" + path).compose(req -> req.send()
        .compose(r -> expect(req, r, 200))
        .compose(r -> {
          CRC32C crc = verify ? new CRC32C() : null;
          long[] total = {0};
          r.handler(b -> {
            total[0] += b.length();
            if (crc != null) {
              crc.update(((BufferInternal) b).getByteBuf().nioBuffer());
            }
          });
          return r.end().map(v -> new ReadResult(total[0], crc == null ? 0 : crc.getValue()));
        })));
  }

  @Override
  public CompletableFuture<Void> stat(String path) {
    return cf(request(HttpMethod.HEAD, FILES + "/" + path).compose(req -> req.send()
        .compose(r -> expect(req, r, 200)).compose(HttpClientResponse::end)));
  }

  @Override
  public CompletableFuture<Integer> list(String dir, String after) {
    return listPage(dir, after, listLimit).thenApply(JsonArray::size);
  }

  private CompletableFuture<JsonArray> listPage(String dir, String after, int limit) {
    String q = "?prefix=" + enc(dir + "/") + "&limit=" + limit
        + (after == null ? "" : "&after=" + enc(dir + "/" + after));
    return cf(getJson(FILES + q, j -> j.getJsonArray("files")));
  }

  private <T> Future<T> getJson(String uri, Function<JsonObject, T> pick) {
    return request(HttpMethod.GET, uri).compose(req -> req.send()
        .compose(r -> expect(req, r, 200)).compose(HttpClientResponse::body)
        .map(b -> pick.apply(b.toJsonObject())));
  }

  @Override
  public CompletableFuture<Void> delete(String path) {
    return cf(request(HttpMethod.DELETE, FILES + "/" + path).compose(req -> req.send()
        .compose(r -> expect(req, r, 204, 200, 404)).compose(HttpClientResponse::body)
        .mapEmpty()));
  }

  /** Deletes, then waits until the trash is purged and the chunkservers deleted the replicas. */
  @Override
  public void removeAll(String dir) {
    FsTarget.deleteListed(() -> listPage(dir, null, 1_000).join(), this::delete);
    TrashWait.until(dir, () -> cf(getJson("/api/v1/trash?prefix=" + enc(dir + "/"),
        j -> j.getJsonArray("files").isEmpty())).join(),
        () -> cf(getJson("/api/v1/cluster", j -> j.getInteger("pendingDeletions", 0) == 0)).join());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
