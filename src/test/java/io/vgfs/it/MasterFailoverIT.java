package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.launcher.Cluster;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.data.Frame;
import io.vgfs.protocol.data.FrameDecoder;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.Frames;
import io.vgfs.protocol.data.WriteOpen;
import io.vgfs.protocol.Durability;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Master high availability with real processes: two masters, three chunkservers and a gateway,
 * under a write load, while the active master is killed, paused and resumed, and while everything
 * is killed at once.
 */
class MasterFailoverIT {

  @TempDir
  Path dir;

  private ProcessCluster pc;
  private final Map<String, ProcessCluster.Proc> masters = new java.util.HashMap<>();
  private final List<ProcessCluster.Proc> chunkservers = new ArrayList<>();
  private String base;

  @org.junit.jupiter.api.AfterEach
  void stopProcesses() {
    if (pc != null) {
      pc.close(); // every process by PID, whatever happened in the test
    }
  }

  private void startCluster() {
    pc = new ProcessCluster(dir, "--chunk-size", "1MiB", "--heartbeat-interval", "500ms",
        "--cold-start-wait", "3s");
    for (String name : List.of("m1", "m2")) {
      ProcessCluster.Proc m = pc.master(name);
      m.awaitReady();
      masters.put(ProcessCluster.readyField(m, "id"), m);
    }
    for (int i = 1; i <= 3; i++) {
      chunkservers.add(pc.chunkserver("cs" + i));
    }
    ProcessCluster.Proc gw = pc.gateway("gateway", List.of());
    chunkservers.forEach(p -> p.awaitReady());
    gw.awaitReady();
    base = "http://127.0.0.1:" + ProcessCluster.httpPort(gw);
    awaitHealthyWithStandby();
  }

  private JsonObject status() {
    return new JsonObject(Buffer.buffer(http("GET", base + "/api/v1/cluster", null).body()));
  }

  // For failure messages: what the cluster status says, or why it could not be read.
  private String statusOrError() {
    try {
      JsonObject st = status();
      return "status: active " + st.getString("activeMaster") + " epoch " + st.getLong("epoch")
          + " masters " + st.getJsonArray("masters") + " live chunkservers "
          + st.getInteger("liveChunkservers") + " mapsSafe " + st.getBoolean("mapsSafe");
    } catch (RuntimeException e) {
      return "status: " + e;
    }
  }

  // For failure messages: the end of each master's log.
  private String masterTails() {
    StringBuilder sb = new StringBuilder();
    masters.forEach((id, m) -> sb.append("\n--- ").append(m.name).append(" (").append(id)
        .append(")\n").append(m.tail()));
    return sb.toString();
  }

  private static String tail(List<String> list, int n) {
    synchronized (list) {
      return list.subList(Math.max(0, list.size() - n), list.size()).toString();
    }
  }

  private void awaitHealthyWithStandby() {
    TestSupport.poll(60_000, () -> {
      JsonObject st = status();
      JsonArray ms = st.getJsonArray("masters");
      // mapsSafe: Hazelcast has finished moving map partitions to a standby that just joined; a
      // crash before that loses partitions and costs the take-over ~3 s (its migration pause).
      return st.getInteger("liveChunkservers", 0) == 3 && ms.size() == 2
          && ms.stream().map(o -> (JsonObject) o).anyMatch(m -> m.getBoolean("inSync", false))
          && st.getBoolean("mapsSafe", false);
    }, () -> "an active master, an in-sync standby, 3 chunkservers and the maps backed up ("
        + statusOrError() + ")" + masterTails());
  }

  private ProcessCluster.Proc active() {
    return masters.get(status().getString("activeMaster"));
  }

  private void verifyAll(WriteLoad load) {
    for (WriteLoad.Ack a : load.acked.values()) {
      java.net.http.HttpResponse<byte[]> r = http("GET", base + "/api/v1/files/" + a.path(), null);
      assertThat(sha256(r.body())).as("acknowledged write " + a.path() + ": " + r.statusCode()
          + " " + (r.statusCode() == 200 ? "" : new String(r.body()))).isEqualTo(a.sha256());
    }
  }

