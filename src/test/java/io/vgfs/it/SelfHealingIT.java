package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.launcher.Cluster;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.ServerAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster heals itself, with real processes and real disks: lost replicas are copied again,
 * corruption is found and repaired, stale replicas are discarded, the trash gives files back and
 * then their space, and replicas spread onto new chunkservers and off drained ones.
 */
class SelfHealingIT {

  static final int MIB = 1024 * 1024;

  @TempDir
  Path dir;
  private ProcessCluster pc;
  private Cluster.Node member;
  private String base;
  private final Map<String, ProcessCluster.Proc> servers = new HashMap<>(); // id → process
  private final Map<String, byte[]> files = new HashMap<>();

  @AfterEach
  void stop() {
    if (member != null) {
      await(member.close());
    }
    if (pc != null) {
      pc.close();
    }
  }

  private void start(int chunkservers, String... flags) {
    List<String> all = new ArrayList<>(List.of("--chunk-size", "1MiB", "--heartbeat-interval",
        "500ms", "--dead-after", "3", "--repair-rate", "0", "--scrub-pause", "1s"));
    all.addAll(List.of(flags));
    pc = new ProcessCluster(dir, all.toArray(String[]::new));
    pc.master("master").awaitReady();
    for (int i = 1; i <= chunkservers; i++) {
      addServer("cs" + i);
    }
    ProcessCluster.Proc gw = pc.gateway("gateway", List.of());
    gw.awaitReady();
    base = "http://127.0.0.1:" + ProcessCluster.httpPort(gw);
    member = await(Cluster.start(pc.memberSettings(), false));
    TestSupport.poll(30_000, () -> status().getInteger("liveChunkservers") == chunkservers,
        chunkservers + " live chunkservers");
  }

  private String addServer(String name) {
    ProcessCluster.Proc p = pc.chunkserver(name);
    p.awaitReady();
    String id = ProcessCluster.readyField(p, "id");
    servers.put(id, p);
    return id;
  }

  private JsonObject status() {
    return new JsonObject(Buffer.buffer(http("GET", base + "/api/v1/cluster", null).body()));
  }

  private void write(String path, byte[] data) {
    assertThat(http("PUT", base + "/api/v1/files/" + path, data).statusCode()).isEqualTo(201);
    files.put(path, data);
  }

