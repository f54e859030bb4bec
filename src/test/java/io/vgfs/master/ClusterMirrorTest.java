package io.vgfs.master;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The Hazelcast maps against a real (single, unjoined) Hazelcast member. */
class ClusterMirrorTest {

  private static HazelcastInstance hz;

  @BeforeAll
  static void start() {
    Config config = new Config().setClusterName("mirror-test-" + UUID.randomUUID());
    config.getNetworkConfig().setPortAutoIncrement(true).getInterfaces().setEnabled(true)
        .addInterface("127.0.0.1");
    config.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    hz = Hazelcast.newHazelcastInstance(config);
  }

  @AfterAll
  static void stop() {
    if (hz != null) {
      hz.shutdown();
    }
  }

  private static JsonObject put(String path, long chunk, long size) {
    FileInfo f = new FileInfo(path, "id-" + path, size, 1, 2, 0,
        List.of(new ChunkRef(chunk, 1, size, 0, null)));
    return new JsonObject().put("op", "put").put("file", f.toJson());
  }

  @Test
  @DisplayName("reconcile restores lost entries, drops extra ones, fixes stale ones and leaves equal ones alone")
  void reconcile() {
    MetadataState state = new MetadataState();
    for (int i = 0; i < 50; i++) {
      state.apply(put("d/f" + i, 100 + i, 10 + i), List.of(List.of("s1")));
    }
    ClusterMirror mirror = new ClusterMirror(hz, null);
    assertThat(mirror.reconcile(state)).isEqualTo(50 + 1); // empty maps: every file, the drain list
    IMap<String, String> files = hz.getMap(ClusterMirror.FILES);
    assertThat(files.size()).isEqualTo(50);
    assertThat(mirror.reconcile(state)).isZero();

    // What a lost partition, an unacknowledged write and a stale value look like.
    for (int i = 0; i < 7; i++) {
      files.delete("d/f" + i);
    }
    files.set("d/unacknowledged", files.get("d/f10"));
    files.set("d/f20", files.get("d/f21"));

    assertThat(mirror.reconcile(state)).isEqualTo(7 + 1 + 1);
    assertThat(files.size()).isEqualTo(50);
    for (FileInfo f : state.namespace().snapshot()) {
      assertThat(files.get(f.path())).isEqualTo(f.toJson().encode());
    }
    assertThat(mirror.reconcile(state)).isZero();
  }

  @Test
  @DisplayName("the union of a state and the maps' entries keeps both, the maps' version winning per key")
  void union() {
    MetadataState state = new MetadataState();
    state.apply(put("u/only-in-memory", 1, 10), List.of(List.of("s1")));
    state.apply(put("u/both", 2, 20), List.of(List.of("s1")));
    JsonObject newer = put("u/both", 3, 30).getJsonObject("file");
    JsonObject onlyInMaps = put("u/only-in-maps", 4, 40).getJsonObject("file");
    MetadataState merged = new MetadataState();
    merged.load(new JsonObject().put("epoch", 1), state.unionWith(List.of(newer, onlyInMaps)));
    assertThat(merged.namespace().get("u/only-in-memory")).isNotNull();
    assertThat(merged.namespace().get("u/only-in-maps")).isNotNull();
    assertThat(merged.namespace().get("u/both").size()).isEqualTo(30);
  }
}