  @Test
  @DisplayName("kill -9 of the active master, three times, alternating: writes resume in about a second, nothing acknowledged is lost")
  void crashTakeover() {
    startCluster();
    try {
      List<Double> takeovers = new ArrayList<>();
      WriteLoad load = new WriteLoad(base, 3, "crash");
      try {
        TestSupport.poll(20_000, () -> load.ackedCount() > 20, "writes before the first kill");
        for (int round = 0; round < 3; round++) {
          ProcessCluster.Proc victim = active();
          String victimId = status().getString("activeMaster");
          long killed = System.nanoTime();
          victim.kill9();
          TestSupport.poll(30_000, () -> load.firstAckStartedAfter(killed) != Long.MAX_VALUE,
              "a write accepted after the kill");
          takeovers.add((load.firstAckStartedAfter(killed) - killed) / 1e9);
          System.out.println("round " + round + " refusals: " + load.refusals);
          load.refusals.clear();
          assertThat(status().getString("activeMaster")).isNotEqualTo(victimId);
          victim.restart();
          TestSupport.poll(60_000, () -> victim.readyLine() != null, "the killed master restarts");
          assertThat(victim.readyLine()).contains("role=standby");
          awaitHealthyWithStandby();
          int before = load.ackedCount();
          TestSupport.poll(20_000, () -> load.ackedCount() > before + 10, "writes go on");
        }
      } finally {
        load.close();
      }
      Collections.sort(takeovers);
      System.out.printf("crash take-over (kill -9 to first accepted write), s: %s; median %.2f, worst %.2f%n",
          takeovers, takeovers.get(takeovers.size() / 2), takeovers.get(takeovers.size() - 1));
      verifyAll(load);
      System.out.printf("crash take-overs: %d acknowledged writes all read back%n", load.ackedCount());
      assertThat(takeovers.get(takeovers.size() / 2)).isLessThan(3.0);
    } finally {
      pc.close();
    }
  }

