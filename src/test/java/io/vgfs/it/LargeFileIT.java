package io.vgfs.it;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 2 GiB file through a gateway limited to a 128 MiB heap, up and down, compared by SHA-256:
 * memory must not depend on file size. Slow (tens of seconds of disk), so tagged: run it with
 * {@code mvn verify -Pslow}.
 */
@Tag("slow")
class LargeFileIT {

  static final long SIZE = 2L * 1024 * 1024 * 1024;

  @TempDir
  Path dir;

  @Test
  @DisplayName("2 GiB up and down through a -Xmx128m gateway, byte for byte")
  void twoGigabytesThroughSmallHeap() throws Exception {
    try (ProcessCluster pc = new ProcessCluster(dir)) {
      pc.master("master").awaitReady();
      for (int i = 1; i <= 3; i++) {
        pc.chunkserver("cs" + i).awaitReady();
      }
      ProcessCluster.Proc gw = pc.gateway("gateway", List.of("-Xmx128m", "-XX:+UseSerialGC"));
      gw.awaitReady();
      String url = "http://127.0.0.1:" + ProcessCluster.httpPort(gw) + "/api/v1/files/big/2g.bin";
      TestSupport.poll(30_000, () -> TestSupport.http("GET", url.replace("/api/v1/files/big/2g.bin",
          "/health"), null).statusCode() == 200, "health");

      MessageDigest sent = MessageDigest.getInstance("SHA-256");
      long t0 = System.nanoTime();
      HttpResponse<String> put = TestSupport.HTTP.send(HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofMinutes(10))
              .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers
                  .ofInputStream(() -> new Generated(SIZE, sent)), SIZE)).build(),
          HttpResponse.BodyHandlers.ofString());
      double upSeconds = (System.nanoTime() - t0) / 1e9;
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

      t0 = System.nanoTime();
      HttpResponse<InputStream> get = TestSupport.HTTP.send(HttpRequest.newBuilder(URI.create(url))
          .timeout(Duration.ofMinutes(10)).build(), HttpResponse.BodyHandlers.ofInputStream());
      String received;
      try (InputStream in = get.body()) {
        received = TestSupport.sha256(in);
      }
      double downSeconds = (System.nanoTime() - t0) / 1e9;
      assertThat(received).isEqualTo(HexFormat.of().formatHex(sent.digest()));
      String status = Files.readString(Path.of("/proc/" + gw.pid() + "/status"));
      String hwm = status.lines().filter(l -> l.startsWith("VmHWM")).findFirst().orElse("?");
      System.out.printf("2 GiB through a -Xmx128m gateway: up %.1f s (%.0f MB/s), down %.1f s "
          + "(%.0f MB/s), gateway peak RSS %s%n", upSeconds, SIZE / upSeconds / 1e6, downSeconds,
          SIZE / downSeconds / 1e6, hwm.replaceAll("\\s+", " "));
      assertThat(gw.alive()).isTrue();
    }
  }

  /** Deterministic pseudo-random bytes (xorshift), hashed as they are produced. */
  static final class Generated extends InputStream {
    private long left;
    private long x = 0x9E3779B97F4A7C15L;
    private final MessageDigest digest;

    Generated(long size, MessageDigest digest) {
      this.left = size;
      this.digest = digest;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (left == 0) {
        return -1;
      }
      int n = (int) Math.min(len, left);
      for (int i = 0; i < n; i++) {
        if ((i & 7) == 0) {
          x ^= x << 13;
          x ^= x >>> 7;
          x ^= x << 17;
        }
        b[off + i] = (byte) (x >>> ((i & 7) * 8));
      }
      digest.update(b, off, n);
      left -= n;
      return n;
    }
  }
}
