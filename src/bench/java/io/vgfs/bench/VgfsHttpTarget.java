package io.vgfs.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.zip.CRC32C;

/**
 * vgfs through a gateway's HTTP API with the JDK's {@link HttpClient} over HTTP/1.1
 * ({@code -Dbench.httpClient=jdk}; the default is {@link VertxHttpTarget}).
 */
final class VgfsHttpTarget implements FsTarget {

  private static final String FILES = "/api/v1/files";

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final int listLimit;

  VgfsHttpTarget(int port, int listLimit) {
    this.base = "http://127.0.0.1:" + port;
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

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + FILES + "/" + path))
        .timeout(Duration.ofMinutes(10));
  }

  private static <T> T expect(HttpResponse<T> r, int... ok) {
    for (int code : ok) {
      if (r.statusCode() == code) {
        return r.body();
      }
    }
    throw new IllegalStateException(r.request().method() + " " + r.uri() + ": HTTP "
        + r.statusCode() + " " + r.body());
  }

  @Override
  public CompletableFuture<Void> write(String path, byte[] data, int off, int len) {
    // Streamed from the array: BodyPublishers.ofByteArray copies the whole range up front, and
    // four concurrent 1 GiB uploads exhausted the bench JVM's heap.
    HttpRequest req = request(path).PUT(len == 0 ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(data, off, len)), len))
        .build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> {
          expect(r, 201, 200);
          return null;
        });
  }

  @Override
  public CompletableFuture<ReadResult> read(String path, boolean verify) {
    HttpRequest req = request(path).GET().build();
    return http.sendAsync(req, info -> info.statusCode() == 200 ? new Counting(verify)
        : HttpResponse.BodySubscribers.mapping(
            HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8), body -> {
              throw new IllegalStateException("GET " + path + ": HTTP " + info.statusCode()
                  + " " + body);
            })).thenApply(HttpResponse::body);
  }

  @Override
  public CompletableFuture<Void> stat(String path) {
    HttpRequest req = request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).thenApply(r -> {
      expect(r, 200);
      return null;
    });
  }

  @Override
  public CompletableFuture<Integer> list(String dir, String after) {
    return listPage(dir, after, listLimit).thenApply(JsonArray::size);
  }

  private CompletableFuture<JsonArray> listPage(String dir, String after, int limit) {
    String q = "?prefix=" + enc(dir + "/") + "&limit=" + limit
        + (after == null ? "" : "&after=" + enc(dir + "/" + after));
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + FILES + q))
        .timeout(Duration.ofMinutes(1)).GET().build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> new JsonObject(expect(r, 200)).getJsonArray("files"));
  }

  @Override
  public CompletableFuture<Void> delete(String path) {
    HttpRequest req = request(path).DELETE().build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      expect(r, 204, 200, 404);
      return null;
    });
  }

  /** Deletes, then waits until the trash is purged and the chunkservers deleted the replicas. */
  @Override
  public void removeAll(String dir) {
    FsTarget.deleteListed(() -> listPage(dir, null, 1_000).join(), this::delete);
    HttpRequest trash = HttpRequest.newBuilder(URI.create(base + "/api/v1/trash?prefix="
        + enc(dir + "/"))).timeout(Duration.ofMinutes(1)).GET().build();
    HttpRequest cluster = HttpRequest.newBuilder(URI.create(base + "/api/v1/cluster"))
        .timeout(Duration.ofMinutes(1)).GET().build();
    TrashWait.until(dir, () -> new JsonObject(expect(http.sendAsync(trash,
        HttpResponse.BodyHandlers.ofString()).join(), 200)).getJsonArray("files").isEmpty(),
        () -> new JsonObject(expect(http.sendAsync(cluster,
            HttpResponse.BodyHandlers.ofString()).join(), 200))
            .getInteger("pendingDeletions", 0) == 0);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Counts (and optionally checksums) the body without keeping it. */
  private static final class Counting implements HttpResponse.BodySubscriber<ReadResult> {
    private final CompletableFuture<ReadResult> result = new CompletableFuture<>();
    private final CRC32C crc;
    private long total;

    Counting(boolean verify) {
      this.crc = verify ? new CRC32C() : null;
    }

    @Override
    public CompletionStage<ReadResult> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      for (ByteBuffer b : items) {
        total += b.remaining();
        if (crc != null) {
          crc.update(b);
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(new ReadResult(total, crc == null ? 0 : crc.getValue()));
    }
  }
}
