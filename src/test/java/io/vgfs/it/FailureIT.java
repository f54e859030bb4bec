package io.vgfs.it;

import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.FileReadStream;
import io.vgfs.client.VgfsClient;
import io.vgfs.launcher.Setting;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.ServerAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/** What the data path does when replicas are corrupt, servers stop and clients vanish. */
class FailureIT {

  static final int CHUNK = 1024 * 1024;

  @TempDir
  static Path dir;
  static TestCluster cluster;
  static VgfsClient fs;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, 3, Map.of(Setting.UNCOMMITTED_TIMEOUT, "2s",
        Setting.DEAD_AFTER, "3", Setting.TRASH_RETENTION, "1s"));
    fs = cluster.client();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @DisplayName("a corrupted block on two of three replicas is still read correctly, and reported")
  void corruptReplicas() throws Exception {
    byte[] data = randomBytes(CHUNK / 2 + 333, 11);
    FileInfo f = await(fs.write("corrupt/f.bin", Buffer.buffer(data)));
    long chunk = f.chunks().get(0).id();
    List<String> corrupted = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path p = cluster.chunkServer(i).store().dataPath(chunk);
      try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
        raf.seek(70_000); // inside the second 64 KiB block
        int b = raf.read();
        raf.seek(70_000);
        raf.write(b ^ 0x5a);
      }
      corrupted.add(cluster.chunkServer(i).serverId());
    }
    for (int i = 0; i < 8; i++) {
      assertThat(sha256(await(fs.readAll("corrupt/f.bin")).getBytes())).isEqualTo(sha256(data));
      // Through the gateway the good first block waits in the same socket read as the bad one.
      assertThat(sha256(http("GET", cluster.url("/api/v1/files/corrupt/f.bin"), null).body()))
          .isEqualTo(sha256(data));
      HttpResponse<byte[]> r = http("GET", cluster.url("/api/v1/files/corrupt/f.bin"), null,
          "Range", "bytes=65536-131071");
      assertThat(r.body()).isEqualTo(CoreIT.slice(data, 65536, 65536));
    }
    // Readers that met a bad block told the master; it dropped those replicas, had them deleted
    // and copied the good one back to 3 servers.
    TestSupport.poll(30_000, () -> {
      JsonObject st = await(fs.clusterStatus());
      return st.getInteger("corruptChunks") == 0 && st.getInteger("underReplicatedChunks") == 0
          && replicasOf("corrupt/f.bin", 0).size() == 3;
    }, "the corrupt replicas replaced");
    for (int i = 0; i < 3; i++) {
      Path p = cluster.chunkServer(i).store().dataPath(chunk);
      assertThat(sha256(java.nio.file.Files.readAllBytes(p))).as("replica on server " + i)
          .isEqualTo(sha256(data));
    }
  }

  @Test
  @DisplayName("chunkservers stopped in the middle of a download: the reader still gets the right bytes")
  void chunkserverStopsMidDownload() {
    byte[] data = randomBytes(6 * CHUNK + 1000, 12);
    await(fs.write("middownload/f.bin", Buffer.buffer(data)));
    FileReadStream stream = await(fs.read("middownload/f.bin"));
    Buffer got = Buffer.buffer();
    Promise<Void> done = Promise.promise();
    stream.exceptionHandler(done::tryFail).endHandler(v -> done.tryComplete());
    stream.handler(b -> {
      got.appendBuffer(b);
      if (got.length() >= 100_000 && got.length() - b.length() < 100_000) {
        stream.pause(); // hold the download open mid-chunk while servers go away
      }
    });
    TestSupport.poll(10_000, () -> got.length() >= 100_000, "the download to start");
    try {
      cluster.stopChunkServer(0);
      cluster.stopChunkServer(1);
      stream.resume();
      await(done.future());
      assertThat(sha256(got.getBytes())).isEqualTo(sha256(data));
    } finally {
      cluster.restartChunkServer(0);
      cluster.restartChunkServer(1);
      cluster.awaitLive(3);
    }
  }

  @Test
  @DisplayName("a chunkserver stopping under an upload whose writer has gone quiet fails the upload at once")
  void chunkserverStopsUnderQuietUpload() {
    // The writer sends part of a chunk and then nothing: only the replica chain's failure can end
    // the upload. It used to be noticed at the chunk's end, which a quiet writer never reaches.
    io.vertx.core.Context ctx = cluster.gatewayNode().vertx().getOrCreateContext();
    QuietStream source = new QuietStream(ctx, Buffer.buffer(randomBytes(CHUNK / 3, 14)));
    Promise<FileInfo> written = Promise.promise();
    ctx.runOnContext(v -> fs.write("quiet/f.bin", source).onComplete(written));
    // The upload resumes its source once the chunk's chain is open and the bytes are on their way.
    TestSupport.poll(10_000, () -> source.resumes() >= 2, "the chunk to be opened");
    try {
      cluster.stopChunkServer(2);
      Throwable t = TestSupport.failure(written.future(), 15);
      assertThat(t).isInstanceOf(io.vgfs.protocol.VgfsException.class);
      assertThat(await(fs.list("quiet/")).files()).isEmpty();
    } finally {
      cluster.restartChunkServer(2);
      cluster.awaitLive(3);
    }
  }

  @Test
  @DisplayName("an upload whose client disconnects leaves no visible file, and its chunks are collected")
  void abandonedUpload() throws Exception {
    int before = storedChunks();
    try (Socket s = new Socket("127.0.0.1", cluster.httpPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /api/v1/files/abandoned/f.bin HTTP/1.1\r\nHost: localhost\r\n"
          + "Content-Length: 5000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(randomBytes(2 * CHUNK + 4096, 13)); // two whole chunks and a piece of the third
      out.flush();
      TestSupport.poll(10_000, () -> storedChunks() >= before + 3, "the first chunk to be stored");
    }
    assertThat(http("GET", cluster.url("/api/v1/files/abandoned/f.bin"), null).statusCode())
        .isEqualTo(404);
    assertThat(await(fs.list("abandoned/")).files()).isEmpty();
    // Nothing references the chunks: after the uncommitted timeout (2 s here) they are deleted.
    TestSupport.poll(20_000, () -> storedChunks() == before, "orphan chunks to be collected");
    assertThat(http("GET", cluster.url("/api/v1/files/abandoned/f.bin"), null).statusCode())
        .isEqualTo(404);
  }

  @Test
  @DisplayName("a download whose client hangs up stops reading and closes its chunkserver connection; the next one is whole")
  void abandonedDownload() throws Exception {
    byte[] data = randomBytes(32 * CHUNK + 77, 17);
    await(fs.write("hangup/f.bin", Buffer.buffer(data)));
    long before = bytesServed();
    try (Socket s = new Socket("127.0.0.1", cluster.httpPort())) {
      s.setReceiveBufferSize(64 * 1024);
      s.getOutputStream().write(("GET /api/v1/files/hangup/f.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      byte[] buf = new byte[64 * 1024];
      int got = 0;
      while (got < 200_000) {
        int n = s.getInputStream().read(buf);
        assertThat(n).as("bytes of the download before hanging up").isPositive();
        got += n;
      }
      awaitServingStops("the download to stall on this reader");
      int during = dataConnections(); // the stalled read holds one of them
      s.close(); // hang up a few hundred KiB into 32 MiB
      TestSupport.poll(10_000, () -> dataConnections() <= during - 1,
          () -> "the gateway to close its chunkserver connection (" + dataConnections()
              + " open, " + during + " before the hang-up)");
    }
    long sent = awaitServingStops("the chunkservers to stop sending") - before;
    // What the sockets and queues between the two hold (a few MiB), not the rest of the file.
    assertThat(sent).as("bytes the chunkservers sent").isLessThan(12L * CHUNK);
    HttpResponse<byte[]> whole = http("GET", cluster.url("/api/v1/files/hangup/f.bin"), null);
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(sha256(whole.body())).isEqualTo(sha256(data));
  }

  // Waits until the chunkservers' served bytes stay unchanged for half a second; returns them.
  private static long awaitServingStops(String what) {
    long[] mark = {bytesServed(), System.nanoTime()};
    TestSupport.poll(15_000, () -> {
      if (System.nanoTime() - mark[1] < 500_000_000L) {
        return false;
      }
      long now = bytesServed();
      boolean still = now == mark[0];
      mark[0] = now;
      mark[1] = System.nanoTime();
      return still;
    }, what);
    return mark[0];
  }

  private static int dataConnections() {
    int sum = 0;
    for (int i = 0; i < cluster.chunkServers(); i++) {
      sum += cluster.chunkServer(i).dataConnections();
    }
    return sum;
  }

  private static long bytesServed() {
    long sum = 0;
    for (int i = 0; i < cluster.chunkServers(); i++) {
      sum += cluster.chunkServer(i).bytesServed();
    }
    return sum;
  }

  @Test
  @DisplayName("deleting (after the trash retention) and replacing files gives their chunks' disk space back")
  void deletedChunksAreRemoved() {
    int before = storedChunks();
    await(fs.write("gc/a.bin", Buffer.buffer(randomBytes(2 * CHUNK, 14))));
    await(fs.write("gc/b.bin", Buffer.buffer(randomBytes(CHUNK, 15))));
    assertThat(storedChunks()).isEqualTo(before + 9);
    await(fs.write("gc/a.bin", Buffer.buffer(randomBytes(10, 16)))); // 2 chunks → 1
    await(fs.delete("gc/b.bin"));
    TestSupport.poll(20_000, () -> storedChunks() == before + 3, "replaced and deleted chunks removed");
    // The status counts the deletions until the chunkservers confirm them (next heartbeat).
    TestSupport.poll(20_000, () -> await(fs.clusterStatus()).getInteger("pendingDeletions") == 0,
        "the deletions confirmed");
    assertThat(storedChunks()).isEqualTo(before + 3);
  }

  @Test
  @DisplayName("with fewer live chunkservers than the replication factor uploads get 503 saying so")
  void notEnoughChunkservers() {
    cluster.stopChunkServer(2);
    try {
      TestSupport.poll(20_000, () -> await(fs.clusterStatus()).getInteger("liveChunkservers") == 2,
          "the master to see the chunkserver gone");
      HttpResponse<byte[]> r = http("PUT", cluster.url("/api/v1/files/nes/f.bin"), new byte[100]);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).isPresent();
      JsonObject err = new JsonObject(Buffer.buffer(r.body()));
      assertThat(err.getString("error")).isEqualTo("NOT_ENOUGH_CHUNKSERVERS");
      assertThat(err.getString("message")).contains("replication 3").contains("2 available");
      assertThat(http("GET", cluster.url("/health"), null).statusCode()).isEqualTo(503);
      assertThat(http("GET", cluster.url("/api/v1/files/nes/f.bin"), null).statusCode())
          .isEqualTo(404);
    } finally {
      cluster.restartChunkServer(2);
      cluster.awaitLive(3);
    }
    assertThat(http("PUT", cluster.url("/api/v1/files/nes/f.bin"), new byte[100]).statusCode())
        .isEqualTo(201);
  }

  @Test
  @DisplayName("chunkservers whose worker pool is busy with slow disk work still beat on time")
  void heartbeatsDoNotQueueBehindDiskWork() throws Exception {
    // 32 concurrent uploads used to hold every worker with writes and fsyncs; the beat waited
    // behind them for a space figure, the master called the servers suspect and refused chunks.
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    io.vertx.core.Vertx vertx = cluster.serverNode().vertx();
    try {
      for (int i = 0; i < 64; i++) {
        vertx.executeBlocking(() -> release.await(30, java.util.concurrent.TimeUnit.SECONDS), false);
      }
      // Heartbeats every 500 ms; a server is suspect once its last beat is 750 ms old.
      long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(4);
      int checks = 0;
      while (System.nanoTime() < end) {
        JsonObject status = await(fs.clusterStatus());
        for (Object o : status.getJsonArray("chunkservers")) {
          JsonObject cs = (JsonObject) o;
          assertThat(cs.getString("state")).as("%s after %d checks", cs, checks).isEqualTo("alive");
        }
        checks++;
        await(io.vertx.core.Future.future(p -> vertx.setTimer(200, id -> p.complete()))); // pacing
      }
      assertThat(checks).isGreaterThan(5);
    } finally {
      release.countDown();
    }
  }

  private static List<String> replicasOf(String path, int chunkIndex) {
    JsonObject json = await(cluster.gatewayNode().vertx().eventBus()
        .<JsonObject>request(Addresses.LOOKUP, new JsonObject().put("path", path))).body();
    ChunkRef c = FileInfo.fromJson(json).chunks().get(chunkIndex);
    return c.replicas().stream().map(ServerAddress::id).toList();
  }

  private static int storedChunks() {
    int n = 0;
    for (int i = 0; i < cluster.chunkServers(); i++) {
      n += cluster.chunkServer(i).store().chunkCount();
    }
    return n;
  }

  /** Emits one buffer, then nothing, and never ends: a writer gone quiet. Counts resumes. */
  static final class QuietStream implements io.vertx.core.streams.ReadStream<Buffer> {
    private final io.vertx.core.Context ctx;
    private final Buffer first;
    private final java.util.concurrent.atomic.AtomicInteger resumes =
        new java.util.concurrent.atomic.AtomicInteger();
    private io.vertx.core.Handler<Buffer> handler;
    private boolean paused;
    private boolean sent;

    QuietStream(io.vertx.core.Context ctx, Buffer first) {
      this.ctx = ctx;
      this.first = first;
    }

    int resumes() {
      return resumes.get();
    }

    @Override
    public QuietStream exceptionHandler(io.vertx.core.Handler<Throwable> h) {
      return this;
    }

    @Override
    public QuietStream handler(io.vertx.core.Handler<Buffer> h) {
      handler = h;
      maybeSend();
      return this;
    }

    @Override
    public QuietStream pause() {
      paused = true;
      return this;
    }

    @Override
    public QuietStream resume() {
      paused = false;
      resumes.incrementAndGet();
      maybeSend();
      return this;
    }

    @Override
    public QuietStream fetch(long amount) {
      return resume();
    }

    @Override
    public QuietStream endHandler(io.vertx.core.Handler<Void> h) {
      return this;
    }

    private void maybeSend() {
      if (!paused && !sent && handler != null) {
        sent = true;
        ctx.runOnContext(v -> handler.handle(first));
      }
    }
  }
}
