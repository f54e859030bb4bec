package io.vgfs.chunkserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ChunkFileWriter} with real files and a real Vert.x: what it writes, that it gives back
 * every network buffer it was handed, and that its direct-memory budget holds.
 */
class ChunkFileWriterTest {

  private static final int BLOCK = 64 * 1024;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static ByteBuf direct(byte[] b, int from, int n) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(n).writeBytes(b, from, n);
  }

  @Test
  @DisplayName("writes every block in order and releases each, within and past the budget")
  void writesAndReleases(@TempDir Path dir) throws Exception {
    byte[] data = bytes(40 * BLOCK + 123, 1);
    // Room for three blocks: most of the 40 go past it and are copied to the heap.
    DirectBudget budget = new DirectBudget(3L * BLOCK);
    Path file = dir.resolve("chunk");
    ChunkFileWriter w = new ChunkFileWriter(vertx, file, true, budget);
    List<ByteBuf> handed = new ArrayList<>();
    long maxHeld = vertx.executeBlocking(() -> 0L).compose(x -> {
      long max = 0;
      for (int pos = 0; pos < data.length; pos += BLOCK) {
        int n = Math.min(BLOCK, data.length - pos);
        // Mix heap blocks (the small-chunk path) with network ones.
        ByteBuf b = pos == BLOCK ? Unpooled.wrappedBuffer(data, pos, n) : direct(data, pos, n);
        handed.add(b);
        w.add(b);
        max = Math.max(max, budget.held());
      }
      long m = max;
      return w.finish().map(v -> m);
    }).await(30, TimeUnit.SECONDS);
    assertThat(Files.readAllBytes(file)).isEqualTo(data);
    assertThat(maxHeld).isPositive().isLessThanOrEqualTo(budget.limit());
    assertThat(budget.held()).isZero();
    for (ByteBuf b : handed) {
      assertThat(b.refCnt()).isZero();
    }
  }

  @Test
  @DisplayName("an aborted write releases what it held and gives its budget back")
  void abortReleases(@TempDir Path dir) throws Exception {
    byte[] data = bytes(6 * BLOCK, 2);
    DirectBudget budget = new DirectBudget(64L * BLOCK);
    ChunkFileWriter w = new ChunkFileWriter(vertx, dir.resolve("chunk"), false, budget);
    List<ByteBuf> handed = new ArrayList<>();
    vertx.executeBlocking(() -> 0L).compose(x -> {
      for (int pos = 0; pos < data.length; pos += BLOCK) {
        ByteBuf b = direct(data, pos, BLOCK);
        handed.add(b);
        w.add(b); // below the 1 MiB batch: all stay queued
      }
      assertThat(budget.held()).isEqualTo(6L * BLOCK);
      return w.abort();
    }).await(30, TimeUnit.SECONDS);
    ByteBuf late = direct(data, 0, BLOCK);
    vertx.executeBlocking(() -> 0L).onSuccess(x -> w.add(late)).await(10, TimeUnit.SECONDS);
    assertThat(late.refCnt()).isZero();
    assertThat(budget.held()).isZero();
    for (ByteBuf b : handed) {
      assertThat(b.refCnt()).isZero();
    }
  }
}
