package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topology of {@code docker-compose.yml} with real processes, since no container engine runs
 * on the build machines: two masters, a gateway and four chunkservers, configured the way the
 * compose file and {@code docker/entrypoint.sh} configure the containers, as far as loopback
 * allows:
 * <ul>
 *   <li>settings through {@code VGFS_*} variables, roles and per-service flags as the services'
 *       commands ({@code --port}, {@code --bind}, {@code --http-port});</li>
 *   <li>the join list names the masters by host NAME ({@code localhost:<port>} here,
 *       {@code master1:5701} there); Hazelcast and the event bus bind to {@code 0.0.0.0} and the
 *       public host is given explicitly ({@code 127.0.0.1} here, the container's IP there);</li>
 *   <li>every chunkserver has a fixed data port ({@code 7000} in every container there, a free
 *       port each here) and its own data directory (an anonymous volume each there);</li>
 *   <li>what loopback forces: one host, so every process needs its own Hazelcast port (the
 *       masters' are the ports of the join list) and the data and HTTP ports listen on
 *       {@code 127.0.0.1}.</li>
 * </ul>
 * The gateway and the chunkservers start BEFORE the masters (compose's {@code depends_on} only
 * orders the start): they wait for a master. Then files round-trip over HTTP, and a fifth
 * chunkserver joins as {@code docker compose up --scale chunkserver=5} adds one.
 */
class ComposeTopologyIT {

  private static final int MIB = 1024 * 1024;
  private static final List<String> JVM = List.of("-Xmx256m");

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  @DisplayName("the docker-compose topology as processes: lite members before the masters, join by host name, fixed data ports, scale-out to a 5th chunkserver")
  void composeTopology() {
    long t0 = System.nanoTime();
    // try-with-resources: every process started is killed by PID, whatever fails, start-up too.
    try (ProcessCluster pc = new ProcessCluster(dir)) {
      // master1, master2 (Hazelcast), gateway HTTP, chunkservers 1..5 (data): 8 fixed ports.
      int base = fixedPorts(8, pc.clusterPort());
      int master1Port = base;
      int master2Port = base + 1;
      int httpPort = base + 2;

      // x-vgfs in docker-compose.yml, plus what the image and the entry point set.
      Map<String, String> compose = new LinkedHashMap<>();
      compose.put("VGFS_JOIN", "localhost:" + master1Port + ",localhost:" + master2Port);
      compose.put("VGFS_CLUSTER_HOST", "0.0.0.0");
      compose.put("VGFS_PUBLIC_HOST", "127.0.0.1");
      // Small chunks so that a few MiB make several chunks; fast heartbeats for a short test.
      compose.put("VGFS_CHUNK_SIZE", "1MiB");
      compose.put("VGFS_HEARTBEAT_INTERVAL", "500ms");

      // Lite members first: four chunkservers and the gateway.
      List<ProcessCluster.Proc> chunkservers = new ArrayList<>();
      Map<String, Integer> dataPorts = new HashMap<>();
      for (int i = 1; i <= 4; i++) {
        int port = base + 2 + i;
        chunkservers.add(chunkserver(pc, compose, "chunkserver-" + i, port));
        dataPorts.put("chunkserver-" + i, port);
      }
      ProcessCluster.Proc gateway = pc.start("gateway", "gateway", JVM, compose,
          "--bind", "127.0.0.1", "--http-port", String.valueOf(httpPort));
      List<ProcessCluster.Proc> lite = new ArrayList<>(chunkservers);
      lite.add(gateway);
      for (ProcessCluster.Proc p : lite) {
        TestSupport.poll(60_000, () -> {
          if (!p.alive()) {
            throw new AssertionError(p.name() + " exited; log:\n" + p.tail());
          }
          return p.fullLog().contains("waiting for a master to join the cluster");
        }, p.name() + " to wait for a master");
      }
      for (ProcessCluster.Proc p : lite) {
        assertThat(p.readyLine()).as(p.name() + " is not ready without a master").isNull();
      }
      System.out.printf("lite members waiting for a master after %.1f s%n", secondsSince(t0));

      // Then the masters, together (compose starts them in parallel).
      long mastersStarted = System.nanoTime();
      ProcessCluster.Proc master1 = pc.start("master1", "master", JVM,
          with(compose, "VGFS_DATA_DIR", pc.dataDir("master1").toString()),
          "--cluster-port", String.valueOf(master1Port));
      ProcessCluster.Proc master2 = pc.start("master2", "master", JVM,
          with(compose, "VGFS_DATA_DIR", pc.dataDir("master2").toString()),
          "--cluster-port", String.valueOf(master2Port));
      master1.awaitReady();
      master2.awaitReady();
      for (ProcessCluster.Proc p : lite) {
        p.awaitReady();
      }
      System.out.printf("all ready %.1f s after the masters started%n", secondsSince(mastersStarted));
      for (ProcessCluster.Proc cs : chunkservers) {
        assertThat(ProcessCluster.readyField(cs, "data-port"))
            .isEqualTo(String.valueOf(dataPorts.get(cs.name())));
      }
      assertThat(ProcessCluster.httpPort(gateway)).isEqualTo(httpPort);

      String url = "http://127.0.0.1:" + httpPort;
      awaitCluster(url, 4, dataPorts);
      TestSupport.poll(30_000, () -> http("GET", url + "/health", null).statusCode() == 200,
          "gateway health");

      Map<String, byte[]> files = new LinkedHashMap<>();
      files.put("compose/a.bin", randomBytes(3 * MIB + 123, 51));
      files.put("compose/b.bin", randomBytes(2 * MIB, 52));
      files.put("compose/dir/c.bin", randomBytes(5 * MIB + 7, 53));
      files.forEach((path, data) -> upload(url, path, data));
      verify(url, files);
      System.out.printf("%d files round-trip on 4 chunkservers, %.1f s in%n", files.size(),
          secondsSince(t0));

      // Scale out: docker compose up -d --scale chunkserver=5.
      int port5 = base + 7;
      ProcessCluster.Proc fifth = chunkserver(pc, compose, "chunkserver-5", port5);
      dataPorts.put("chunkserver-5", port5);
      fifth.awaitReady();
      assertThat(ProcessCluster.readyField(fifth, "data-port")).isEqualTo(String.valueOf(port5));
      awaitCluster(url, 5, dataPorts);

      Map<String, byte[]> more = new LinkedHashMap<>();
      more.put("compose/after-scale/d.bin", randomBytes(4 * MIB + 1, 54));
      more.put("compose/after-scale/e.bin", randomBytes(3 * MIB - 5, 55));
      more.forEach((path, data) -> upload(url, path, data));
      files.putAll(more);
      verify(url, files);
      JsonObject listed = json(http("GET", url + "/api/v1/files?prefix=compose/", null));
      assertThat(listed.getJsonArray("files")).hasSize(files.size());
      System.out.printf("scaled out to 5 chunkservers; %d files verified; total %.1f s%n",
          files.size(), secondsSince(t0));
    }
  }

  /**
   * {@code n} consecutive free ports for fixed use, below the kernel's ephemeral range (the fifth
   * chunkserver's port must stay free for half a minute: no outgoing connection or {@code port 0}
   * listener may take it meanwhile) and apart from the range the lite members' Hazelcast ports
   * auto-increment in from {@code clusterPort}.
   */
  private static int fixedPorts(int n, int clusterPort) {
    int ephemeral = 32768;
    try {
      ephemeral = Integer.parseInt(java.nio.file.Files.readString(
          Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: keep the usual start of the range
    }
    int low = 20_000;
    int high = Math.max(low + 1000, ephemeral - n);
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = java.util.concurrent.ThreadLocalRandom.current().nextInt(low, high);
      if (base + n > clusterPort - 2 && base < clusterPort + 30) {
        continue;
      }
      List<java.net.ServerSocket> held = new ArrayList<>();
      try {
        for (int p = base; p < base + n; p++) {
          held.add(new java.net.ServerSocket(p)); // the wildcard address: free on every interface
        }
        return base;
      } catch (java.io.IOException e) {
        // taken: another base
      } finally {
        for (java.net.ServerSocket socket : held) {
          try {
            socket.close();
          } catch (java.io.IOException ignored) {
            // a probe
          }
        }
      }
    }
    throw new IllegalStateException("no " + n + " free consecutive ports");
  }

  /** A chunkserver service replica: its own data directory ("volume"), a fixed data port. */
  private static ProcessCluster.Proc chunkserver(ProcessCluster pc, Map<String, String> compose,
                                                 String name, int port) {
    return pc.start(name, "chunkserver", JVM,
        with(compose, "VGFS_DATA_DIR", pc.dataDir(name).toString()),
        "--port", String.valueOf(port), "--bind", "127.0.0.1");
  }

  /**
   * Waits until the cluster shows two masters (one active, one standby) and exactly
   * {@code n} live chunkservers, each advertised at the public host and its fixed port.
   */
  private static void awaitCluster(String url, int n, Map<String, Integer> dataPorts) {
    JsonObject[] last = new JsonObject[1];
    try {
      TestSupport.poll(60_000, () -> {
        JsonObject st = json(http("GET", url + "/api/v1/cluster", null));
        last[0] = st;
        JsonArray masters = st.getJsonArray("masters");
        long active = masters.stream().map(o -> (JsonObject) o)
            .filter(m -> "active".equals(m.getString("role"))).count();
        long alive = st.getJsonArray("chunkservers").stream().map(o -> (JsonObject) o)
            .filter(c -> c.getBoolean("alive", false)).count();
        return masters.size() == 2 && active == 1 && st.getInteger("liveChunkservers", 0) == n
            && alive == n;
      }, "2 masters (1 active) and " + n + " live chunkservers");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last status: " + last[0], e);
    }
    JsonObject st = last[0];
    assertThat(st.getString("activeMaster")).isNotNull();
    List<Integer> ports = new ArrayList<>();
    st.getJsonArray("chunkservers").stream().map(o -> (JsonObject) o)
        .filter(c -> c.getBoolean("alive", false)).forEach(c -> {
          assertThat(c.getString("host")).as("advertised host of " + c.getString("id"))
              .isEqualTo("127.0.0.1");
          ports.add(c.getInteger("port"));
        });
    assertThat(ports).containsExactlyInAnyOrderElementsOf(dataPorts.values());
  }

  private static void upload(String url, String path, byte[] data) {
    HttpResponse<byte[]> put = http("PUT", url + "/api/v1/files/" + path, data);
    assertThat(put.statusCode()).as("PUT " + path + ": " + new String(put.body()))
        .isEqualTo(201);
    JsonObject info = json(put);
    assertThat(info.getLong("size")).isEqualTo(data.length);
    assertThat(info.getInteger("chunks")).isEqualTo((data.length + MIB - 1) / MIB);
  }

  private static void verify(String url, Map<String, byte[]> files) {
    files.forEach((path, data) -> {
      HttpResponse<byte[]> get = http("GET", url + "/api/v1/files/" + path, null);
      assertThat(get.statusCode()).as("GET " + path).isEqualTo(200);
      assertThat(sha256(get.body())).as("SHA-256 of " + path).isEqualTo(sha256(data));
    });
  }

  private static Map<String, String> with(Map<String, String> env, String key, String value) {
    Map<String, String> m = new LinkedHashMap<>(env);
    m.put(key, value);
    return m;
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(Buffer.buffer(r.body()));
  }

  private static double secondsSince(long t) {
    return (System.nanoTime() - t) / 1e9;
  }
}
