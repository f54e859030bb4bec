package io.vgfs.perf;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vgfs.client.VgfsClient;
import io.vgfs.it.TestCluster;
import io.vgfs.it.TestSupport;
import io.vgfs.launcher.Setting;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A profiling aid, not a benchmark (that is {@code mvn -Pbench verify}): small-file writes and
 * reads on an in-JVM cluster, so one JFR recording shows every role's CPU. Tagged "perf": run with
 * {@code mvn verify -Dvgfs.test.excludedGroups= -Dvgfs.test.groups=perf -Dit.test=SmallFilePerfIT
 * -Dvgfs.extraJvm=-XX:StartFlightRecording=filename=target/perf.jfr}.
 */
@Tag("perf")
class SmallFilePerfIT {

  @TempDir
  Path dir;

  @Test
  void smallFiles() throws Exception {
    try (TestCluster c = TestCluster.start(dir, 3, Map.of(Setting.CHUNK_SIZE, "64MiB",
        Setting.HEARTBEAT_INTERVAL, "3s"))) {
      VgfsClient fs = Boolean.getBoolean("perf.buffered")
          ? VgfsClient.create(c.gatewayNode().vertx(), new io.vgfs.client.VgfsClientOptions()
              .setDurability(io.vgfs.protocol.Durability.BUFFERED))
          : c.client();
      Buffer data = Buffer.buffer(TestSupport.randomBytes(64 * 1024, 1));
      int concurrency = 16;
      for (int round = 0; round < 2; round++) {
        int n = Integer.getInteger("perf.files", 3000);
        AtomicInteger next = new AtomicInteger();
        long t0 = System.nanoTime();
        List<Future<Void>> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
          workers.add(loop(fs, next, n, data, round));
        }
        workers.forEach(TestSupport::await);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("round %d: %d x 64 KiB writes in %.2f s = %.0f files/s%n", round, n, s, n / s);
        t0 = System.nanoTime();
        AtomicInteger nextRead = new AtomicInteger();
        List<Future<Void>> readers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
          readers.add(readLoop(fs, nextRead, n, round));
        }
        readers.forEach(TestSupport::await);
        s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("round %d: %d x 64 KiB reads in %.2f s = %.0f files/s%n", round, n, s, n / s);
      }
    }
  }

  private Future<Void> loop(VgfsClient fs, AtomicInteger next, int n, Buffer data, int round) {
    int i = next.getAndIncrement();
    if (i >= n) {
      return Future.succeededFuture();
    }
    return fs.write("perf/r" + round + "/f" + i, data).compose(f -> loop(fs, next, n, data, round));
  }

  private Future<Void> readLoop(VgfsClient fs, AtomicInteger next, int n, int round) {
    int i = next.getAndIncrement();
    if (i >= n) {
      return Future.succeededFuture();
    }
    return fs.readAll("perf/r" + round + "/f" + i).compose(b -> readLoop(fs, next, n, round));
  }
}
