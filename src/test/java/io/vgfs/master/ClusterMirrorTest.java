package io.vgfs.master;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

  private static int repair(Vertx vertx, ClusterMirror mirror, MetadataState state)
      throws Exception {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    vertx.getOrCreateContext().runOnContext(v -> new MapRepair(vertx, mirror, state, () -> true)
        .run().onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        }));
    return done.get(30, TimeUnit.SECONDS);
  }

  private static void assertMapsEqual(MetadataState state) {
    IMap<String, String> files = hz.getMap(ClusterMirror.FILES);
    assertThat(files.size()).isEqualTo(state.namespace().size());
    for (FileInfo f : state.namespace().snapshot()) {
      assertThat(files.get(f.path())).isEqualTo(f.toJson().encode());
    }
    IMap<String, String> trash = hz.getMap(ClusterMirror.TRASH);
    assertThat(trash.size()).isEqualTo(state.trash().size());
    for (Trash.Entry e : state.trash().snapshot()) {
      assertThat(trash.get(e.id())).isEqualTo(e.toJson().encode());
    }
  }

  @Test
  @DisplayName("MapRepair restores lost entries, fixes stale ones, removes extra ones, and leaves equal ones alone")
  void repair() throws Exception {
    hz.getMap(ClusterMirror.FILES).clear();
    hz.getMap(ClusterMirror.TRASH).clear();
    MetadataState state = new MetadataState();
    for (int i = 0; i < 2_500; i++) { // more than one batch
      state.apply(put("d/f" + i, 100 + i, 10 + i), List.of(List.of("s1")));
    }
    Vertx vertx = Vertx.vertx();
    try {
      ClusterMirror mirror = new ClusterMirror(hz, vertx.getOrCreateContext());
      assertThat(repair(vertx, mirror, state)).isEqualTo(2_500); // a cold start: empty maps
      assertMapsEqual(state);
      assertThat(repair(vertx, mirror, state)).isZero();

      // What a lost partition, an unacknowledged write and a stale value look like.
      IMap<String, String> files = hz.getMap(ClusterMirror.FILES);
      for (int i = 0; i < 7; i++) {
        files.delete("d/f" + i);
      }
      files.set("d/unacknowledged", files.get("d/f10"));
      files.set("d/f2100", files.get("d/f21"));
      assertThat(repair(vertx, mirror, state)).isEqualTo(7 + 1 + 1);
      assertMapsEqual(state);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("MapRepair never undoes a mutation made while it runs, in any of its phases")
  void repairDuringMutations() throws Exception {
    hz.getMap(ClusterMirror.FILES).clear();
    hz.getMap(ClusterMirror.TRASH).clear();
    MetadataState state = new MetadataState();
    for (int i = 0; i < 5_000; i++) { // several batches
      state.apply(put("m/f" + i, 100 + i, 10 + i), List.of(List.of("s1")));
    }
    IMap<String, String> files = hz.getMap(ClusterMirror.FILES);
    files.set("m/extra", "{}"); // an unacknowledged write, for the removal phase
    Vertx vertx = Vertx.vertx();
    try {
      Context context = vertx.getOrCreateContext();
      ClusterMirror mirror = new ClusterMirror(hz, context);
      CompletableFuture<Integer> done = new CompletableFuture<>();
      List<io.vertx.core.Future<Void>> writes = new java.util.ArrayList<>();
      int[] n = {0};
      context.runOnContext(v -> {
        // Mutations as the active master makes them (state first, then written through), every
        // millisecond for as long as the repair runs: new files, replaced ones, deleted ones.
        long timer = vertx.setPeriodic(1, id -> {
          int i = n[0]++;
          state.apply(put("m/new" + i, 100_000 + i, 7), List.of(List.of("s1")));
          writes.add(mirror.put(state.namespace().get("m/new" + i), null));
          FileInfo old = state.namespace().get("m/f" + (4_999 - i));
          if (old != null) {
            state.apply(put(old.path(), 200_000 + i, 9), List.of(List.of("s1")));
            writes.add(mirror.put(state.namespace().get(old.path()), old));
          }
          String gone = "m/f" + i;
          if (state.namespace().get(gone) != null) {
            state.apply(new JsonObject().put("op", "delete").put("path", gone)
                .put("id", "t-" + i).put("at", 1L));
            writes.add(mirror.trash(state.trash().get("t-" + i)));
          }
        });
        new MapRepair(vertx, mirror, state, () -> true).run().onComplete(ar -> {
          vertx.cancelTimer(timer);
          io.vertx.core.Future.all(new java.util.ArrayList<>(writes)).onComplete(w -> {
            if (ar.failed() || w.failed()) {
              done.completeExceptionally(ar.failed() ? ar.cause() : w.cause());
            } else {
              done.complete(ar.result());
            }
          });
        });
      });
      done.get(60, TimeUnit.SECONDS);
      assertThat(n[0]).as("mutations made while the repair ran").isGreaterThan(10);
      assertThat(files.containsKey("m/extra")).isFalse();
      assertMapsEqual(state);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
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