  private void readAllBack() {
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      java.net.http.HttpResponse<byte[]> r = http("GET", base + "/api/v1/files/" + e.getKey(), null);
      assertThat(r.statusCode()).as(e.getKey()).isEqualTo(200);
      assertThat(sha256(r.body())).as(e.getKey()).isEqualTo(sha256(e.getValue()));
    }
  }

  private FileInfo lookup(String path) {
    return FileInfo.fromJson(await(member.vertx().eventBus().<JsonObject>request(Addresses.LOOKUP,
        new JsonObject().put("path", path))).body());
  }

  /** Every chunk of every file on exactly {@code n} servers, all of them alive. */
  private boolean fullyReplicated(int n) {
    JsonObject st = status();
    if (st.getInteger("underReplicatedChunks") != 0) {
      return false;
    }
    for (String path : files.keySet()) {
      for (ChunkRef c : lookup(path).chunks()) {
        if (c.replicas().size() != n || c.replicas().stream()
            .anyMatch(r -> !servers.get(r.id()).alive())) {
          return false;
        }
      }
    }
    return true;
  }

  private static long chunkFiles(Path dir) {
    if (!Files.exists(dir.resolve("chunks"))) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir.resolve("chunks"))) {
      return s.filter(p -> p.toString().endsWith(".chunk")).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1; // a file vanished mid-walk: ask again
    }
  }

  private java.util.Set<Path> chunkFileSet() {
    java.util.Set<Path> out = new java.util.HashSet<>();
    for (ProcessCluster.Proc p : servers.values()) {
      Path chunks = dir.resolve(p.name).resolve("chunks");
      if (Files.exists(chunks)) {
        try (Stream<Path> s = Files.walk(chunks)) {
          s.filter(f -> f.toString().endsWith(".chunk")).forEach(out::add);
        } catch (IOException | java.io.UncheckedIOException e) {
          return chunkFileSet(); // a file vanished mid-walk: look again
        }
      }
    }
    return out;
  }

  private long chunkFilesEverywhere() {
    long n = 0;
    for (ProcessCluster.Proc p : servers.values()) {
      n += chunkFiles(dir.resolve(p.name));
    }
    return n;
  }

  @Test
  @DisplayName("a lost server, a flipped byte, stale replicas and the trash: the cluster repairs and reclaims by itself")
  void heals() throws Exception {
    start(4, "--scrub-rate", "64MiB", "--trash-retention", "3s", "--uncommitted-timeout", "3s");
    for (int i = 0; i < 12; i++) {
      write("heal/f" + i, randomBytes(2 * MIB + 1000 * i, i));
    }
    TestSupport.poll(20_000, () -> fullyReplicated(3), "initial replication");

    // 1. kill -9 one of four chunkservers: reads work at once, then replication is restored.
    ProcessCluster.Proc victim = servers.values().iterator().next();
    long killed = System.nanoTime();
    victim.kill9();
    readAllBack();
    TestSupport.poll(60_000, () -> fullyReplicated(3), "re-replication after the kill");
    double repairSeconds = (System.nanoTime() - killed) / 1e9;
    JsonObject repair = status().getJsonObject("repair");
    System.out.printf("repair after kill -9 of 1 of 4 chunkservers: %.1f s to full replication, "
        + "%d chunks (%.1f MiB) copied%n", repairSeconds, repair.getLong("copiesDone"),
        repair.getLong("bytesCopied") / (double) MIB);
    readAllBack();

    // 2. A byte flipped on disk: reads stay right, the scrubber finds it, the replica is repaired.
    FileInfo f0 = lookup("heal/f0");
    ChunkRef chunk = f0.chunks().get(1);
    ServerAddress holder = chunk.replicas().get(0);
    Path file = chunkFile(dir.resolve(servers.get(holder.id()).name), chunk.id());
    byte[] good = Files.readAllBytes(file);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(100_000);
      int b = raf.read();
      raf.seek(100_000);
      raf.write(b ^ 0xff);
    }
    long flipped = System.nanoTime();
    // No reads until the scrubber has found it: a reader meeting the bad block would report it
    // first (which also gets it repaired, but this is about the scrubber).
    TestSupport.poll(60_000, () -> servers.get(holder.id()).fullLog().contains("is corrupt"),
        "the scrubber to find the corruption");
    readAllBack();
    TestSupport.poll(60_000, () -> fullyReplicated(3) && status().getInteger("corruptChunks") == 0,
        "the corrupt replica replaced");
    System.out.printf("scrub: corruption found and repaired %.1f s after the flip%n",
        (System.nanoTime() - flipped) / 1e9);
    for (ServerAddress r : lookup("heal/f0").chunks().get(1).replicas()) {
      assertThat(Files.readAllBytes(chunkFile(dir.resolve(servers.get(r.id()).name), chunk.id())))
          .isEqualTo(good);
    }

    // 3. A chunkserver away while files are overwritten and deleted: its stale replicas go.
    addServer("cs5"); // back to 4 live servers, so 3 remain while one is away
    ProcessCluster.Proc away = servers.values().stream()
        .filter(p -> p.alive() && !p.name.equals("cs5")).findFirst().get();
    long before = chunkFiles(dir.resolve(away.name));
    away.kill9();
    TestSupport.poll(20_000, () -> status().getInteger("liveChunkservers") == 3,
        "the master to see the server gone");
    for (int i = 0; i < 6; i++) {
      write("heal/f" + i, randomBytes(MIB + 7 * i, 100 + i)); // overwritten: 2-3 chunks → 1
    }
    http("DELETE", base + "/api/v1/files/heal/f6", null);
    http("DELETE", base + "/api/v1/files/heal/f7", null);
    files.remove("heal/f6");
    files.remove("heal/f7");
    TestSupport.poll(30_000, () -> status().getInteger("trashedFiles") == 0, "the trash purged");
    away.restart();
    away.awaitReady();
    long restarted = System.nanoTime();
    while (System.nanoTime() - restarted < 3_000_000_000L) {
      readAllBack(); // never the old bytes, while the old replicas are still on its disk
    }
    TestSupport.poll(30_000, () -> chunkFiles(dir.resolve(away.name)) < before / 2,
        "the returning server's stale replicas to be deleted");
    TestSupport.poll(60_000, () -> fullyReplicated(3), "full replication again");
    readAllBack();

    // 4. The trash: delete, restore, delete again, purged after the retention; space comes back.
    long withFile = chunkFilesEverywhere();
    assertThat(http("DELETE", base + "/api/v1/files/heal/f8", null).statusCode()).isEqualTo(204);
    assertThat(http("GET", base + "/api/v1/files/heal/f8", null).statusCode()).isEqualTo(404);
    JsonArray trash = new JsonObject(Buffer.buffer(
        http("GET", base + "/api/v1/trash?prefix=heal/", null).body())).getJsonArray("files");
    assertThat(trash.stream().map(o -> ((JsonObject) o).getString("path"))).contains("heal/f8");
    assertThat(http("POST", base + "/api/v1/trash/heal/f8/restore", new byte[0]).statusCode())
        .isEqualTo(200);
    assertThat(sha256(http("GET", base + "/api/v1/files/heal/f8", null).body()))
        .isEqualTo(sha256(files.get("heal/f8")));
    assertThat(http("DELETE", base + "/api/v1/files/heal/f8", null).statusCode()).isEqualTo(204);
    files.remove("heal/f8");
    TestSupport.poll(30_000, () -> status().getInteger("trashedFiles") == 0, "the retention to end");
    assertThat(http("POST", base + "/api/v1/trash/heal/f8/restore", new byte[0]).statusCode())
        .isEqualTo(404);
    TestSupport.poll(30_000, () -> chunkFilesEverywhere() <= withFile - 9,
        "the purged file's chunks deleted from disk");

    // 5. An abandoned upload's chunks are reclaimed after the uncommitted timeout.
    java.util.Set<Path> beforeFiles = chunkFileSet();
    long beforeUpload = chunkFilesEverywhere();
    try (Socket s = new Socket("127.0.0.1", Integer.parseInt(base.replaceAll(".*:", "")))) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /api/v1/files/heal/abandoned HTTP/1.1\r\nHost: x\r\nContent-Length: "
          + (10 * MIB) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(randomBytes(3 * MIB, 9));
      out.flush();
      TestSupport.poll(20_000, () -> chunkFilesEverywhere() >= beforeUpload + 6, "chunks stored");
    }
    java.util.Set<Path> uploaded = chunkFileSet();
    uploaded.removeAll(beforeFiles);
    assertThat(uploaded).hasSizeGreaterThanOrEqualTo(6);
    TestSupport.poll(30_000, () -> uploaded.stream().noneMatch(Files::exists),
        "the abandoned upload's chunks reclaimed");
    assertThat(http("GET", base + "/api/v1/files/heal/abandoned", null).statusCode()).isEqualTo(404);
    readAllBack();
  }

  @Test
  @DisplayName("two chunkservers added to a loaded cluster get their share; a drained server can be stopped safely")
  void balancesAndDrains() throws Exception {
    start(3, "--capacity", "40MiB", "--balance-spread", "10", "--scrub-rate", "0");
    for (int i = 0; i < 12; i++) {
      write("bal/f" + i, randomBytes(2 * MIB, 200 + i));
    }
    TestSupport.poll(20_000, () -> fullyReplicated(3), "initial replication");
    addServer("cs4");
    addServer("cs5");
    long added = System.nanoTime();
    TestSupport.poll(120_000, () -> spread(status()) <= 10.0, "disk use within 10 points");
    JsonObject st = status();
    System.out.printf("balancer: disk use within %.1f points %.1f s after adding 2 servers "
        + "(%d replicas moved)%n", spread(st), (System.nanoTime() - added) / 1e9,
        st.getJsonObject("repair").getLong("movesDone"));
    TestSupport.poll(30_000, () -> fullyReplicated(3), "replication kept while balancing");
    readAllBack();

    // Drain the fullest server, watch the progress, stop it: nothing falls below 3 replicas.
    String drained = fullest(status());
    JsonObject started = new JsonObject(Buffer.buffer(http("POST",
        base + "/api/v1/cluster/chunkservers/" + drained + "/drain", new byte[0]).body()));
    assertThat(started.getBoolean("draining")).isTrue();
    TestSupport.poll(60_000, () -> "drained".equals(serverState(status(), drained)),
        "the drain to complete");
    assertThat(status().getInteger("underReplicatedChunks")).isZero();
    servers.get(drained).kill9();
    TestSupport.poll(10_000, () -> !status().getJsonArray("chunkservers").stream()
        .map(o -> (JsonObject) o).filter(c -> c.getString("id").equals(drained))
        .findFirst().get().getBoolean("alive"), "the drained server seen dead");
    for (int i = 0; i < 5; i++) {
      assertThat(status().getInteger("underReplicatedChunks")).isZero();
      Thread.sleep(200);
    }
    readAllBack();
  }

  private static double spread(JsonObject st) {
    double min = 100;
    double max = 0;
    for (Object o : st.getJsonArray("chunkservers")) {
      JsonObject c = (JsonObject) o;
      if (c.getBoolean("alive") && c.getLong("capacityBytes") > 0) {
        double use = 100.0 * c.getLong("usedBytes") / c.getLong("capacityBytes");
        min = Math.min(min, use);
        max = Math.max(max, use);
      }
    }
    return max - min;
  }

  private static String fullest(JsonObject st) {
    return st.getJsonArray("chunkservers").stream().map(o -> (JsonObject) o)
        .filter(c -> c.getBoolean("alive"))
        .max(java.util.Comparator.comparingLong(c -> c.getLong("usedBytes"))).get().getString("id");
  }

  private static String serverState(JsonObject st, String id) {
    return st.getJsonArray("chunkservers").stream().map(o -> (JsonObject) o)
        .filter(c -> c.getString("id").equals(id)).findFirst().get().getString("state");
  }

  private static Path chunkFile(Path dataDir, long chunkId) {
    String hex = String.format("%016x", chunkId);
    return dataDir.resolve("chunks").resolve(hex + ".chunk");
  }
}
