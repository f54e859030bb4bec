package io.vgfs.chunkserver;

import io.vertx.core.buffer.Buffer;
import io.vgfs.protocol.Crc32c;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A replica prepared for a new append lease: cut back to the committed length. */
class AppendableChunksTest {

  private static final int BLOCK = 64 * 1024;
  private ChunkStore store;

  @AfterEach
  void close() throws IOException {
    if (store != null) {
      store.close();
    }
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static int[] crcsOf(byte[] data, int length) {
    int n = (length + BLOCK - 1) / BLOCK;
    int[] crcs = new int[n];
    for (int i = 0; i < n; i++) {
      crcs[i] = Crc32c.of(data, i * BLOCK, Math.min(BLOCK, length - i * BLOCK));
    }
    return crcs;
  }

  // A chunk of 100,000 appended bytes (blocks of 65,536 and 34,464) at version 2.
  private byte[] appended(Path root) throws IOException {
    store = new ChunkStore(root);
    store.open();
    store.appends().prepare(5, 1, 0);
    byte[] data = bytes(100_000, 1);
    store.appends().append(5, 1, 0, List.of(Buffer.buffer(Arrays.copyOf(data, 70_000))));
    store.appends().append(5, 1, 70_000,
        List.of(Buffer.buffer(Arrays.copyOfRange(data, 70_000, data.length))));
    return data;
  }

  private void flip(long at) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(store.dataPath(5).toFile(), "rw")) {
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x5a);
    }
  }

  @Test
  @DisplayName("uncommitted bytes are cut off and the partial last block gets the checksum of what is kept")
  void cutsBack(@TempDir Path root) throws IOException {
    byte[] data = appended(root);
    ChunkMeta meta = store.appends().prepare(5, 2, 80_000);
    assertThat(meta.length()).isEqualTo(80_000);
    assertThat(meta.crcs()).containsExactly(crcsOf(data, 80_000));
    assertThat(store.dataPath(5)).hasBinaryContent(Arrays.copyOf(data, 80_000));
    assertThat(store.loadMeta(5).crcs()).containsExactly(crcsOf(data, 80_000));
  }

  @Test
  @DisplayName("a rotten byte in the block being cut is refused, not given a fresh checksum that would hide it")
  void rottenBlockIsNotBlessed(@TempDir Path root) throws IOException {
    appended(root);
    flip(75_000); // inside the bytes the cut keeps
    assertThatThrownBy(() -> store.appends().prepare(5, 2, 80_000))
        .isInstanceOf(IOException.class).hasMessageContaining("corrupt");
    assertThat(store.replica(5).version()).as("the replica is left as it was").isEqualTo(1);
    assertThat(store.replica(5).length()).isEqualTo(100_000);
  }

  @Test
  @DisplayName("a rotten byte in a whole block before the cut keeps its old checksum, so it stays detectable")
  void rotBeforeTheCutStaysDetectable(@TempDir Path root) throws IOException {
    byte[] data = appended(root);
    flip(10_000);
    ChunkMeta meta = store.appends().prepare(5, 2, 80_000);
    assertThat(meta.crcs()[0]).isEqualTo(Crc32c.of(data, 0, BLOCK))
        .isNotEqualTo(crcsOf(readData(), 80_000)[0]);
  }

  @Test
  @DisplayName("an append leaves the checksums of the meta it started from alone (readers and copies hold it)")
  void appendDoesNotChangeOldMeta(@TempDir Path root) throws IOException {
    byte[] data = appended(root);
    ChunkMeta before = store.loadMeta(5);
    int[] crcsBefore = before.crcs().clone();
    store.cloneChunk(5, 6, 1);
    store.appends().append(5, 1, data.length, List.of(Buffer.buffer(bytes(1_000, 2))));
    assertThat(before.crcs()).containsExactly(crcsBefore);
    // The copy made before the append is still whole: cutting it back checks out.
    ChunkMeta copy = store.appends().prepare(6, 2, 80_000);
    assertThat(copy.crcs()).containsExactly(crcsOf(data, 80_000));
  }

  private byte[] readData() throws IOException {
    return java.nio.file.Files.readAllBytes(store.dataPath(5));
  }
}
