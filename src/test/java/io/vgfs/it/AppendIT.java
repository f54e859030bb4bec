package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vgfs.launcher.Cluster;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.http;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many writers appending to one file through two gateways, as separate processes: every
 * acknowledged record is in the file exactly once, whole, at the offset its reply named, also when
 * appends cross many chunk boundaries and when a replica's chunkserver is killed in the middle.
 */
class AppendIT {

  static final int WRITERS = 8;
  static final int APPENDS = 200;

  @TempDir
  Path dir;
  private ProcessCluster pc;
  private Cluster.Node member;
  private final List<String> gateways = new ArrayList<>();
  private final Map<String, ProcessCluster.Proc> servers = new HashMap<>();

  @AfterEach
  void stop() {
    if (member != null) {
      await(member.close());
    }
    if (pc != null) {
      pc.close();
    }
  }

  private void start(String chunkSize) {
    pc = new ProcessCluster(dir, "--chunk-size", chunkSize, "--heartbeat-interval", "500ms",
        "--dead-after", "3");
    pc.master("master").awaitReady();
    for (int i = 1; i <= 4; i++) {
      ProcessCluster.Proc p = pc.chunkserver("cs" + i);
      p.awaitReady();
      servers.put(ProcessCluster.readyField(p, "id"), p);
    }
    for (int i = 1; i <= 2; i++) {
      ProcessCluster.Proc gw = pc.gateway("gw" + i, List.of());
      gw.awaitReady();
      gateways.add("http://127.0.0.1:" + ProcessCluster.httpPort(gw));
    }
    TestSupport.poll(30_000, () -> http("GET", gateways.get(0) + "/health", null)
        .statusCode() == 200, "a healthy cluster");
  }

