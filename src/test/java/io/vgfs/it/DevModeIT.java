package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one command a new user runs, {@code java -jar target/vgfs.jar dev}, as its own process:
 * master, chunkservers and gateway in one JVM, data under one directory, and everything
 * acknowledged still there after the process is killed and started again.
 */
class DevModeIT {

  @TempDir
  Path dir;

  @Test
  @DisplayName("dev mode serves the HTTP API from one process and keeps acknowledged files across kill -9 and restart")
  void devMode() throws IOException {
    Path data = dir.resolve("data");
    try (ProcessCluster pc = new ProcessCluster(dir)) {
      ProcessCluster.Proc dev = pc.start("dev", "dev", List.of(), Map.of(),
          "--data-dir", data.toString(), "--http-port", "0", "--chunk-size", "256KiB",
          "--chunkservers", "4", "--replication", "3");
      dev.awaitReady();
      assertThat(dev.readyLine()).contains("vgfs dev ready: http://").contains("chunkservers=4")
          .contains("chunk-size=256KiB").contains("replication=3");
      String base = "http://127.0.0.1:" + ProcessCluster.httpPort(dev);
      TestSupport.poll(30_000, () -> http("GET", base + "/health", null).statusCode() == 200,
          "dev health");

      byte[] big = randomBytes(3 * 256 * 1024 + 5, 71);
      byte[] small = randomBytes(1000, 72);
      HttpResponse<byte[]> put = http("PUT", base + "/api/v1/files/docs/big.bin", big);
      assertThat(put.statusCode()).isEqualTo(201);
      assertThat(new JsonObject(Buffer.buffer(put.body())).getInteger("chunks")).isEqualTo(4);
      assertThat(http("PUT", base + "/api/v1/files/docs/small.txt", small).statusCode())
          .isEqualTo(201);
      assertThat(http("PUT", base + "/api/v1/files/tmp/gone", small).statusCode()).isEqualTo(201);
      assertThat(http("DELETE", base + "/api/v1/files/tmp/gone", null).statusCode())
          .isEqualTo(204);
      HttpResponse<byte[]> range = http("GET", base + "/api/v1/files/docs/big.bin", null,
          "Range", "bytes=262140-262150");
      assertThat(range.statusCode()).isEqualTo(206);
      assertThat(range.body()).isEqualTo(Arrays.copyOfRange(big, 262140, 262151));

      // Each chunkserver has its own directory under the one data directory; with four servers
      // and replication 3 every chunk is on three of them, the deleted file's too (it waits in
      // the trash, restorable).
      assertThat(chunkFiles(data)).isEqualTo(3L * (4 + 1 + 1));
      assertThat(new String(http("GET", base + "/api/v1/trash", null).body())).contains("tmp/gone");
      for (int i = 1; i <= 4; i++) {
        assertThat(data.resolve("chunkserver-" + i)).isDirectory();
      }

      dev.kill9();
      dev.restart();
      dev.awaitReady();
      String again = "http://127.0.0.1:" + ProcessCluster.httpPort(dev);
      TestSupport.poll(30_000, () -> http("GET", again + "/health", null).statusCode() == 200,
          "dev health after restart");
      assertThat(sha256(http("GET", again + "/api/v1/files/docs/big.bin", null).body()))
          .isEqualTo(sha256(big));
      assertThat(sha256(http("GET", again + "/api/v1/files/docs/small.txt", null).body()))
          .isEqualTo(sha256(small));
      assertThat(http("GET", again + "/api/v1/files/tmp/gone", null).statusCode()).isEqualTo(404);
      JsonObject listed = new JsonObject(Buffer.buffer(
          http("GET", again + "/api/v1/files?prefix=docs/", null).body()));
      assertThat(listed.getJsonArray("files").stream()
          .map(o -> ((JsonObject) o).getString("path")).toList())
          .containsExactly("docs/big.bin", "docs/small.txt");
    }
  }

  private static long chunkFiles(Path data) throws IOException {
    try (Stream<Path> s = Files.walk(data)) {
      return s.filter(p -> p.toString().endsWith(".chunk")
          && !p.getParent().getFileName().toString().equals("tmp")).count();
    }
  }
}
