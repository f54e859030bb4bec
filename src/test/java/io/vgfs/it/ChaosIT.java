package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults picked at random, one after another, under a mixed load of uploads, deletions and
 * record appends, with every role a separate process: two masters, four chunkservers, a gateway.
 * A fault is a {@code kill -9} of a chunkserver (restarted once writes have gone on without it),
 * a chunkserver frozen with SIGSTOP (resumed likewise), a {@code kill -9} of the active master
 * (restarted as the standby once its successor has taken over), the active master frozen until a
 * standby has taken over (then resumed: it must step down), or a {@code kill -9} of the gateway.
 * Between faults the load must make progress. At the end the cluster must heal (every chunk at three replicas,
 * a standby in sync) and then every acknowledged upload reads back by SHA-256, every acknowledged
 * deletion is gone, no file exists torn, and every record is in the log exactly once; the same
 * again after all processes are killed at once and restarted.
 *
 * <p>Slow (tag {@code slow}): {@code mvn verify -Pslow -Dit.test=ChaosIT}. {@code -Dchaos.seconds}
 * (default 180) sets how long faults are injected, {@code -Dchaos.seed} replays a run's choices
 * (its seed is printed first).
 */
@Tag("slow")
class ChaosIT {

  private static final int CHUNKSERVERS = 4;

  @TempDir
  Path dir;
  private ProcessCluster pc;
  private final List<ProcessCluster.Proc> masters = new ArrayList<>();
  private final List<ProcessCluster.Proc> chunkservers = new ArrayList<>();
  private ProcessCluster.Proc gateway;
  private String base;
  private final List<String> report = new ArrayList<>();

  @AfterEach
  void stop() {
    if (pc != null) {
      pc.close(); // every process by PID, whatever happened
    }
  }

  @Test
  @DisplayName("random kill -9 and SIGSTOP of chunkservers, masters and the gateway under load: nothing acknowledged is lost, nothing torn, appends exactly once")
  void randomFaultsUnderLoad() {
    long seed = Long.getLong("chaos.seed", System.nanoTime());
    long seconds = Long.getLong("chaos.seconds", 180);
    System.out.printf("chaos: seed %d (-Dchaos.seed=%d replays the choices), %d s of faults%n",
        seed, seed, seconds);
    Random rnd = new Random(seed);
    startCluster();
    ChaosLoad load = new ChaosLoad(base, 2, 2, 1);
    ChaosSnapshots snapshots = new ChaosSnapshots(load, base);
    try {
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      for (int round = 1; System.nanoTime() < end; round++) {
        awaitProgress(load, "before fault " + round);
        // Every chunkserver back in the master's view, so that a failure names the fault it
        // follows (a server still alive but cut off from the master would otherwise surface
        // only when the next kill leaves too few).
        int r = round;
        TestSupport.poll(60_000, () -> status().getInteger("liveChunkservers", 0) == CHUNKSERVERS,
            () -> "all " + CHUNKSERVERS + " chunkservers live before fault " + r + " ("
                + statusOrError() + ")");
        int pick = rnd.nextInt(14);
        long t0 = System.nanoTime();
        String fault;
        ProcessCluster.Proc cs = chunkservers.get(rnd.nextInt(CHUNKSERVERS));
        if (pick < 3) {
          fault = killChunkserver(load, cs);
        } else if (pick < 5) {
          fault = freezeChunkserver(load, cs);
        } else if (pick < 7) {
          fault = killActiveMaster(load);
        } else if (pick < 8) {
          fault = freezeActiveMaster(load);
        } else if (pick < 10) {
          fault = killGateway(load);
        } else if (pick < 12) {
          fault = wipeChunkserver(load, cs);
        } else {
          fault = rotChunk(load, cs, rnd);
        }
        report.add(String.format("fault %d: %s; %.1f s until recovered and writes went on", round,
            fault, (System.nanoTime() - t0) / 1e9));
        System.out.println(report.get(report.size() - 1));
      }
    } finally {
      load.close();
    }
    System.out.printf("chaos: %d files acknowledged of %d attempted, %d deletions and %d renames "
            + "acknowledged (%d unknown), %d appends, %d reads checked, %d snapshots kept (%d "
            + "deleted); %d requests refused%n", load.ackedUploads(), load.attempted.size(),
        load.deletions.get(), load.renames.get(), load.maybeDeleted.size(), load.ackedAppends(),
        load.reads.get(), snapshots.live.size(), snapshots.deleted.size(), load.refused.get());
    assertThat(load.errors).as("wrong bytes read, acknowledged files missing, records given up")
        .isEmpty();
    assertThat(load.ackedUploads()).isGreaterThan(0);

    awaitHealed();
    verify(load, snapshots, "after the faults");

    // Everything at once: what was acknowledged is on disk, metadata included.
    pc.byName().values().forEach(ProcessCluster.Proc::kill9);
    pc.byName().values().forEach(ProcessCluster.Proc::restart);
    pc.byName().values().forEach(p -> p.awaitReady());
    awaitHealed();
    verify(load, snapshots, "after killing every process at once and restarting them");
    report.forEach(System.out::println);
  }

