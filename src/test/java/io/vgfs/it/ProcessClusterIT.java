package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/** The shipped jar as separate OS processes: master, three chunkservers and a gateway. */
class ProcessClusterIT {

  @TempDir
  Path dir;

  @Test
  @DisplayName("separate processes form a cluster; files round-trip over HTTP; a chunkserver killed with -9 costs nothing")
  void separateProcesses() {
    try (ProcessCluster pc = new ProcessCluster(dir, "--chunk-size", "1MiB",
        "--heartbeat-interval", "500ms", "--dead-after", "3")) {
      ProcessCluster.Proc master = pc.master("master");
      master.awaitReady();
      assertThat(master.readyLine()).contains("role=active");
      // cs3 and the gateway with the common pool of a 5-core host, whose threads are daemons:
      // these processes once joined the cluster on it and exited with status 0 at once.
      List<String> manyCores = List.of("-Djava.util.concurrent.ForkJoinPool.common.parallelism=4");
      ProcessCluster.Proc[] cs = {pc.chunkserver("cs1"), pc.chunkserver("cs2"),
          pc.chunkserver("cs3", manyCores)};
      ProcessCluster.Proc gw = pc.gateway("gateway", manyCores);
      for (ProcessCluster.Proc p : cs) {
        p.awaitReady();
      }
      gw.awaitReady();
      // Small-heap servers must not fall back to Netty's per-read allocations (NettyAllocator).
      assertThat(gw.fullLog()).contains("Netty buffers: PooledByteBufAllocator");
      assertThat(cs[0].fullLog()).contains("Netty buffers: PooledByteBufAllocator");
      // Nor Hazelcast to a thread per map-operation callback, as with a one-thread common pool
      // on a 2-core host (CommonPool).
      assertThat(master.fullLog()).containsPattern("common pool: ([2-9]|\\d\\d+) threads");
      String base = "http://127.0.0.1:" + ProcessCluster.httpPort(gw);
      TestSupport.poll(30_000, () -> http("GET", base + "/health", null).statusCode() == 200,
          "gateway health");

      byte[] data = randomBytes(5 * 1024 * 1024 + 77, 21);
      HttpResponse<byte[]> put = http("PUT", base + "/api/v1/files/proc/test.bin", data);
      assertThat(put.statusCode()).isEqualTo(201);
      assertThat(new JsonObject(Buffer.buffer(put.body())).getInteger("chunks")).isEqualTo(6);
      assertThat(sha256(http("GET", base + "/api/v1/files/proc/test.bin", null).body()))
          .isEqualTo(sha256(data));

      cs[1].kill9();
      for (int i = 0; i < 5; i++) {
        assertThat(sha256(http("GET", base + "/api/v1/files/proc/test.bin", null).body()))
            .isEqualTo(sha256(data));
      }
      JsonObject listed = new JsonObject(Buffer.buffer(
          http("GET", base + "/api/v1/files?prefix=proc/", null).body()));
      assertThat(listed.getJsonArray("files").getJsonObject(0).getLong("size"))
          .isEqualTo(data.length);
      TestSupport.poll(20_000, () -> new JsonObject(Buffer.buffer(
          http("GET", base + "/api/v1/cluster", null).body())).getInteger("liveChunkservers") == 2,
          "the master to see the killed chunkserver dead");

      // Without a master the gateway says so at once: /health names the cause, and a write fails
      // with a retryable 503 (Retry-After) after the client's failover time-out, never hangs,
      // and leaves nothing behind.
      master.kill9();
      TestSupport.poll(20_000, () -> {
        HttpResponse<byte[]> h = http("GET", base + "/health", null);
        return h.statusCode() == 503 && new String(h.body()).contains("no active master");
      }, "health to report the missing master");
      byte[] late = randomBytes(100_000, 22);
      long t0 = System.nanoTime();
      HttpResponse<byte[]> refused = http("PUT", base + "/api/v1/files/proc/late.bin", late);
      double waited = (System.nanoTime() - t0) / 1e9;
      System.out.printf("write without a master: %d after %.1f s%n", refused.statusCode(), waited);
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
      assertThat(new JsonObject(Buffer.buffer(refused.body())).getString("error"))
          .isEqualTo("UNAVAILABLE");
      assertThat(waited).isLessThan(30);

      // The master restarted from its log still has the file, and the refused write is absent.
      master.restart();
      master.awaitReady();
      assertThat(master.readyLine()).contains("role=active");
      TestSupport.poll(30_000, () -> http("GET", base + "/api/v1/files/proc/test.bin", null)
          .statusCode() == 200, "the file to be readable after the master's restart");
      assertThat(sha256(http("GET", base + "/api/v1/files/proc/test.bin", null).body()))
          .isEqualTo(sha256(data));
      assertThat(http("GET", base + "/api/v1/files/proc/late.bin", null).statusCode())
          .isEqualTo(404);
    }
  }

