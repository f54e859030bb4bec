package io.vgfs.launcher;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent.LifecycleState;
import com.hazelcast.map.IMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two halves of a split cluster, each with a master's metadata maps, heal into one: the maps must
 * then hold one side's entries, never a mix. A mix is what a standby loaded after a master came
 * back alone (a cluster of its own, with its stale state in its maps) and merged: files deleted
 * meanwhile on the surviving side were back in the maps, and in the standby's state for good.
 */
class SplitBrainMergeTest {

  private final List<HazelcastInstance> instances = new ArrayList<>();

  @AfterEach
  void stop() {
    instances.forEach(HazelcastInstance::shutdown);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private HazelcastInstance start(String cluster, int port, String join) {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CLUSTER_NAME, cluster);
    flags.put(Setting.CLUSTER_HOST, "127.0.0.1");
    flags.put(Setting.CLUSTER_PORT, String.valueOf(port));
    flags.put(Setting.JOIN, join);
    Config config = Cluster.hazelcastConfig(new Settings(flags, Map.of(), null), true);
    config.setInstanceName("split-" + port);
    // The halves find each other sooner than the built-in 10 s.
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "2");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "2");
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
    instances.add(hz);
    return hz;
  }

  @Test
  @DisplayName("when two halves of a split cluster merge, the metadata maps hold the surviving side's entries only")
  void mergeKeepsOneSide() throws Exception {
    String cluster = "split-" + UUID.randomUUID();
    int portA = freePort();
    int portB = freePort();
    // B starts first and finds nobody at A's port: a cluster of its own, which keeps looking
    // for A. A then starts knowing only itself: a second cluster. B's periodic search merges them.
    HazelcastInstance b = start(cluster, portB, "127.0.0.1:" + portB + ",127.0.0.1:" + portA);
    IMap<String, String> filesB = b.getMap("vgfs.files");
    filesB.put("only-on-b", "1");
    filesB.put("deleted-on-a", "stale");
    HazelcastInstance a = start(cluster, portA, "127.0.0.1:" + portA);
    IMap<String, String> filesA = a.getMap("vgfs.files");
    filesA.put("only-on-a", "2");
    assertThat(a.getCluster().getMembers()).hasSize(1);
    assertThat(b.getCluster().getMembers()).hasSize(1);

    Map<HazelcastInstance, CountDownLatch> merged = new HashMap<>();
    for (HazelcastInstance hz : List.of(a, b)) {
      CountDownLatch latch = new CountDownLatch(1);
      merged.put(hz, latch);
      hz.getLifecycleService().addLifecycleListener(e -> {
        if (e.getState() == LifecycleState.MERGED) {
          latch.countDown();
        }
      });
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    HazelcastInstance merging = null;
    while (merging == null && System.nanoTime() < deadline) {
      for (HazelcastInstance hz : List.of(a, b)) {
        if (merged.get(hz).await(100, TimeUnit.MILLISECONDS)) {
          merging = hz;
        }
      }
    }
    assertThat(merging).as("the two halves merged within 90 s").isNotNull();
    assertThat(a.getCluster().getMembers()).hasSize(2);

    Set<String> keys = a.<String, String>getMap("vgfs.files").keySet();
    Set<String> expected = merging == b ? Set.of("only-on-a") : Set.of("only-on-b", "deleted-on-a");
    assertThat(keys).as("entries after %s merged into the other half",
        merging == b ? "B" : "A").isEqualTo(expected);
    assertThat(b.<String, String>getMap("vgfs.files").keySet()).isEqualTo(expected);
  }
}