  /** A record that says who wrote it and checks itself: "w3 n57 <payload> <crc32>\n". */
  static byte[] record(int writer, int n) {
    Random r = new Random(writer * 100_000L + n);
    StringBuilder payload = new StringBuilder();
    int len = 50 + r.nextInt(2500);
    for (int i = 0; i < len; i++) {
      payload.append((char) ('a' + r.nextInt(26)));
    }
    String body = "w" + writer + " n" + n + " " + payload;
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.US_ASCII));
    return (body + " " + Long.toHexString(crc.getValue()) + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  private record Ack(long offset, long length) {
  }

  /** Runs the writers; {@code midway} runs once a third of the appends are acknowledged. */
  private Map<String, Ack> appendAll(String path, Runnable midway) throws Exception {
    Map<String, Ack> acks = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    AtomicInteger retries = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int w = 0; w < WRITERS; w++) {
      int writer = w;
      Thread t = new Thread(() -> {
        try {
          for (int n = 0; n < APPENDS; n++) {
            String key = "w" + writer + "-n" + n;
            byte[] rec = record(writer, n);
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (true) {
              String gw = gateways.get((writer + n) % gateways.size());
              HttpResponse<String> r;
              try {
                r = TestSupport.HTTP.send(HttpRequest.newBuilder(
                        URI.create(gw + "/api/v1/files/" + path + "?append"))
                    .timeout(Duration.ofSeconds(30)).header("Idempotency-Key", key)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(rec)).build(),
                    HttpResponse.BodyHandlers.ofString());
              } catch (java.io.IOException e) {
                r = null;
              }
              if (r != null && r.statusCode() == 200) {
                JsonObject j = new JsonObject(r.body());
                acks.put(key, new Ack(j.getLong("offset"), j.getLong("length")));
                break;
              }
              retries.incrementAndGet(); // same key: applied once however often it is sent
              if (System.nanoTime() > deadline) {
                throw new AssertionError(key + " kept failing: "
                    + (r == null ? "I/O error" : r.statusCode() + " " + r.body()));
              }
              Thread.sleep(50);
            }
            done.incrementAndGet();
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }, "appender-" + w);
      threads.add(t);
      t.start();
    }
    if (midway != null) {
      TestSupport.poll(60_000, () -> done.get() >= WRITERS * APPENDS / 3, "a third of the appends");
      midway.run();
    }
    for (Thread t : threads) {
      t.join(180_000);
    }
    assertThat(errors).isEmpty();
    System.out.printf("%d appends acknowledged (%d retried requests)%n", acks.size(), retries.get());
    return acks;
  }

  private void verify(String path, Map<String, Ack> acks) {
    byte[] file = http("GET", gateways.get(1) + "/api/v1/files/" + path, null).body();
    long total = 0;
    boolean[] covered = new boolean[file.length];
    for (int w = 0; w < WRITERS; w++) {
      for (int n = 0; n < APPENDS; n++) {
        Ack a = acks.get("w" + w + "-n" + n);
        assertThat(a).as("w" + w + "-n" + n + " acknowledged").isNotNull();
        byte[] expected = record(w, n);
        assertThat(a.length()).isEqualTo(expected.length);
        byte[] at = java.util.Arrays.copyOfRange(file, (int) a.offset(),
            (int) (a.offset() + a.length()));
        assertThat(at).as("record w" + w + " n" + n + " at " + a.offset()).isEqualTo(expected);
        for (long i = a.offset(); i < a.offset() + a.length(); i++) {
          assertThat(covered[(int) i]).as("byte " + i + " claimed twice").isFalse();
          covered[(int) i] = true;
        }
        total += expected.length;
      }
    }
    // Nothing else: no padding, no duplicate, no torn record.
    assertThat((long) file.length).isEqualTo(total);
  }

  private FileInfo lookup(String path) {
    return FileInfo.fromJson(await(member.vertx().eventBus().<JsonObject>request(Addresses.LOOKUP,
        new JsonObject().put("path", path))).body());
  }

  @Test
  @DisplayName("8 appenders over 2 gateways, 200 records each: every record once, whole, where its reply said")
  void appendersOverTwoGateways() throws Exception {
    start("1MiB");
    long t0 = System.nanoTime();
    Map<String, Ack> acks = appendAll("logs/app.log", null);
    System.out.printf("1,600 appends in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    verify("logs/app.log", acks);
  }

  @Test
  @DisplayName("snapshots taken while 8 writers append: every record once where its reply said, each snapshot a prefix of the file")
  void appendsRacingSnapshots() throws Exception {
    start("1MiB");
    String path = "logs/snapped.log";
    // Each snapshot makes the next append copy the last chunk (copy-on-write) while other
    // writers still append under the shared chunk's lease.
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    List<String> snapshots = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread snapper = new Thread(() -> {
      for (int k = 0; !stop.get() && k < 100; k++) {
        // Paced, not a wait: about ten snapshots a second while the writers run.
        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
        HttpResponse<byte[]> r = http("POST", gateways.get(k % 2) + "/api/v1/snapshots",
            new JsonObject().put("source", "logs/").put("name", "s" + k).encode()
                .getBytes(StandardCharsets.UTF_8));
        if (r.statusCode() == 201) {
          snapshots.add("s" + k);
        }
      }
    }, "snapshots");
    snapper.start();
    Map<String, Ack> acks;
    try {
      acks = appendAll(path, null);
    } finally {
      stop.set(true);
      snapper.join(60_000);
    }
    verify(path, acks);
    byte[] file = http("GET", gateways.get(0) + "/api/v1/files/" + path, null).body();
    int nonEmpty = 0;
    for (String name : snapshots) {
      HttpResponse<byte[]> r = http("GET", gateways.get(0) + "/api/v1/snapshots/" + name
          + "/files/" + path, null);
      if (r.statusCode() == 404) {
        continue; // taken before the first append created the file
      }
      assertThat(r.statusCode()).isEqualTo(200);
      byte[] snap = r.body();
      assertThat(snap.length).as(name).isLessThanOrEqualTo(file.length);
      assertThat(java.util.Arrays.copyOf(file, snap.length)).as(name + " is a prefix of the file")
          .isEqualTo(snap);
      nonEmpty += snap.length > 0 ? 1 : 0;
    }
    System.out.printf("%d snapshots taken while appending, %d with part of the file%n",
        snapshots.size(), nonEmpty);
    assertThat(nonEmpty).as("snapshots that caught the file midway").isGreaterThan(5);
  }

  @Test
  @DisplayName("with 64 KiB chunks (many chunk boundaries), and with a replica's chunkserver killed midway")
  void smallChunksAndAKilledReplica() throws Exception {
    start("64KiB");
    Map<String, Ack> acks = appendAll("logs/small.log", null);
    verify("logs/small.log", acks);
    member = await(Cluster.start(pc.memberSettings(), false));
    int chunks = lookup("logs/small.log").chunks().size();
    System.out.printf("64 KiB chunks: the file spans %d chunks%n", chunks);
    assertThat(chunks).isGreaterThan(30);

    Map<String, Ack> underFire = appendAll("logs/killed.log", () -> {
      List<ChunkRef> c = lookup("logs/killed.log").chunks();
      String victim = c.get(c.size() - 1).replicas().get(0).id();
      System.out.println("killing " + victim + ", a replica of the chunk being appended to");
      servers.get(victim).kill9();
    });
    verify("logs/killed.log", underFire);
    long t0 = System.nanoTime();
    TestSupport.poll(60_000, () -> new JsonObject(Buffer.buffer(http("GET", gateways.get(0)
        + "/api/v1/cluster", null).body())).getInteger("underReplicatedChunks") == 0,
        "every chunk back to 3 replicas");
    System.out.printf("back to full replication %.1f s after the appends%n",
        (System.nanoTime() - t0) / 1e9);
  }
}