  @Test
  @DisplayName("SIGSTOP of the active master under load, take-over, SIGCONT: it never acts again; chunkservers only move forward")
  void hangTakeover() throws Exception {
    startCluster();
    try (WriteLoad load = new WriteLoad(base, 3, "hang")) {
      TestSupport.poll(20_000, () -> load.ackedCount() > 20, "writes before the pause");
      ProcessCluster.Proc victim = active();
      String victimId = status().getString("activeMaster");
      long oldEpoch = status().getLong("epoch");
      String[] successor = new String[1];
      java.time.LocalTime[] resumedAt = new java.time.LocalTime[1];
      long[] successorEpoch = new long[1];
      long stopped = System.nanoTime();
      ProcessCluster.signal(victim, "STOP");
      try {
        TestSupport.poll(30_000, () -> load.firstAckStartedAfter(stopped) != Long.MAX_VALUE,
            "a write accepted after the pause");
        double takeover = (load.firstAckStartedAfter(stopped) - stopped) / 1e9;
        System.out.printf("hang take-over (SIGSTOP to first accepted write): %.2f s%n", takeover);
        System.out.println("refusals: " + load.refusals);
        assertThat(takeover).isLessThan(10.0);
        assertThat(status().getLong("epoch")).isGreaterThan(oldEpoch);
        successor[0] = status().getString("activeMaster");
        successorEpoch[0] = status().getLong("epoch");
      } finally {
        resumedAt[0] = java.time.LocalTime.now();
        ProcessCluster.signal(victim, "CONT");
      }
      int before = load.ackedCount();
      TestSupport.poll(30_000, () -> load.ackedCount() > before + 30,
          () -> "writes go on after SIGCONT (" + (load.ackedCount() - before) + " acknowledged; "
              + "last refusals " + tail(load.refusals, 4) + "; " + statusOrError() + ")");
      // The resumed master stepped down and came back as a standby of the new one.
      TestSupport.poll(60_000, () -> victim.fullLog().contains("steps down"),
          "the old master to step down");
      // Woken up, it did nothing as a master before stepping down (it answered queued follow
      // requests, and wrote the cluster maps, before its pause guard latched).
      boolean resumed = false;
      for (String line : victim.fullLog().split("\n")) {
        boolean stamped = line.length() > 12 && line.charAt(2) == ':' && line.charAt(8) == '.';
        resumed |= stamped
            && !java.time.LocalTime.parse(line.substring(0, 12)).isBefore(resumedAt[0]);
        if (!resumed) {
          continue;
        }
        if (line.contains("steps down")) {
          break;
        }
        assertThat(line).as("logged by the old master after it resumed")
            .doesNotContain("follows from").doesNotContain("registered with")
            .doesNotContain("is active").doesNotContain("caught up at");
      }
      assertThat(resumed).as("the old master logged after it resumed").isTrue();
      awaitHealthyWithStandby();
      // The successor stayed in charge: had the resumed master's cluster won a Hazelcast merge,
      // the successor would have been reset and a third term begun.
      assertThat(status().getString("activeMaster")).isEqualTo(successor[0]);
      assertThat(status().getLong("epoch")).isEqualTo(successorEpoch[0]);
      load.close();
      for (WriteLoad.Ack a : load.acked.values()) {
        assertThat(sha256(http("GET", base + "/api/v1/files/" + a.path(), null).body()))
            .as(a.path()).isEqualTo(a.sha256());
      }
    } finally {
      pc.close();
    }
    // Every chunkserver followed masters in increasing epochs, one master per epoch.
    Pattern follow = Pattern.compile("following master (\\S+) epoch (\\d+)");
    for (ProcessCluster.Proc cs : chunkservers) {
      long last = 0;
      Map<Long, String> byEpoch = new java.util.HashMap<>();
      for (String line : Files.readAllLines(dir.resolve(cs.name + ".log"))) {
        Matcher m = follow.matcher(line);
        if (m.find()) {
          long e = Long.parseLong(m.group(2));
          assertThat(e).as(cs.name + ": " + line).isGreaterThan(last);
          assertThat(byEpoch.putIfAbsent(e, m.group(1))).isNull();
          last = e;
        }
      }
      assertThat(last).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  @DisplayName("a standby that catches up while files are renamed holds every rename: it takes over with all of them")
  void catchUpUnderRenames() throws Exception {
    startCluster();
    int files = 1_500;
    byte[] data = TestSupport.randomBytes(100, 1);
    String sha = sha256(data);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<Integer>> puts = new ArrayList<>();
      for (int i = 0; i < files; i++) {
        String path = "src/f" + i;
        puts.add(pool.submit(() -> http("PUT", base + "/api/v1/files/" + path, data).statusCode()));
      }
      for (java.util.concurrent.Future<Integer> f : puts) {
        assertThat(f.get()).isEqualTo(201);
      }
      ProcessCluster.Proc activeProc = active();
      ProcessCluster.Proc standby = masters.values().stream().filter(m -> m != activeProc)
          .findFirst().orElseThrow();
      int caughtUpBefore = caughtUp(standby);
      standby.kill9();

      // Renames run while the standby comes back, asks to follow and loads the state: each
      // file moves on to a new name again and again, each by one thread, so that its place is
      // known (or, after a rename that failed, one of two).
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      String[] at = new String[files];
      String[] maybe = new String[files];
      for (int i = 0; i < files; i++) {
        at[i] = "src/f" + i;
      }
      java.util.concurrent.atomic.AtomicInteger renamed = new java.util.concurrent.atomic.AtomicInteger();
      List<java.util.concurrent.Future<?>> renamers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int first = t;
        renamers.add(pool.submit(() -> {
          for (int gen = 1; !stop.get(); gen++) {
            for (int i = first; i < files && !stop.get(); i += 4) {
              if (maybe[i] != null) {
                continue;
              }
              String to = "dst/g" + gen + "/f" + i;
              int code;
              try {
                code = http("POST", base + "/api/v1/files/" + at[i] + "?rename-to=" + to, null)
                    .statusCode();
              } catch (RuntimeException e) {
                code = -1;
              }
              if (code == 200) {
                at[i] = to;
                renamed.incrementAndGet();
              } else {
                maybe[i] = to;
              }
            }
          }
        }));
      }
      standby.restart().awaitReady();
      TestSupport.poll(60_000, () -> caughtUp(standby) > caughtUpBefore,
          () -> "the standby to catch up; its log ends:\n" + standby.tail());
      int atCatchUp = renamed.get();
      TestSupport.poll(60_000, () -> renamed.get() > atCatchUp + 200, "renames after the catch-up");
      stop.set(true);
      for (java.util.concurrent.Future<?> r : renamers) {
        r.get();
      }
      long unknown = java.util.Arrays.stream(maybe).filter(java.util.Objects::nonNull).count();
      System.out.printf("catch-up under renames: %d renames acknowledged (%d by the catch-up), "
          + "%d unknown%n", renamed.get(), atCatchUp, unknown);

      // The standby takes over from its memory: every rename must be in it.
      activeProc.kill9();
      String standbyId = masters.entrySet().stream().filter(e -> e.getValue() == standby)
          .map(Map.Entry::getKey).findFirst().orElseThrow();
      TestSupport.poll(60_000, () -> standbyId.equals(status().getString("activeMaster")),
          () -> "the standby to take over (" + statusOrError() + ")");
      int checked = 0;
      for (int i = 0; i < files; i++) {
        java.net.http.HttpResponse<byte[]> r = http("GET", base + "/api/v1/files/" + at[i], null);
        if (maybe[i] == null) {
          assertThat(r.statusCode()).as("f" + i + " at " + at[i]).isEqualTo(200);
          assertThat(sha256(r.body())).isEqualTo(sha);
          checked++;
        } else {
          int other = http("GET", base + "/api/v1/files/" + maybe[i], null).statusCode();
          assertThat((r.statusCode() == 200) ^ (other == 200))
              .as("f" + i + " at one of " + at[i] + ", " + maybe[i]).isTrue();
        }
      }
      System.out.printf("after the take-over: %d files where their last rename put them%n", checked);
      assertThat(checked).isGreaterThan(files - 20);
    } finally {
      pool.shutdownNow();
    }
  }

