package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vgfs.launcher.Setting;
import io.vgfs.protocol.FileInfo;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/** Metadata and chunks survive the whole cluster stopping and starting again. */
class RestartIT {

  @TempDir
  Path dir;

  @Test
  @DisplayName("after a full cluster restart every committed file reads back; deleted ones stay deleted")
  void fullRestart() {
    Map<String, String> expected = new HashMap<>();
    // A checkpoint every 7 records: recovery goes through checkpoint + log tail.
    Map<Setting, String> settings = Map.of(Setting.CHECKPOINT_EVERY, "7");
    try (TestCluster c = TestCluster.start(dir, 3, settings)) {
      for (int i = 0; i < 20; i++) {
        byte[] data = randomBytes(1000 * i * i + i, i);
        await(c.client().write("restart/" + i, Buffer.buffer(data)));
        expected.put("restart/" + i, sha256(data));
      }
      await(c.client().delete("restart/3"));
      expected.remove("restart/3");
      await(c.client().write("restart/4", Buffer.buffer("replaced")));
      expected.put("restart/4", sha256("replaced".getBytes()));
    }
    try (TestCluster c = TestCluster.start(dir, 3, settings)) {
      assertThat(await(c.client().list("restart/")).files()).extracting(FileInfo::path)
          .containsExactlyInAnyOrderElementsOf(expected.keySet());
      // Replica locations come from the chunkservers' reports, not from the master's disk.
      TestSupport.poll(10_000, () -> await(c.client().clusterStatus())
          .getInteger("underReplicatedChunks") == 0, "every chunk located on 3 servers");
      for (Map.Entry<String, String> e : expected.entrySet()) {
        assertThat(sha256(await(c.client().readAll(e.getKey())).getBytes())).as(e.getKey())
            .isEqualTo(e.getValue());
      }
      assertThat(await(c.client().clusterStatus()).getLong("epoch")).isEqualTo(2);
    }
  }
}