  @Test
  @DisplayName("a chunkserver that wakes up alone while the active master is replaced comes back to the new master")
  void frozenAcrossTakeover() {
    startCluster();
    ProcessCluster.Proc cs = chunkservers.get(3);
    long t0 = System.nanoTime();
    ProcessCluster.signal(cs, "STOP");
    try {
      TestSupport.poll(30_000, () -> System.nanoTime() - t0 > 9_000_000_000L, "9 s frozen");
    } finally {
      ProcessCluster.signal(cs, "CONT");
    }
    // Alone now (the cluster dropped it); the master changes before it merges back.
    ProcessCluster.Proc victim = activeMaster();
    victim.kill9();
    awaitTakeoverFrom(victim);
    victim.restart().awaitReady();
    TestSupport.poll(90_000, () -> cs.fullLog().contains("registrations published again"),
        () -> cs.name() + " to merge back; its log ends:\n" + cs.tail());
    TestSupport.poll(60_000, () -> status().getInteger("liveChunkservers", 0) == CHUNKSERVERS,
        () -> "all chunkservers live (" + statusOrError() + "); " + cs.name() + "'s log ends:\n"
            + cs.tail());
  }

  private void startCluster() {
    // Scrubbing often, so that a flipped byte is found while the run goes on.
    pc = new ProcessCluster(dir, "--chunk-size", "1MiB", "--heartbeat-interval", "500ms",
        "--dead-after", "3", "--cold-start-wait", "3s", "--scrub-rate", "32MiB",
        "--scrub-pause", "2s");
    for (String name : List.of("m1", "m2")) {
      ProcessCluster.Proc m = pc.master(name);
      m.awaitReady();
      masters.add(m);
    }
    for (int i = 1; i <= CHUNKSERVERS; i++) {
      chunkservers.add(pc.chunkserver("cs" + i));
    }
    int port = TestCluster.freePortRange(1);
    gateway = pc.start("gateway", "gateway", List.of(), Map.of(), "--http-port",
        String.valueOf(port));
    chunkservers.forEach(p -> p.awaitReady());
    gateway.awaitReady();
    base = "http://127.0.0.1:" + port;
    awaitHealed();
  }

  private JsonObject status() {
    return new JsonObject(Buffer.buffer(http("GET", base + "/api/v1/cluster", null).body()));
  }

  private String statusOrError() {
    try {
      return status().encode();
    } catch (RuntimeException e) {
      return "status: " + e;
    }
  }

  // Both kinds of write went on: some uploads and some appends acknowledged since the call.
  private void awaitProgress(ChaosLoad load, String when) {
    int uploads = load.ackedUploads();
    int appends = load.ackedAppends();
    TestSupport.poll(90_000, () -> load.ackedUploads() >= uploads + 3
            && load.ackedAppends() >= appends + 3,
        () -> "uploads and appends to go on " + when + " (" + (load.ackedUploads() - uploads)
            + " uploads, " + (load.ackedAppends() - appends) + " appends acknowledged; last "
            + "refusals " + lastRefusals(load) + "; " + statusOrError() + ")");
  }

  private static String lastRefusals(ChaosLoad load) {
    synchronized (load.refusals) {
      int n = load.refusals.size();
      return load.refusals.subList(Math.max(0, n - 5), n).toString();
    }
  }

  private String killChunkserver(ChaosLoad load, ProcessCluster.Proc cs) {
    cs.kill9();
    awaitProgress(load, "with " + cs.name() + " killed");
    cs.restart().awaitReady();
    return "kill -9 " + cs.name();
  }

  // Frozen for at least 8 s, past Hazelcast's 6 s without heartbeats: the cluster drops it, and
  // it wakes up alone and merges back (the path that once erased everyone's registrations).
  private String freezeChunkserver(ChaosLoad load, ProcessCluster.Proc cs) {
    long t0 = System.nanoTime();
    ProcessCluster.signal(cs, "STOP");
    try {
      awaitProgress(load, "with " + cs.name() + " frozen");
      TestSupport.poll(30_000, () -> System.nanoTime() - t0 > 8_000_000_000L, "8 s frozen");
    } finally {
      ProcessCluster.signal(cs, "CONT");
    }
    return "SIGSTOP " + cs.name() + ", then SIGCONT";
  }