  private static int caughtUp(ProcessCluster.Proc standby) {
    return standby.fullLog().split("caught up with the active master", -1).length - 1;
  }

  @Test
  @DisplayName("kill -9 of every process right after acknowledged writes, restart all: every file is there")
  void fullCrash() {
    startCluster();
    Map<String, WriteLoad.Ack> acked;
    try (WriteLoad load = new WriteLoad(base, 4, "full")) {
      TestSupport.poll(30_000, () -> load.ackedCount() > 100, "a burst of writes");
      pc.byName().values().forEach(ProcessCluster.Proc::kill9);
      acked = Map.copyOf(load.acked);
    }
    try {
      for (ProcessCluster.Proc p : pc.byName().values()) {
        p.restart();
      }
      ProcessCluster.Proc gw = pc.byName().get("gateway");
      pc.byName().values().forEach(p -> p.awaitReady());
      base = "http://127.0.0.1:" + ProcessCluster.httpPort(gw);
      TestSupport.poll(60_000, () -> http("GET", base + "/health", null).statusCode() == 200,
          "the restarted cluster to be healthy");
      for (WriteLoad.Ack a : acked.values()) {
        assertThat(sha256(http("GET", base + "/api/v1/files/" + a.path(), null).body()))
            .as(a.path()).isEqualTo(a.sha256());
      }
      System.out.printf("full crash: %d acknowledged files all read back after restarting every process%n",
          acked.size());
    } finally {
      pc.close();
    }
  }

  @Test
  @DisplayName("requests carrying a stale epoch are refused by a chunkserver and by a standby")
  void staleEpochRefused() throws Exception {
    startCluster();
    Cluster.Node member = await(Cluster.start(pc.memberSettings(), false));
    try {
      long epoch = status().getLong("epoch");
      // A chunkserver refuses a write allocated by an older master.
      int port = Integer.parseInt(ProcessCluster.readyField(chunkservers.get(0), "data-port"));
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(Frames.encode(FrameType.WRITE_OPEN, new WriteOpen(123456789L, 1,
            epoch - 1, "", Durability.SYNC, List.of()).toJson()).getBytes());
        AtomicReference<Frame> reply = new AtomicReference<>();
        FrameDecoder d = new FrameDecoder(null).frameHandler(reply::set);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        while (reply.get() == null) {
          int n = in.read(buf);
          assertThat(n).isPositive();
          d.handle(Buffer.buffer(java.util.Arrays.copyOf(buf, n)));
        }
        assertThat(reply.get().type()).isEqualTo(FrameType.ERROR);
        assertThat(reply.get().json().getString("code")).isEqualTo("STALE_EPOCH");
      }
      // The standby refuses log records from an older epoch than it has seen.
      String standby = status().getJsonArray("masters").stream().map(o -> (JsonObject) o)
          .filter(m -> m.getString("role").equals("standby")).findFirst().get().getString("id");
      Throwable t = TestSupport.failure(member.vertx().eventBus().request(
          Addresses.replicaOf(standby), new JsonObject().put("epoch", epoch - 1).put("from", "x")
              .put("seq", 1).put("records", new JsonArray())));
      assertThat(((ReplyException) t).failureCode()).isEqualTo(ErrorCode.STALE_EPOCH.code());
      // The active master, told of a newer epoch than its own, refuses and steps down.
      ProcessCluster.Proc active = active();
      Throwable newer = TestSupport.failure(member.vertx().eventBus().request(Addresses.STAT,
          new JsonObject().put("path", "x").put("epoch", epoch + 100)));
      assertThat(((ReplyException) newer).failureCode()).isEqualTo(ErrorCode.NOT_ACTIVE.code());
      TestSupport.poll(30_000, () -> active.fullLog().contains("steps down"),
          "the master to step down");
    } finally {
      await(member.close());
      pc.close();
    }
  }
}
