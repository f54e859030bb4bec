package io.vgfs.it;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.AppendOptions;
import io.vgfs.client.AppendResult;
import io.vgfs.client.ListResult;
import io.vgfs.client.VgfsClient;
import io.vgfs.client.WriteOptions;
import io.vgfs.launcher.Setting;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.VgfsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.failure;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/** Append, rename, snapshots and conditional writes on an in-JVM cluster (64 KiB chunks). */
class FileOpsIT {

  static final int CHUNK = 64 * 1024;

  @TempDir
  static Path dir;
  static TestCluster cluster;
  static VgfsClient fs;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, 3, Map.of(Setting.CHUNK_SIZE, "64KiB",
        Setting.TRASH_RETENTION, "0s"));
    fs = cluster.client();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @DisplayName("concurrent appends land exactly once, whole and contiguous, across many chunks")
  void appends() {
    List<Future<AppendResult>> all = new ArrayList<>();
    List<byte[]> records = new ArrayList<>();
    Random r = new Random(1);
    for (int i = 0; i < 300; i++) {
      byte[] rec = ("record " + i + " " + "x".repeat(r.nextInt(5000)) + "\n").getBytes();
      records.add(rec);
      all.add(fs.append("app/log", Buffer.buffer(rec)));
    }
    long total = records.stream().mapToLong(b -> b.length).sum();
    all.forEach(TestSupport::await);
    byte[] content = await(fs.readAll("app/log")).getBytes();
    assertThat((long) content.length).isEqualTo(total);
    boolean[] covered = new boolean[content.length];
    for (int i = 0; i < all.size(); i++) {
      AppendResult res = await(all.get(i));
      assertThat(res.length()).isEqualTo(records.get(i).length);
      byte[] at = java.util.Arrays.copyOfRange(content, (int) res.offset(),
          (int) (res.offset() + res.length()));
      assertThat(at).as("record " + i).isEqualTo(records.get(i));
      for (long k = res.offset(); k < res.offset() + res.length(); k++) {
        assertThat(covered[(int) k]).isFalse();
        covered[(int) k] = true;
      }
    }
    FileInfo info = await(fs.stat("app/log"));
    assertThat(info.size()).isEqualTo(total);
    assertThat(info.etag()).isEqualTo(await(fs.write("app/copy", Buffer.buffer(content))).etag());
    assertThat(await(cluster.client().clusterStatus()).getInteger("chunks")).isGreaterThan(10);
  }

  @Test
  @DisplayName("an append retried with the same request id is applied once")
  void idempotentAppend() throws Exception {
    AppendOptions opts = new AppendOptions().setRequestId("retry-me-1");
    AppendResult first = await(fs.append("app/idem", Buffer.buffer("hello "), opts));
    AppendResult again = await(fs.append("app/idem", Buffer.buffer("hello "), opts));
    assertThat(again).isEqualTo(first);
    await(fs.append("app/idem", Buffer.buffer("world")));
    assertThat(await(fs.readAll("app/idem")).toString()).isEqualTo("hello world");
    HttpResponse<byte[]> h1 = http("POST", cluster.url("/api/v1/files/app/idem2?append"),
        "abc".getBytes(), "Idempotency-Key", "k-42");
    HttpResponse<byte[]> h2 = http("POST", cluster.url("/api/v1/files/app/idem2?append"),
        "abc".getBytes(), "Idempotency-Key", "k-42");
    assertThat(h1.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(Buffer.buffer(h2.body())).getLong("offset"))
        .isEqualTo(new JsonObject(Buffer.buffer(h1.body())).getLong("offset"));
    assertThat(await(fs.readAll("app/idem2")).toString()).isEqualTo("abc");
    HttpResponse<byte[]> big = http("POST", cluster.url("/api/v1/files/app/big?append"),
        new byte[CHUNK / 4 + 1]);
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(new String(big.body())).contains(String.valueOf(CHUNK / 4));
    // A refused body far larger than the socket buffers: the client is still sending when the
    // answer is ready, and must still get it (the gateway reads and drops the rest).
    byte[] huge = new byte[4 << 20];
    for (int i = 0; i < 5; i++) {
      HttpResponse<byte[]> r = http("POST", cluster.url("/api/v1/files/app/huge?append"), huge);
      assertThat(r.statusCode()).isEqualTo(413);
      assertThat(new JsonObject(Buffer.buffer(r.body())).getString("error"))
          .isEqualTo("TOO_LARGE");
    }
    assertThat(http("GET", cluster.url("/api/v1/files/app/huge"), null).statusCode())
        .isEqualTo(404);
    // A client that sends the whole body before it reads (a plain socket): the answer must not be
    // lost to a connection reset.
    for (int i = 0; i < 3; i++) {
      assertThat(sendAllThenRead("/api/v1/files/app/raw?append", CHUNK / 4 + 1))
          .startsWith("HTTP/1.1 413");
    }
  }

  private String sendAllThenRead(String target, int length) throws Exception {
    java.net.URI uri = java.net.URI.create(cluster.url(target));
    try (java.net.Socket s = new java.net.Socket(uri.getHost(), uri.getPort())) {
      s.setSoTimeout(30_000);
      Thread writer = new Thread(() -> {
        try {
          java.io.OutputStream out = s.getOutputStream();
          out.write(("POST " + target + " HTTP/1.1\r\nHost: " + uri.getHost()
              + "\r\nContent-Length: " + length + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          out.write(new byte[length]);
          out.flush();
        } catch (java.io.IOException e) {
          // the server may close first; what it answered is what counts
        }
      });
      writer.start();
      writer.join(30_000);
      Thread.sleep(300); // let the server finish with the request before anything is read
      return new String(s.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  @DisplayName("a directory of 100 files renamed under concurrent reads: each file is always under one of its names")
  void renameDirectory() throws Exception {
    for (int i = 0; i < 100; i++) {
      await(fs.write("ren/old/f" + i, Buffer.buffer("content " + i)));
    }
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger reads = new AtomicInteger();
    List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      int seed = t;
      Thread th = new Thread(() -> {
        Random r = new Random(seed);
        while (!stop.get()) {
          int i = r.nextInt(100);
          HttpResponse<byte[]> a = http("GET", cluster.url("/api/v1/files/ren/old/f" + i), null);
          HttpResponse<byte[]> b = a.statusCode() == 404
              ? http("GET", cluster.url("/api/v1/files/ren/new/f" + i), null) : a;
          if (b.statusCode() != 200 || !new String(b.body()).equals("content " + i)) {
            errors.add("f" + i + ": " + a.statusCode() + "/" + b.statusCode());
          }
          reads.incrementAndGet();
        }
      });
      readers.add(th);
      th.start();
    }
    TestSupport.poll(10_000, () -> reads.get() > 50, "readers running");
    HttpResponse<byte[]> moved = http("POST", cluster.url("/api/v1/files/ren/old?rename-to=ren/new"),
        new byte[0]);
    assertThat(moved.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(Buffer.buffer(moved.body())).getInteger("moved")).isEqualTo(100);
    int after = reads.get();
    TestSupport.poll(10_000, () -> reads.get() > after + 50, "reads after the rename");
    stop.set(true);
    for (Thread th : readers) {
      th.join();
    }
    assertThat(errors).isEmpty();
    assertThat(await(fs.list("ren/old/")).files()).isEmpty();
    assertThat(await(fs.list("ren/new/")).files()).hasSize(100);
    // {dir}/ names the directory only, although a file "ren/new" sits beside it.
    await(fs.write("ren/new", Buffer.buffer("a file, not the directory")));
    HttpResponse<byte[]> back = http("POST",
        cluster.url("/api/v1/files/ren/new/?rename-to=ren/back/"), new byte[0]);
    assertThat(back.statusCode()).as(new String(back.body())).isEqualTo(200);
    JsonObject backJson = new JsonObject(Buffer.buffer(back.body()));
    assertThat(backJson.getString("from")).isEqualTo("ren/new/");
    assertThat(backJson.getInteger("moved")).isEqualTo(100);
    assertThat(await(fs.readAll("ren/back/f7")).toString()).isEqualTo("content 7");
    assertThat(await(fs.readAll("ren/new")).toString()).isEqualTo("a file, not the directory");
    HttpResponse<byte[]> root = http("POST", cluster.url("/api/v1/files/?rename-to=elsewhere"),
        new byte[0]);
    assertThat(root.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(Buffer.buffer(root.body())).getString("error"))
        .isEqualTo("INVALID_PATH");
    // Conflicts: 409 unless overwrite.
    await(fs.write("ren/a", Buffer.buffer("a")));
    await(fs.write("ren/b", Buffer.buffer("b")));
    assertThat(http("POST", cluster.url("/api/v1/files/ren/a?rename-to=ren/b"), new byte[0])
        .statusCode()).isEqualTo(409);
    assertThat(await(fs.readAll("ren/b")).toString()).isEqualTo("b");
    assertThat(http("POST", cluster.url("/api/v1/files/ren/a?rename-to=ren/b&overwrite=true"),
        new byte[0]).statusCode()).isEqualTo(200);
    assertThat(await(fs.readAll("ren/b")).toString()).isEqualTo("a");
    assertThat(http("GET", cluster.url("/api/v1/files/ren/a"), null).statusCode()).isEqualTo(404);
  }

  @Test
  @DisplayName("conditional writes: a failed condition is 412 and changes nothing")
  void conditionalWrites() {
    FileInfo v1 = await(fs.write("cond/f", Buffer.buffer("one")));
    HttpResponse<byte[]> exists = http("PUT", cluster.url("/api/v1/files/cond/f"), "two".getBytes(),
        "If-None-Match", "*");
    assertThat(exists.statusCode()).isEqualTo(412);
    assertThat(new JsonObject(Buffer.buffer(exists.body())).getString("error"))
        .isEqualTo("PRECONDITION_FAILED");
    assertThat(http("PUT", cluster.url("/api/v1/files/cond/f"), "two".getBytes(),
        "If-Match", "\"00000000-3\"").statusCode()).isEqualTo(412);
    assertThat(http("DELETE", cluster.url("/api/v1/files/cond/f"), null,
        "If-Match", "\"bad\"").statusCode()).isEqualTo(412);
    assertThat(http("POST", cluster.url("/api/v1/files/cond/f?append"), "x".getBytes(),
        "If-Match", "\"bad\"").statusCode()).isEqualTo(412);
    // A precondition DELETE does not evaluate is refused, not ignored.
    HttpResponse<byte[]> noneMatch = http("DELETE", cluster.url("/api/v1/files/cond/f"), null,
        "If-None-Match", "*");
    assertThat(noneMatch.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(Buffer.buffer(noneMatch.body())).getString("error"))
        .isEqualTo("BAD_REQUEST");
    assertThat(await(fs.readAll("cond/f")).toString()).isEqualTo("one");
    // The editor holding the current tag wins; the one with the old tag then loses.
    HttpResponse<byte[]> ok = http("PUT", cluster.url("/api/v1/files/cond/f"), "two".getBytes(),
        "If-Match", v1.etag());
    assertThat(ok.statusCode()).isEqualTo(201);
    assertThat(http("PUT", cluster.url("/api/v1/files/cond/f"), "three".getBytes(),
        "If-Match", v1.etag()).statusCode()).isEqualTo(412);
    assertThat(await(fs.readAll("cond/f")).toString()).isEqualTo("two");
    Throwable t = failure(fs.write("cond/f", Buffer.buffer("z"),
        new WriteOptions().setIfNoneMatch("*")));
    assertThat(((VgfsException) t).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
    assertThat(http("PUT", cluster.url("/api/v1/files/cond/new"), "n".getBytes(),
        "If-None-Match", "*").statusCode()).isEqualTo(201);
    String tag = await(fs.stat("cond/f")).etag();
    assertThat(http("POST", cluster.url("/api/v1/files/cond/f?append"), "!".getBytes(),
        "If-Match", tag).statusCode()).isEqualTo(200);
    assertThat(await(fs.readAll("cond/f")).toString()).isEqualTo("two!");
    assertThat(http("DELETE", cluster.url("/api/v1/files/cond/f"), null,
        "If-Match", await(fs.stat("cond/f")).etag()).statusCode()).isEqualTo(204);
  }

  @Test
  @DisplayName("snapshots keep the old bytes through overwrite, append and delete; deleting one frees what only it held")
  void snapshots() throws Exception {
    byte[] a = randomBytes(3 * CHUNK + 100, 31);
    byte[] b = randomBytes(CHUNK / 2, 32);
    byte[] c = randomBytes(2 * CHUNK, 33);
    await(fs.write("snap/a", Buffer.buffer(a)));
    await(fs.write("snap/b", Buffer.buffer(b)));
    await(fs.write("snap/c", Buffer.buffer(c)));
    long chunkFiles = chunkFiles();
    HttpResponse<byte[]> taken = http("POST", cluster.url("/api/v1/snapshots"),
        new JsonObject().put("source", "snap/").put("name", "before").encode().getBytes());
    assertThat(taken.statusCode()).isEqualTo(201);
    assertThat(new JsonObject(Buffer.buffer(taken.body())).getInteger("files")).isEqualTo(3);
    assertThat(chunkFiles()).isEqualTo(chunkFiles); // no data copied

    await(fs.write("snap/a", Buffer.buffer("overwritten")));
    await(fs.append("snap/b", Buffer.buffer("appended")));
    await(fs.delete("snap/c"));
    assertThat(sha256(http("GET", cluster.url("/api/v1/snapshots/before/files/snap/a"), null)
        .body())).isEqualTo(sha256(a));
    assertThat(sha256(http("GET", cluster.url("/api/v1/snapshots/before/files/snap/b"), null)
        .body())).isEqualTo(sha256(b));
    assertThat(sha256(http("GET", cluster.url("/api/v1/snapshots/before/files/snap/c"), null)
        .body())).isEqualTo(sha256(c));
    assertThat(await(fs.readAll("snap/b")).length()).isEqualTo(b.length + 8);
    assertThat(http("GET", cluster.url("/api/v1/snapshots/before/files?prefix=snap/"), null)
        .statusCode()).isEqualTo(200);

    // Only the snapshot holds a's old chunks, b's old last chunk and c's chunks: deleting it
    // lets them go.
    long held = chunkFiles();
    assertThat(http("DELETE", cluster.url("/api/v1/snapshots/before"), null).statusCode())
        .isEqualTo(204);
    long expectedFreed = 3L * (4 + 2 + 1); // replicas of a's 4, c's 2 and b's shared chunk
    TestSupport.poll(20_000, () -> chunkFiles() <= held - expectedFreed,
        "chunks only the snapshot held to be deleted");
    assertThat(await(fs.readAll("snap/a")).toString()).isEqualTo("overwritten");
    // b's first chunk is shared with the live file: collection must have left it alone.
    byte[] bNow = java.util.Arrays.copyOf(b, b.length + 8);
    System.arraycopy("appended".getBytes(), 0, bNow, b.length, 8);
    assertThat(sha256(await(fs.readAll("snap/b")).getBytes())).isEqualTo(sha256(bNow));
    assertThat(http("GET", cluster.url("/api/v1/snapshots/before/files/snap/a"), null)
        .statusCode()).isEqualTo(404);
  }

  @Test
  @DisplayName("a snapshot of 10,000 files takes well under a second and copies no data")
  void largeSnapshot() throws Exception {
    List<Future<FileInfo>> writes = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      writes.add(fs.write("many/f" + i, Buffer.buffer("file " + i)));
      if (writes.size() == 64) {
        writes.forEach(TestSupport::await);
        writes.clear();
      }
    }
    writes.forEach(TestSupport::await);
    long before = chunkFiles();
    long du = diskUse();
    long t0 = System.nanoTime();
    JsonObject snap = await(fs.snapshot("many/", "many-snap"));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(snap.getInteger("files")).isEqualTo(10_000);
    System.out.printf("snapshot of 10,000 files: %.3f s; chunk files %d -> %d, bytes on disk %d -> %d%n",
        seconds, before, chunkFiles(), du, diskUse());
    assertThat(seconds).isLessThan(2.0);
    assertThat(chunkFiles()).isEqualTo(before);
    assertThat(diskUse()).isEqualTo(du);
    assertThat(await(fs.readSnapshot("many-snap", "many/f9999")).length()).isEqualTo(9);
    // Paging through the snapshot: every file once, in path order, the pages chained by `next`.
    List<String> listed = new ArrayList<>();
    String after = null;
    long l0 = System.nanoTime();
    for (int pages = 0; pages < 100; pages++) {
      ListResult page = await(fs.listSnapshot("many-snap", "many/", after, 1_000));
      page.files().forEach(f -> listed.add(f.path()));
      if (!page.truncated()) {
        break;
      }
      after = page.next();
    }
    System.out.printf("snapshot of 10,000 files listed in pages of 1,000: %.3f s%n",
        (System.nanoTime() - l0) / 1e9);
    assertThat(listed).hasSize(10_000).doesNotHaveDuplicates().isSorted();
  }

  // Walks again when a file vanishes mid-walk (collection runs meanwhile): a partial count
  // could satisfy "fewer than" checks without anything having been collected.
  private static long chunkFiles() {
    for (int attempt = 0; ; attempt++) {
      try (Stream<Path> s = Files.walk(dir)) {
        return s.filter(p -> p.toString().endsWith(".chunk")
            && !p.getParent().getFileName().toString().equals("tmp")).count();
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        if (attempt == 100) {
          throw new AssertionError("could not count chunk files", e);
        }
      }
    }
  }

  private static long diskUse() {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".chunk")).mapToLong(p -> p.toFile().length()).sum();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

}
