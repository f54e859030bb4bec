package io.vgfs.launcher;

import com.hazelcast.config.Config;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The example Hazelcast file a user starts from keeps the settings the built-in config has. */
class ClusterConfigTest {

  @Test
  @DisplayName("conf/hazelcast.example.xml loads and sets every property of the built-in config to the same value")
  void exampleMatchesBuiltIn() throws Exception {
    Config builtIn = Cluster.hazelcastConfig(new Settings(Map.of(), Map.of(), null), true);
    Config example = Config.loadFromFile(Path.of("conf/hazelcast.example.xml").toFile());
    assertThat(builtIn.getProperties()).isNotEmpty();
    builtIn.getProperties().forEach((k, v) -> {
      if (!k.equals("hazelcast.socket.bind.any")) { // depends on the --cluster-host given
        assertThat(example.getProperty((String) k)).as((String) k).isEqualTo(v);
      }
    });
    assertThat(example.getMapConfig("vgfs.files").getMergePolicyConfig().getPolicy())
        .isEqualTo(builtIn.getMapConfig("vgfs.files").getMergePolicyConfig().getPolicy())
        .isEqualTo("com.hazelcast.spi.merge.DiscardMergePolicy");
  }
}
