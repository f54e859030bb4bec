package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three masters with {@code --master-quorum 2}, as separate processes under a write load: a master
 * acts only with another master beside it, a mutation is acknowledged only once two masters hold
 * it, and when the quorum returns the master whose log goes furthest leads.
 */
class MasterQuorumIT {

  @TempDir
  Path dir;

  private ProcessCluster pc;
  private final Map<String, ProcessCluster.Proc> masters = new HashMap<>();
  private String base;

  @AfterEach
  void stopProcesses() {
    if (pc != null) {
      pc.close(); // every process by PID, whatever happened in the test
    }
  }

  private JsonObject status() {
    return new JsonObject(Buffer.buffer(http("GET", base + "/api/v1/cluster", null).body()));
  }

  private String activeId() {
    try {
      JsonObject st = status();
      return st.getString("activeMaster");
    } catch (RuntimeException e) {
      return null; // no master answers
    }
  }

  @Test
  @DisplayName("quorum 2 of 3 masters: a crashed active is replaced; a lone or cut-off master acknowledges nothing; the most recent log leads when the quorum returns")
  void quorumOfThree() {
    pc = new ProcessCluster(dir, "--chunk-size", "1MiB", "--heartbeat-interval", "500ms",
        "--cold-start-wait", "3s", "--master-quorum", "2");
    for (String name : List.of("m1", "m2", "m3")) {
      ProcessCluster.Proc m = pc.master(name);
      m.awaitReady();
      masters.put(ProcessCluster.readyField(m, "id"), m);
    }
    List<ProcessCluster.Proc> chunkservers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      chunkservers.add(pc.chunkserver("cs" + i));
    }
    ProcessCluster.Proc gw = pc.gateway("gateway", List.of());
    chunkservers.forEach(p -> p.awaitReady());
    gw.awaitReady();
    base = "http://127.0.0.1:" + ProcessCluster.httpPort(gw);
    TestSupport.poll(90_000, () -> {
      JsonObject st = status();
      JsonArray ms = st.getJsonArray("masters");
      return st.getInteger("liveChunkservers", 0) == 3 && ms.size() == 3
          && ms.stream().map(o -> (JsonObject) o).filter(m -> m.getBoolean("inSync", false))
              .count() == 2 && st.getBoolean("mapsSafe", false);
    }, () -> "three masters, two standbys in sync, 3 chunkservers: " + status());

    try (WriteLoad load = new WriteLoad(base, 3, "q")) {
      TestSupport.poll(30_000, () -> load.ackedCount() > 20, "writes before the first kill");

      // 1. The active master dies: the two standbys are a quorum, and the one whose log goes
      //    furthest takes over.
      String firstId = activeId();
      ProcessCluster.Proc first = masters.get(firstId);
      long killed = System.nanoTime();
      first.kill9();
      TestSupport.poll(30_000, () -> load.firstAckStartedAfter(killed) != Long.MAX_VALUE,
          () -> "a write accepted after the kill; refusals " + load.refusals);
      double takeover = (load.firstAckStartedAfter(killed) - killed) / 1e9;
      System.out.printf("quorum 2 of 3: crash take-over (kill -9 to first accepted write) %.2f s%n",
          takeover);
      String secondId = activeId();
      assertThat(secondId).isNotNull().isNotEqualTo(firstId);
      ProcessCluster.Proc second = masters.get(secondId);
      String thirdId = masters.keySet().stream()
          .filter(id -> !id.equals(firstId) && !id.equals(secondId)).findFirst().orElseThrow();
      ProcessCluster.Proc third = masters.get(thirdId);
      int before = load.ackedCount();
      TestSupport.poll(30_000, () -> load.ackedCount() > before + 20, "writes go on");

      // 2. Its last standby dies too: alone, the active master steps down, and no write started
      //    from then on is acknowledged while it is the only master.
      long alone = System.nanoTime();
      third.kill9();
      TestSupport.poll(30_000, () -> second.fullLog().contains("master quorum is lost"),
          "the lone active master to step down");
      // Held for 6 s (a hold check, sampled): the stepped-down master rejoins as a standby and
      // campaigns, but must not lead alone.
      long steppedDown = System.nanoTime();
      while (System.nanoTime() - steppedDown < 6_000_000_000L) {
        assertThat(load.firstAckStartedAfter(alone)).as("a write acknowledged by a lone master")
            .isEqualTo(Long.MAX_VALUE);
        sleep(200);
      }
      assertThat(new String(http("GET", base + "/health", null).body()))
          .as("health without a quorum").contains("no active master");

      // 3. The first master comes back with an older log: two masters are a quorum again, and the
      //    one that was active last (its log goes furthest) leads.
      long back = System.nanoTime();
      first.restart();
      first.awaitReady();
      TestSupport.poll(60_000, () -> load.firstAckStartedAfter(back) != Long.MAX_VALUE,
          () -> "a write accepted once the quorum is back; refusals "
              + load.refusals.subList(Math.max(0, load.refusals.size() - 3), load.refusals.size()));
      System.out.printf("quorum 2 of 3: writes accepted again %.2f s after a second master came back%n",
          (load.firstAckStartedAfter(back) - back) / 1e9);
      assertThat(activeId()).isEqualTo(secondId);
      int again = load.ackedCount();
      TestSupport.poll(30_000, () -> load.ackedCount() > again + 20, "writes go on");

      // 4. Both standbys stop answering but stay cluster members for a while (SIGSTOP: what a
      //    partition looks like from the active's side until the heartbeat time-out): the active
      //    acknowledges nothing started from then on, and steps down once they are removed.
      third.restart();
      third.awaitReady();
      TestSupport.poll(60_000, () -> status().getJsonArray("masters").stream()
          .map(o -> (JsonObject) o).filter(m -> m.getBoolean("inSync", false)).count() == 2,
          "two standbys in sync again");
      // The cut is taken once both are stopped: each `kill` is a process of its own, and a write
      // started while they were being spawned could still reach a running standby and be
      // acknowledged with a true quorum (CI saw one, 2026-12-07).
      ProcessCluster.signal(first, "STOP");
      ProcessCluster.signal(third, "STOP");
      long cut = System.nanoTime();
      try {
        long log0 = second.fullLog().split("master quorum is lost", -1).length;
        TestSupport.poll(30_000, () -> second.fullLog().split("master quorum is lost", -1).length
            > log0, "the active master to step down once both standbys are removed");
        assertThat(load.firstAckStartedAfter(cut)).as("a write acknowledged without a quorum")
            .isEqualTo(Long.MAX_VALUE);
      } finally {
        ProcessCluster.signal(first, "CONT");
        ProcessCluster.signal(third, "CONT");
      }
      long resumed = System.nanoTime();
      TestSupport.poll(90_000, () -> load.firstAckStartedAfter(resumed) != Long.MAX_VALUE,
          () -> "a write accepted after the standbys resumed; refusals "
              + load.refusals.subList(Math.max(0, load.refusals.size() - 3), load.refusals.size()));
      System.out.printf("quorum 2 of 3: writes accepted again %.2f s after the paused standbys resumed%n",
          (load.firstAckStartedAfter(resumed) - resumed) / 1e9);
      load.close();
      for (WriteLoad.Ack a : load.acked.values()) {
        assertThat(sha256(http("GET", base + "/api/v1/files/" + a.path(), null).body()))
            .as("acknowledged write " + a.path()).isEqualTo(a.sha256());
      }
      System.out.printf("quorum 2 of 3: %d acknowledged writes all read back%n", load.ackedCount());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
