package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.FileReadStream;
import io.vgfs.client.ListResult;
import io.vgfs.client.VgfsClient;
import io.vgfs.launcher.Setting;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.VgfsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.failure;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/** The data path end to end on a real in-JVM cluster: 1 master, 3 chunkservers, a gateway. */
class CoreIT {

  static final int CHUNK = 1024 * 1024;

  @TempDir
  static Path dir;
  static TestCluster cluster;
  static VgfsClient fs;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, 3, Map.of(Setting.SMALL_FILE_LIMIT, "256KiB"));
    fs = cluster.client();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @DisplayName("files of 0, 1, chunk-1, chunk, chunk+1 and several chunks round-trip byte for byte")
  void roundTrips() throws Exception {
    int[] sizes = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345};
    for (int i = 0; i < sizes.length; i++) {
      byte[] data = randomBytes(sizes[i], i);
      String path = "roundtrip/client-" + sizes[i] + ".bin";
      FileInfo written = await(fs.write(path, Buffer.buffer(data)));
      assertThat(written.size()).isEqualTo(sizes[i]);
      assertThat(written.chunks()).hasSize((sizes[i] + CHUNK - 1) / CHUNK);
      assertThat(sha256(await(fs.readAll(path)).getBytes())).isEqualTo(sha256(data));

      HttpResponse<byte[]> get = http("GET", cluster.url("/api/v1/files/" + path), null);
      assertThat(get.statusCode()).isEqualTo(200);
      assertThat(sha256(get.body())).isEqualTo(sha256(data));
      assertThat(get.headers().firstValue("ETag")).contains(written.etag());
      assertThat(get.headers().firstValueAsLong("Content-Length")).hasValue(sizes[i]);

      String httpPath = "roundtrip/http-" + sizes[i] + ".bin";
      HttpResponse<byte[]> put = http("PUT", cluster.url("/api/v1/files/" + httpPath), data);
      assertThat(put.statusCode()).isEqualTo(201);
      JsonObject body = new JsonObject(Buffer.buffer(put.body()));
      assertThat(body.getLong("size")).isEqualTo(sizes[i]);
      assertThat(body.getInteger("chunks")).isEqualTo((sizes[i] + CHUNK - 1) / CHUNK);
      assertThat(body.getString("etag")).isEqualTo(written.etag()); // same bytes, same tag
      assertThat(sha256(await(fs.readAll(httpPath)).getBytes())).isEqualTo(sha256(data));
    }
  }

  @Test
  @DisplayName("range reads give 206 with the right bytes, across chunk boundaries; bad ranges 416")
  void rangeReads() {
    byte[] data = randomBytes(3 * CHUNK + 100, 99);
    await(fs.write("ranges/f.bin", Buffer.buffer(data)));
    String url = cluster.url("/api/v1/files/ranges/f.bin");
    check(url, "bytes=0-99", data, 0, 100);
    check(url, "bytes=" + (CHUNK - 10) + "-" + (2 * CHUNK + 10), data, CHUNK - 10, CHUNK + 21);
    check(url, "bytes=" + (3 * CHUNK) + "-", data, 3 * CHUNK, 100);
    check(url, "bytes=-150", data, data.length - 150, 150);
    check(url, "bytes=5-" + (10L * data.length), data, 5, data.length - 5);

    HttpResponse<byte[]> beyond = http("GET", url, null, "Range", "bytes=" + data.length + "-");
    assertThat(beyond.statusCode()).isEqualTo(416);
    assertThat(beyond.headers().firstValue("Content-Range")).contains("bytes */" + data.length);
    assertThat(new JsonObject(Buffer.buffer(beyond.body())).getString("error"))
        .isEqualTo("INVALID_RANGE");

    // Unparseable or multi-range headers are ignored: the whole file.
    HttpResponse<byte[]> multi = http("GET", url, null, "Range", "bytes=0-1,5-6");
    assertThat(multi.statusCode()).isEqualTo(200);
    assertThat(multi.body()).hasSize(data.length);

    // The client API takes ranges too, negative offsets counting from the end.
    FileReadStream s = await(fs.read("ranges/f.bin", CHUNK - 3, 7));
    assertThat(s.length()).isEqualTo(7);
    assertThat(readAll(s)).isEqualTo(slice(data, CHUNK - 3, 7));
    assertThat(readAll(await(fs.read("ranges/f.bin", -5, Long.MAX_VALUE))))
        .isEqualTo(slice(data, data.length - 5, 5));
    Throwable t = failure(fs.read("ranges/f.bin", data.length + 1, 1));
    assertThat(((VgfsException) t).code()).isEqualTo(ErrorCode.INVALID_RANGE);

    HttpResponse<byte[]> head = http("HEAD", url, null);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(data.length);
    assertThat(http("GET", url, null, "If-None-Match",
        head.headers().firstValue("ETag").get()).statusCode()).isEqualTo(304);
  }

  private static void check(String url, String range, byte[] data, int from, int len) {
    HttpResponse<byte[]> r = http("GET", url, null, "Range", range);
    assertThat(r.statusCode()).as(range).isEqualTo(206);
    assertThat(r.body()).as(range).isEqualTo(slice(data, from, len));
    assertThat(r.headers().firstValue("Content-Range"))
        .contains("bytes " + from + "-" + (from + len - 1) + "/" + data.length);
  }

  @Test
  @DisplayName("list shows committed files by prefix with paging; delete removes them")
  void listAndDelete() {
    for (int i = 0; i < 5; i++) {
      await(fs.write("listing/a/" + i + ".txt", Buffer.buffer("file " + i)));
    }
    await(fs.write("listing/b/other.txt", Buffer.buffer("other")));
    ListResult all = await(fs.list("listing/a/"));
    assertThat(all.files()).extracting(FileInfo::path)
        .containsExactly("listing/a/0.txt", "listing/a/1.txt", "listing/a/2.txt", "listing/a/3.txt",
            "listing/a/4.txt");
    ListResult page = await(fs.list("listing/a/", null, 2));
    assertThat(page.truncated()).isTrue();
    ListResult page2 = await(fs.list("listing/a/", page.next(), 2));
    assertThat(page2.files()).extracting(FileInfo::path)
        .containsExactly("listing/a/2.txt", "listing/a/3.txt");

    JsonObject listed = new JsonObject(Buffer.buffer(
        http("GET", cluster.url("/api/v1/files?prefix=listing/"), null).body()));
    assertThat(listed.getJsonArray("files")).hasSize(6);
    assertThat(listed.getJsonArray("files").getJsonObject(0).getLong("size")).isEqualTo(6);

    assertThat(http("DELETE", cluster.url("/api/v1/files/listing/a/3.txt"), null).statusCode())
        .isEqualTo(204);
    assertThat(http("GET", cluster.url("/api/v1/files/listing/a/3.txt"), null).statusCode())
        .isEqualTo(404);
    assertThat(http("DELETE", cluster.url("/api/v1/files/listing/a/3.txt"), null).statusCode())
        .isEqualTo(404);
    assertThat(await(fs.list("listing/a/")).files()).extracting(FileInfo::path)
        .doesNotContain("listing/a/3.txt").hasSize(4);
  }

  @Test
  @DisplayName("replacing a file is atomic: concurrent readers see the old or the new bytes, never a mix")
  void replaceIsAtomic() throws Exception {
    byte[] v1 = randomBytes(2 * CHUNK + 17, 1);
    byte[] v2 = randomBytes(CHUNK + 5, 2);
    Set<String> valid = Set.of(sha256(v1), sha256(v2));
    await(fs.write("replace/f", Buffer.buffer(v1)));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger reads = new AtomicInteger();
    List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      while (!stop.get()) {
        HttpResponse<byte[]> r = http("GET", cluster.url("/api/v1/files/replace/f"), null);
        if (r.statusCode() == 200) {
          seen.add(sha256(r.body()));
          reads.incrementAndGet();
        } else {
          seen.add("status " + r.statusCode());
        }
      }
    });
    reader.start();
    for (int i = 0; i < 6; i++) {
      await(fs.write("replace/f", Buffer.buffer(i % 2 == 0 ? v2 : v1)));
    }
    TestSupport.poll(10_000, () -> reads.get() >= 5, "some reads");
    stop.set(true);
    reader.join();
    assertThat(new HashSet<>(seen)).isSubsetOf(valid);
    assertThat(sha256(await(fs.readAll("replace/f")).getBytes())).isEqualTo(sha256(v1));
  }

  @Test
  @DisplayName("bad input gets a 4xx with a JSON error and changes nothing")
  void badInput() throws Exception {
    for (String bad : new String[] {"a//b", "a/%00b", "a/.", "%ff%fe", "x/", "a/%2e%2e/b"}) {
      HttpResponse<byte[]> r = http("PUT", cluster.url("/api/v1/files/" + bad), new byte[] {1});
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      JsonObject err = new JsonObject(Buffer.buffer(r.body()));
      assertThat(err.getString("error")).as(bad).isEqualTo("INVALID_PATH");
      assertThat(err.getString("message")).isNotBlank();
    }
    // Over HTTP/2 (h2c) a refused upload resets its stream, not the connection.
    for (int i = 0; i < 3; i++) {
      java.net.http.HttpResponse<String> r2 = TestSupport.HTTP2.send(java.net.http.HttpRequest
          .newBuilder(java.net.URI.create(cluster.url("/api/v1/files/a//b")))
          .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[1000])).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r2.statusCode()).isEqualTo(400);
    }
    // A raw ".." must be refused, not resolved (java.net.http sends the path as given).
    HttpResponse<byte[]> dots = http("GET", cluster.url("/api/v1/files/a/../etc/passwd"), null);
    assertThat(dots.statusCode()).isEqualTo(400);
    assertThat(http("PUT", cluster.url("/api/v1/files/" + "x".repeat(300)), new byte[1])
        .statusCode()).isEqualTo(400);
    assertThat(http("GET", cluster.url("/api/v1/files/no/such/file"), null).statusCode())
        .isEqualTo(404);
    HttpResponse<byte[]> unknown = http("GET", cluster.url("/api/v2/nothing"), null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(Buffer.buffer(unknown.body())).getString("error"))
        .isEqualTo("NOT_FOUND");
    assertThat(http("GET", cluster.url("/api/v1/files?limit=0"), null).statusCode())
        .isEqualTo(400);
    assertThat(http("GET", cluster.url("/api/v1/files?limit=abc"), null).statusCode())
        .isEqualTo(400);
    assertThat(await(fs.list("")).files()).extracting(FileInfo::path)
        .noneMatch(p -> p.startsWith("a/") || p.startsWith("x"));

    // Malformed event-bus requests fail at once with a code, never by timeout.
    long t0 = System.nanoTime();
    Throwable t = failure(cluster.gatewayNode().vertx().eventBus()
        .request(Addresses.COMMIT, new JsonObject().put("path", "p").put("id", "x")));
    assertThat(((ReplyException) t).failureCode()).isEqualTo(ErrorCode.BAD_REQUEST.code());
    t = failure(cluster.gatewayNode().vertx().eventBus().request(Addresses.STAT, "not json"));
    assertThat(t).isInstanceOf(ReplyException.class);
    assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);
  }

  @Test
  @DisplayName("the event-bus API reads and writes small files, refuses large ones, stats, lists and deletes")
  void eventBusApi() {
    var bus = cluster.gatewayNode().vertx().eventBus();
    byte[] data = randomBytes(100_000, 5);
    JsonObject written = await(bus.<JsonObject>request(Addresses.API_WRITE, Buffer.buffer(data),
        new DeliveryOptions().addHeader("path", "bus/small.bin"))).body();
    assertThat(written.getLong("size")).isEqualTo(100_000);
    Message<Buffer> read = await(bus.request(Addresses.API_READ,
        new JsonObject().put("path", "bus/small.bin")));
    assertThat(sha256(read.body().getBytes())).isEqualTo(sha256(data));
    assertThat(read.headers().get("etag")).isEqualTo(written.getString("etag"));
    JsonObject stat = await(bus.<JsonObject>request(Addresses.API_STAT,
        new JsonObject().put("path", "bus/small.bin"))).body();
    assertThat(stat.getLong("size")).isEqualTo(100_000);
    assertThat(await(bus.<JsonObject>request(Addresses.API_LIST,
        new JsonObject().put("prefix", "bus/"))).body().getJsonArray("files")).hasSize(1);

    Throwable big = failure(bus.request(Addresses.API_WRITE, Buffer.buffer(new byte[300_000]),
        new DeliveryOptions().addHeader("path", "bus/big.bin")));
    assertThat(((ReplyException) big).failureCode()).isEqualTo(ErrorCode.TOO_LARGE.code());
    assertThat(big.getMessage()).contains("VgfsClient");
    await(fs.write("bus/big.bin", Buffer.buffer(new byte[300_000])));
    Throwable bigRead = failure(bus.request(Addresses.API_READ,
        new JsonObject().put("path", "bus/big.bin")));
    assertThat(((ReplyException) bigRead).failureCode()).isEqualTo(ErrorCode.TOO_LARGE.code());

    await(bus.request(Addresses.API_DELETE, new JsonObject().put("path", "bus/small.bin")));
    Throwable gone = failure(bus.request(Addresses.API_STAT,
        new JsonObject().put("path", "bus/small.bin")));
    assertThat(((ReplyException) gone).failureCode()).isEqualTo(ErrorCode.NOT_FOUND.code());
  }

  @Test
  @DisplayName("health and cluster status report the master and the chunkservers")
  void healthAndStatus() {
    HttpResponse<byte[]> health = http("GET", cluster.url("/health"), null);
    assertThat(health.statusCode()).isEqualTo(200);
    JsonObject st = new JsonObject(Buffer.buffer(
        http("GET", cluster.url("/api/v1/cluster"), null).body()));
    assertThat(st.getJsonArray("masters").getJsonObject(0).getString("role")).isEqualTo("active");
    assertThat(st.getJsonArray("chunkservers")).hasSize(3);
    assertThat(st.getJsonArray("chunkservers").getJsonObject(0).getBoolean("alive")).isTrue();
    assertThat(st.getInteger("underReplicatedChunks")).isZero();
    assertThat(st.getLong("chunkSize")).isEqualTo(CHUNK);
  }

  @Test
  @DisplayName("a reader on a plain thread gets callbacks on the client's context, and a stream's "
      + "end reaches an end handler set after the stream ended")
  void readsFromPlainThreads() {
    byte[] data = randomBytes(70_000, 5);
    await(fs.write("threads/f.bin", Buffer.buffer(data)));
    await(fs.write("threads/empty.bin", Buffer.buffer()));

    // The lookup has completed before compose is called: the callback must still run on the
    // client's event loop, where the stream lives, not on this thread.
    io.vertx.core.Future<FileReadStream> lookup = fs.read("threads/f.bin");
    await(lookup);
    AtomicBoolean onEventLoop = new AtomicBoolean();
    io.vertx.core.Future<byte[]> content = lookup.compose(s -> {
      onEventLoop.set(io.vertx.core.Context.isOnEventLoopThread());
      // Handler first, end handler after: harmless on the stream's own thread.
      Buffer all = Buffer.buffer();
      io.vertx.core.Promise<byte[]> p = io.vertx.core.Promise.promise();
      s.exceptionHandler(p::tryFail).handler(all::appendBuffer)
          .endHandler(v -> p.tryComplete(all.getBytes()));
      return p.future();
    });
    assertThat(sha256(await(content, 30))).isEqualTo(sha256(data));
    assertThat(onEventLoop).isTrue();

    // An empty file ends on the first turn after its handler is set. Any later client call is
    // queued behind that turn on the same context, so once it answers the stream has ended.
    FileReadStream empty = await(fs.read("threads/empty.bin"));
    io.vertx.core.Promise<Void> ended = io.vertx.core.Promise.promise();
    empty.exceptionHandler(ended::tryFail).handler(b -> { });
    await(fs.stat("threads/empty.bin"));
    empty.endHandler(ended::tryComplete);
    await(ended.future(), 10);
  }

  @Test
  @DisplayName("buffered writes round-trip, and each chunkserver's checkpoint syncs them within seconds")
  void bufferedWrites() {
    VgfsClient buffered = VgfsClient.create(cluster.gatewayNode().vertx(),
        new io.vgfs.client.VgfsClientOptions().setDurability(io.vgfs.protocol.Durability.BUFFERED));
    try {
      byte[] small = randomBytes(100_000, 11);
      byte[] large = randomBytes(2 * CHUNK + 5, 12);
      await(buffered.write("buffered/small.bin", Buffer.buffer(small)));
      await(buffered.write("buffered/large.bin", Buffer.buffer(large)));
      assertThat(sha256(await(fs.readAll("buffered/small.bin")).getBytes())).isEqualTo(sha256(small));
      assertThat(sha256(await(fs.readAll("buffered/large.bin")).getBytes())).isEqualTo(sha256(large));
      TestSupport.poll(10_000, () -> java.util.stream.IntStream.range(0, cluster.chunkServers())
          .allMatch(i -> cluster.chunkServer(i).store().unsyncedChunks() == 0),
          "every chunkserver's checkpoint to sync the buffered chunks");
    } finally {
      await(buffered.close());
    }
  }

  @Test
  @DisplayName("a stream of pieces of every size, 1 byte to 100 KiB, round-trips with the same ETag as one buffer")
  void uploadsOfOddPieces() {
    // Blocks are cut across the writer's pieces without copying them into one buffer: a block
    // made of many pieces must still carry the right bytes and checksum.
    byte[] data = randomBytes(3 * CHUNK + 777, 21);
    int[] sizes = {1, 7, 65_535, 100, 4096, 65_537, 100_000, 3, 1000, 2, 65_536, 12_345};
    FileInfo whole = await(fs.write("pieces/whole.bin", Buffer.buffer(data)));
    io.vertx.core.Context ctx = cluster.gatewayNode().vertx().getOrCreateContext();
    io.vertx.core.Promise<FileInfo> written = io.vertx.core.Promise.promise();
    ctx.runOnContext(v -> fs.write("pieces/streamed.bin", new PieceStream(ctx, data, sizes))
        .onComplete(written));
    FileInfo streamed = await(written.future());
    assertThat(streamed.size()).isEqualTo(data.length);
    assertThat(streamed.etag()).isEqualTo(whole.etag());
    assertThat(sha256(await(fs.readAll("pieces/streamed.bin")).getBytes())).isEqualTo(sha256(data));
    HttpResponse<byte[]> get = http("GET", cluster.url("/api/v1/files/pieces/streamed.bin"), null);
    assertThat(sha256(get.body())).isEqualTo(sha256(data));
  }

  @Test
  @DisplayName("a stream that fails midway stores nothing: its fault is BAD_REQUEST, running out of memory UNAVAILABLE")
  void failedStreams() {
    byte[] data = randomBytes(2 * CHUNK + 100, 22);
    int[] sizes = {65_536, 1000};
    io.vertx.core.Context ctx = cluster.gatewayNode().vertx().getOrCreateContext();
    Object[][] cases = {
        {new IllegalStateException("producer broke"), ErrorCode.BAD_REQUEST},
        {new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory"),
            ErrorCode.UNAVAILABLE}};
    for (Object[] c : cases) {
      String path = "failed/" + ((ErrorCode) c[1]).name() + ".bin";
      io.vertx.core.Promise<FileInfo> written = io.vertx.core.Promise.promise();
      ctx.runOnContext(v -> fs.write(path,
          new PieceStream(ctx, data, sizes, CHUNK + 5000, (Throwable) c[0])).onComplete(written));
      VgfsException e = VgfsException.of(failure(written.future()));
      assertThat(e.code()).isEqualTo(c[1]);
      assertThat(e.getMessage()).contains(((Throwable) c[0]).getMessage());
      assertThat(VgfsException.of(failure(fs.stat(path))).code()).isEqualTo(ErrorCode.NOT_FOUND);
    }
    // The failed uploads left nothing that blocks a good one on the same path.
    await(fs.write("failed/BAD_REQUEST.bin", Buffer.buffer(data)));
    assertThat(sha256(await(fs.readAll("failed/BAD_REQUEST.bin")).getBytes())).isEqualTo(sha256(data));
  }

  /** Emits {@code data} in pieces of the given sizes (cycled), honouring pause and resume. */
  static final class PieceStream implements io.vertx.core.streams.ReadStream<Buffer> {
    private final io.vertx.core.Context ctx;
    private final byte[] data;
    private final int[] sizes;
    private int pos;
    private int next;
    private boolean paused;
    private boolean scheduled;
    private boolean ended;
    private io.vertx.core.Handler<Buffer> handler;
    private io.vertx.core.Handler<Void> endHandler;
    private io.vertx.core.Handler<Throwable> exceptionHandler;
    private final int failAt;
    private final Throwable failure;

    PieceStream(io.vertx.core.Context ctx, byte[] data, int[] sizes) {
      this(ctx, data, sizes, -1, null);
    }

    /** Fails with {@code failure} instead of going on once {@code failAt} bytes are out. */
    PieceStream(io.vertx.core.Context ctx, byte[] data, int[] sizes, int failAt, Throwable failure) {
      this.ctx = ctx;
      this.data = data;
      this.sizes = sizes;
      this.failAt = failAt;
      this.failure = failure;
    }

    @Override
    public PieceStream exceptionHandler(io.vertx.core.Handler<Throwable> h) {
      exceptionHandler = h;
      return this;
    }

    @Override
    public PieceStream handler(io.vertx.core.Handler<Buffer> h) {
      handler = h;
      schedule();
      return this;
    }

    @Override
    public PieceStream pause() {
      paused = true;
      return this;
    }

    @Override
    public PieceStream resume() {
      paused = false;
      schedule();
      return this;
    }

    @Override
    public PieceStream fetch(long amount) {
      return resume();
    }

    @Override
    public PieceStream endHandler(io.vertx.core.Handler<Void> h) {
      endHandler = h;
      return this;
    }

    private void schedule() {
      if (!scheduled) {
        scheduled = true;
        ctx.runOnContext(v -> {
          scheduled = false;
          emit();
        });
      }
    }

    private void emit() {
      while (!paused && handler != null && pos < data.length) {
        if (failAt >= 0 && pos >= failAt) {
          if (!ended) {
            ended = true;
            exceptionHandler.handle(failure);
          }
          return;
        }
        int n = Math.min(sizes[next++ % sizes.length], data.length - pos);
        handler.handle(Buffer.buffer(java.util.Arrays.copyOfRange(data, pos, pos + n)));
        pos += n;
      }
      if (pos == data.length && !ended && endHandler != null) {
        ended = true;
        endHandler.handle(null);
      }
    }
  }

  static byte[] readAll(FileReadStream s) {
    Buffer all = Buffer.buffer();
    io.vertx.core.Promise<Buffer> p = io.vertx.core.Promise.promise();
    s.exceptionHandler(p::tryFail).endHandler(v -> p.tryComplete(all)).handler(all::appendBuffer);
    return await(p.future()).getBytes();
  }

  static byte[] slice(byte[] data, int from, int len) {
    byte[] out = new byte[len];
    System.arraycopy(data, from, out, 0, len);
    return out;
  }
}
