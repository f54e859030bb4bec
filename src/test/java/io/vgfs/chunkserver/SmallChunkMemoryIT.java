package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vgfs.client.VgfsClient;
import io.vgfs.it.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.poll;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chunks small enough to be held in memory until their end (up to {@link
 * ChunkWriteSession#SMALL_CHUNK}) keep their blocks in the network buffers they arrived in while
 * the {@link DirectBudget} allows, and in heap copies past it. Either way every byte must reach
 * the disk intact and every byte of the budget must be given back: after a write, after an
 * abandoned one, and when the budget is exhausted. The chunkservers run in this JVM, so the
 * budget seen here is theirs.
 */
class SmallChunkMemoryIT {

  @TempDir
  static Path dir;

  static TestCluster cluster;
  static VgfsClient fs;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, 3);
    fs = cluster.client();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static void awaitBudgetReturned(String after) {
    poll(10_000, () -> DirectBudget.SHARED.held() == 0,
        () -> "the chunkservers to give back their network memory after " + after + " (held: "
            + DirectBudget.SHARED.held() + " bytes)");
  }

  /** Writes files of 1 byte to 900 KiB at once (every small-chunk size class), reads them back. */
  private static void writeAndVerify(String dirName, long seed) {
    int[] sizes = {1, 1000, 65_535, 65_536, 65_537, 200_000, 524_288, 900_000};
    List<byte[]> data = new ArrayList<>();
    List<Future<?>> writes = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      data.add(randomBytes(sizes[i], seed + i));
      writes.add(fs.write(dirName + "/f" + i, Buffer.buffer(data.get(i))));
    }
    await(Future.all(writes));
    for (int i = 0; i < sizes.length; i++) {
      byte[] back = await(fs.readAll(dirName + "/f" + i)).getBytes();
      assertThat(sha256(back)).as(dirName + "/f" + i).isEqualTo(sha256(data.get(i)));
    }
  }

  @Test
  @DisplayName("small chunks written from network buffers read back intact, and their memory is given back")
  void writesGiveBackTheirMemory() {
    writeAndVerify("held", 100);
    awaitBudgetReturned("small writes");
  }

  @Test
  @DisplayName("an upload abandoned halfway through a small chunk gives back the memory its blocks held")
  void abandonedUploadGivesBackItsMemory() throws Exception {
    byte[] body = randomBytes(150_000, 7);
    try (Socket s = new Socket("127.0.0.1", cluster.httpPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /api/v1/files/abandoned.bin HTTP/1.1\r\nHost: localhost\r\n"
          + "Content-Length: 400000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      // Wait until the chunkservers hold some of it, then hang up mid-body.
      poll(10_000, () -> DirectBudget.SHARED.held() > 0, "blocks of the upload held by a chunkserver");
    }
    awaitBudgetReturned("an abandoned upload");
    assertThat(http("GET", cluster.url("/api/v1/files/abandoned.bin"), null).statusCode())
        .isEqualTo(404);
  }

  @Test
  @DisplayName("with the network-memory budget exhausted, small chunks are held as heap copies and still read back intact")
  void pastTheBudgetBlocksAreCopied() {
    long taken = 0;
    for (long step = 1L << 30; step >= 4096; step /= 2) {
      while (DirectBudget.SHARED.tryTake(step)) {
        taken += step;
      }
    }
    try {
      assertThat(DirectBudget.SHARED.tryTake(65_536)).isFalse();
      writeAndVerify("copied", 200);
    } finally {
      DirectBudget.SHARED.give(taken);
    }
    awaitBudgetReturned("heap-copied small writes");
  }
}