  // The process of the master the cluster status names active.
  private ProcessCluster.Proc activeMaster() {
    String activeId = status().getString("activeMaster");
    return masters.stream().filter(m -> activeId.equals(ProcessCluster.readyField(m, "id")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no process for active master " + activeId));
  }

  private void awaitTakeoverFrom(ProcessCluster.Proc old) {
    String oldId = ProcessCluster.readyField(old, "id");
    TestSupport.poll(60_000, () -> {
      String now = status().getString("activeMaster");
      return now != null && !now.equals(oldId);
    }, () -> "a standby to take over from " + old.name() + " (" + statusOrError() + ")");
  }

  private String killActiveMaster(ChaosLoad load) {
    ProcessCluster.Proc victim = activeMaster();
    victim.kill9();
    awaitTakeoverFrom(victim);
    awaitProgress(load, "after " + victim.name() + "'s take-over");
    victim.restart().awaitReady();
    awaitStandbyInSync();
    return "kill -9 active master " + victim.name();
  }

  // Frozen until a standby has taken over and writes went on; resumed, it must find itself
  // replaced, step down and follow the new master as its standby.
  private String freezeActiveMaster(ChaosLoad load) {
    ProcessCluster.Proc victim = activeMaster();
    ProcessCluster.signal(victim, "STOP");
    try {
      awaitTakeoverFrom(victim);
      awaitProgress(load, "after " + victim.name() + " froze and was replaced");
    } finally {
      ProcessCluster.signal(victim, "CONT");
    }
    awaitStandbyInSync();
    return "SIGSTOP active master " + victim.name() + ", then SIGCONT";
  }

  // The disk's contents lost: the server comes back empty under its old identity.
  private String wipeChunkserver(ChaosLoad load, ProcessCluster.Proc cs) {
    cs.kill9();
    Path data = pc.dataDir(cs.name());
    int removed = 0;
    for (String sub : List.of("chunks", "tmp", "free")) {
      removed += deleteContents(data.resolve(sub));
    }
    awaitProgress(load, "with " + cs.name() + " killed");
    cs.restart().awaitReady();
    return "kill -9 " + cs.name() + " and wipe its " + removed + " chunk files";
  }

  private static int deleteContents(Path d) {
    if (!Files.isDirectory(d)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(d)) {
      List<Path> all = files.toList();
      for (Path f : all) {
        Files.delete(f);
      }
      return all.size();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // One byte of a stored replica flipped while its server runs: reads must not return it, and
  // the replica must be found (by the scrubber or a reader) and copied again from a good one.
  private String rotChunk(ChaosLoad load, ProcessCluster.Proc cs, Random rnd) {
    Path chunks = pc.dataDir(cs.name()).resolve("chunks");
    List<Path> files;
    try (Stream<Path> s = Files.list(chunks)) {
      files = s.filter(p -> p.toString().endsWith(".chunk")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int tries = 0; tries < 20 && !files.isEmpty(); tries++) {
      Path f = files.get(rnd.nextInt(files.size()));
      try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
        long size = raf.length();
        if (size == 0) {
          continue;
        }
        long at = (long) (rnd.nextDouble() * size);
        raf.seek(at);
        int good = raf.read();
        raf.seek(at);
        raf.write(good ^ 0x5a);
        awaitProgress(load, "after a flipped byte in " + f.getFileName());
        TestSupport.poll(120_000, () -> restoredOrGone(f, at, good),
            () -> "the flipped byte at " + at + " of " + f + " repaired (" + statusOrError() + ")");
        return "flip byte " + at + " of " + size + " in " + cs.name() + "'s " + f.getFileName();
      } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
        // deleted meanwhile: pick another
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return "no chunk file to flip a byte in on " + cs.name();
  }

  private static boolean restoredOrGone(Path f, long at, int good) {
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
      if (raf.length() <= at) {
        return true; // replaced by a shorter file: not the replica that was flipped
      }
      raf.seek(at);
      return raf.read() == good;
    } catch (java.io.FileNotFoundException e) {
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String killGateway(ChaosLoad load) {
    gateway.kill9();
    gateway.restart().awaitReady();
    awaitProgress(load, "after the gateway's restart");
    return "kill -9 gateway";
  }

  private void awaitStandbyInSync() {
    TestSupport.poll(90_000, () -> {
      JsonObject st = status();
      JsonArray ms = st.getJsonArray("masters");
      return ms.size() == 2 && st.getBoolean("mapsSafe", false) && ms.stream()
          .map(o -> (JsonObject) o).anyMatch(m -> m.getBoolean("inSync", false));
    }, () -> "a standby in sync (" + statusOrError() + ")");
  }

  // An active master, a standby in sync, every chunkserver live, every chunk at full replication.
  private void awaitHealed() {
    TestSupport.poll(180_000, () -> http("GET", base + "/health", null).statusCode() == 200,
        () -> "a healthy cluster (" + statusOrError() + ")");
    awaitStandbyInSync();
    TestSupport.poll(240_000, () -> {
      JsonObject st = status();
      return st.getInteger("liveChunkservers", 0) == CHUNKSERVERS
          && st.getInteger("underReplicatedChunks", -1) == 0
          && st.getInteger("corruptChunks", -1) == 0;
    }, () -> "every chunk re-replicated (" + statusOrError() + ")");
  }

  private void verify(ChaosLoad load, ChaosSnapshots snapshots, String when) {
    int checked = 0;
    for (Map.Entry<String, String> e : load.acked.entrySet()) {
      String path = e.getKey();
      HttpResponse<byte[]> r = http("GET", base + "/api/v1/files/" + path, null);
      if (load.deleted.contains(path)) {
        assertThat(r.statusCode()).as(when + ": deleted " + path).isEqualTo(404);
      } else if (load.maybeDeleted.contains(path) && r.statusCode() == 404) {
        continue;
      } else {
        assertThat(sha256(r.body())).as(when + ": acknowledged " + path + " (" + r.statusCode()
            + ")").isEqualTo(e.getValue());
      }
      checked++;
    }
    // Files that exist without an acknowledgement are whole, never torn.
    Set<String> listed = listFiles();
    int unacked = 0;
    for (String path : listed) {
      assertThat(load.attempted).as(when + ": listed " + path).containsKey(path);
      assertThat(load.deleted).as(when + ": deleted " + path + " is listed").doesNotContain(path);
      if (!load.acked.containsKey(path)) {
        assertThat(sha256(http("GET", base + "/api/v1/files/" + path, null).body()))
            .as(when + ": unacknowledged " + path).isEqualTo(load.attempted.get(path).sha());
        unacked++;
      }
    }
    for (String path : load.acked.keySet()) {
      if (!load.deleted.contains(path) && !load.maybeDeleted.contains(path)) {
        assertThat(listed).as(when + ": listing").contains(path);
      }
    }
    // A rename with an unknown outcome happened or not: the file is at exactly one of its paths.
    load.maybeRenamed.forEach((from, to) -> assertThat(listed.contains(from) ^ listed.contains(to))
        .as(when + ": " + from + " renamed to " + to + " or not, never both or neither").isTrue());
    byte[] log = verifyLog(load, when);
    String snaps = snapshots.verify(when, log);
    report.add(snaps);
    System.out.println(snaps);
    String line = String.format("%s: %d acknowledged uploads and deletions checked, %d files that "
        + "exist without an acknowledgement are whole, %d appends each once", when, checked,
        unacked, load.ackedAppends());
    report.add(line);
    System.out.println(line);
  }

  private Set<String> listFiles() {
    Set<String> paths = new HashSet<>();
    String after = "";
    while (true) {
      JsonObject page = new JsonObject(Buffer.buffer(http("GET", base + "/api/v1/files?prefix="
          + ChaosLoad.FILES + "&limit=1000&after=" + URLEncoder.encode(after,
          StandardCharsets.UTF_8), null).body()));
      for (Object o : page.getJsonArray("files")) {
        paths.add(((JsonObject) o).getString("path"));
      }
      if (!page.getBoolean("truncated", false)) {
        return paths;
      }
      after = page.getString("next");
    }
  }

  // Every acknowledged record at the offset its reply named, and nothing else in the log.
  private byte[] verifyLog(ChaosLoad load, String when) {
    byte[] log = http("GET", base + "/api/v1/files/" + ChaosLoad.LOG, null).body();
    boolean[] covered = new boolean[log.length];
    long total = 0;
    for (ChaosLoad.Appended a : load.appended.values()) {
      byte[] expected = AppendIT.record(a.writer(), a.n());
      assertThat(a.length()).isEqualTo(expected.length);
      assertThat(a.offset() + a.length()).as(when + ": record end within the log")
          .isLessThanOrEqualTo(log.length);
      byte[] at = java.util.Arrays.copyOfRange(log, (int) a.offset(),
          (int) (a.offset() + a.length()));
      assertThat(at).as(when + ": record w" + a.writer() + " n" + a.n() + " at " + a.offset())
          .isEqualTo(expected);
      for (long i = a.offset(); i < a.offset() + a.length(); i++) {
        assertThat(covered[(int) i]).as(when + ": byte " + i + " claimed twice").isFalse();
        covered[(int) i] = true;
      }
      total += expected.length;
    }
    assertThat((long) log.length).as(when + ": log length (no padding, no duplicate)")
        .isEqualTo(total);
    return log;
  }
}