  @Test
  @DisplayName("a chunkserver frozen (SIGSTOP) past the cluster's heartbeat time-out: a write through it fails within the stall time-out; resumed, and the master replaced while it is alone, every node is reachable again")
  void frozenChunkserver() {
    try (ProcessCluster pc = new ProcessCluster(dir, "--chunk-size", "1MiB",
        "--heartbeat-interval", "500ms", "--dead-after", "3")) {
      ProcessCluster.Proc master = pc.master("master");
      master.awaitReady();
      ProcessCluster.Proc[] cs = {pc.chunkserver("cs1"), pc.chunkserver("cs2"),
          pc.chunkserver("cs3")};
      ProcessCluster.Proc gw = pc.gateway("gateway", List.of(), "--write-stall-timeout", "4s");
      for (ProcessCluster.Proc p : cs) {
        p.awaitReady();
      }
      gw.awaitReady();
      String base = "http://127.0.0.1:" + ProcessCluster.httpPort(gw);
      TestSupport.poll(30_000, () -> http("GET", base + "/health", null).statusCode() == 200,
          "gateway health");
      byte[] before = randomBytes(2 * 1024 * 1024 + 5, 31);
      assertThat(http("PUT", base + "/api/v1/files/frozen/before.bin", before).statusCode())
          .isEqualTo(201);

      // Three chunkservers, three replicas: a write allocated now has the frozen one in its chain,
      // whose sockets stay open and silent. It must fail after the stall time-out (4 s here, 4–5 s
      // with the check's period), not hang.
      int logMark = master.fullLog().length();
      ProcessCluster.signal(cs[1], "STOP");
      long t0 = System.nanoTime();
      HttpResponse<byte[]> stalled;
      double waited;
      try {
        stalled = http("PUT", base + "/api/v1/files/frozen/during.bin",
            randomBytes(1_000_000, 32));
        waited = (System.nanoTime() - t0) / 1e9;
        // Frozen for longer than Hazelcast's 6 s without heartbeats: the cluster drops cs2, and
        // cs2 wakes up alone, sees every other member gone, and merges back.
        TestSupport.poll(30_000, () -> master.fullLog().substring(logMark)
            .contains("Members {size:4"), "Hazelcast to drop the frozen chunkserver");
      } finally {
        ProcessCluster.signal(cs[1], "CONT");
      }
      System.out.printf("write through a frozen chunkserver: %d after %.1f s%n",
          stalled.statusCode(), waited);
      assertThat(stalled.statusCode()).isEqualTo(503);
      assertThat(waited).isGreaterThan(3.5).isLessThan(30);
      assertThat(http("GET", base + "/api/v1/files/frozen/during.bin", null).statusCode())
          .isEqualTo(404);

      // While cs2 is alone, the master is replaced: killed and restarted (same id, a new node).
      // cs2 merges back (Hazelcast looks for split clusters every 10 s here) and publishes its
      // event-bus registrations again; everyone else's must survive that, and cs2 must send to
      // the new master's node, not the dead one it knew: the master hears all three
      // chunkservers, and writes that need all three succeed.
      master.kill9();
      master.restart().awaitReady();
      TestSupport.poll(90_000, () -> cs[1].fullLog().contains("registrations published again"),
          () -> "cs2 to merge back into the cluster; its log ends:\n" + cs[1].tail());
      TestSupport.poll(60_000, () -> new JsonObject(Buffer.buffer(
              http("GET", base + "/api/v1/cluster", null).body()))
              .getInteger("liveChunkservers", 0) == 3,
          () -> "all three chunkservers live again (" + new String(
              http("GET", base + "/api/v1/cluster", null).body()) + ")");
      byte[] after = randomBytes(2 * 1024 * 1024 + 9, 33);
      TestSupport.poll(30_000, () -> http("PUT", base + "/api/v1/files/frozen/after.bin", after)
          .statusCode() == 201, "a write after the chunkserver resumed");
      assertThat(sha256(http("GET", base + "/api/v1/files/frozen/after.bin", null).body()))
          .isEqualTo(sha256(after));
      assertThat(sha256(http("GET", base + "/api/v1/files/frozen/before.bin", null).body()))
          .isEqualTo(sha256(before));
    }
  }
}
