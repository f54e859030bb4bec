package io.vgfs.chunkserver;

import io.vertx.core.buffer.Buffer;
import io.vgfs.protocol.Crc32c;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The small-chunk journal: what was acknowledged survives the loss of every unsynced chunk file
 * (a power cut is simulated by copying the data directory while the store runs, then damaging the
 * copy's chunk files the way an unsynced write can be lost), and writers share its fsyncs.
 */
class SmallChunkJournalTest {

  private static final int BLOCK = 64 * 1024;

  @TempDir
  Path dir;

  private final List<ChunkStore> stores = new ArrayList<>();

  @AfterEach
  void closeStores() throws IOException {
    for (ChunkStore s : stores) {
      s.close();
    }
  }

  private ChunkStore open(Path root) throws IOException {
    ChunkStore s = new ChunkStore(root);
    s.open();
    stores.add(s);
    return s;
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static ChunkMeta metaOf(byte[] data, long version) {
    int n = (data.length + BLOCK - 1) / BLOCK;
    int[] crcs = new int[n];
    for (int i = 0; i < n; i++) {
      int from = i * BLOCK;
      crcs[i] = Crc32c.of(data, from, Math.min(BLOCK, data.length - from));
    }
    return new ChunkMeta(version, data.length, BLOCK, crcs);
  }

  /** Stores {@code data} as a write session does with a small chunk: blocks held in memory. */
  private static void putSmall(ChunkStore s, long id, long version, byte[] data) throws IOException {
    List<Buffer> blocks = new ArrayList<>();
    for (int from = 0; from < data.length; from += BLOCK) {
      blocks.add(Buffer.buffer(java.util.Arrays.copyOfRange(data, from,
          Math.min(data.length, from + BLOCK))));
    }
    s.commitSmall(id, blocks, metaOf(data, version), true);
  }

  // The disk as a power cut would leave it: whatever reached it, which here is everything.
  private static Path snapshot(Path root, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(root.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else if (!p.getFileName().toString().endsWith(".lock")) {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return to;
  }

  private static List<Path> journalFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root.resolve("journal"))) {
      return s.sorted().toList();
    }
  }

  @Test
  @DisplayName("chunks whose files were lost, cut short or damaged are rewritten from the journal")
  void replaysLostChunks() throws IOException {
    ChunkStore a = open(dir.resolve("a"));
    byte[][] data = {bytes(100, 1), bytes(BLOCK, 2), bytes(3 * BLOCK + 17, 3), bytes(0, 4),
        bytes(5000, 5), bytes(70_000, 6)};
    for (int i = 0; i < data.length; i++) {
      putSmall(a, 10 + i, 1, data[i]);
    }
    Path b = snapshot(a.root(), dir.resolve("b"));
    Files.delete(b.resolve("chunks/" + ChunkStore.hex(10) + ".chunk"));
    Files.delete(b.resolve("chunks/" + ChunkStore.hex(10) + ".meta"));
    Files.write(b.resolve("chunks/" + ChunkStore.hex(11) + ".chunk"), new byte[0]);
    Files.write(b.resolve("chunks/" + ChunkStore.hex(12) + ".meta"), bytes(40, 9));
    Files.delete(b.resolve("chunks/" + ChunkStore.hex(13) + ".meta"));
    // Same size, wrong bytes (blocks allocated, data never written).
    Files.write(b.resolve("chunks/" + ChunkStore.hex(14) + ".chunk"), new byte[5000]);
    // 15 is intact.

    ChunkStore reopened = open(b);
    for (int i = 0; i < data.length; i++) {
      long id = 10 + i;
      assertThat(reopened.replica(id)).as("chunk %d", id).isNotNull();
      assertThat(reopened.replica(id).version()).isEqualTo(1);
      assertThat(Files.readAllBytes(reopened.dataPath(id))).as("chunk %d", id).isEqualTo(data[i]);
      assertThat(reopened.loadMeta(id).crcs()).isEqualTo(metaOf(data[i], 1).crcs());
    }
    // The replayed journal is gone; a fresh, empty one takes its place.
    List<Path> journals = journalFiles(b);
    assertThat(journals).hasSize(1);
    assertThat(Files.size(journals.get(0))).isZero();
  }

  @Test
  @DisplayName("a record cut short at the journal's end was never acknowledged and is ignored")
  void tornTail() throws IOException {
    ChunkStore a = open(dir.resolve("a"));
    byte[] first = bytes(9000, 1);
    byte[] second = bytes(12_000, 2);
    putSmall(a, 1, 1, first);
    putSmall(a, 2, 1, second);
    Path b = snapshot(a.root(), dir.resolve("b"));
    Path journal = journalFiles(b).get(0);
    long whole = Files.size(journal);
    // A third record whose fsync never completed: only part of it reached the disk.
    putSmall(a, 3, 1, bytes(20_000, 3));
    Path full = journalFiles(a.root()).get(0);
    byte[] withThird = Files.readAllBytes(full);
    try (var ch = java.nio.channels.FileChannel.open(journal, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(withThird, (int) whole, 5_000), whole);
    }
    Files.delete(b.resolve("chunks/" + ChunkStore.hex(1) + ".chunk"));
    Files.delete(b.resolve("chunks/" + ChunkStore.hex(2) + ".meta"));

    ChunkStore reopened = open(b);
    assertThat(Files.readAllBytes(reopened.dataPath(1))).isEqualTo(first);
    assertThat(Files.readAllBytes(reopened.dataPath(2))).isEqualTo(second);
    assertThat(reopened.replica(3)).isNull();
  }

  @Test
  @DisplayName("a newer version written in place since is not rolled back by an older record")
  void newerVersionKept() throws IOException {
    ChunkStore a = open(dir.resolve("a"));
    putSmall(a, 7, 1, bytes(3000, 1));
    byte[] newer = bytes(4000, 2);
    Path tmp = a.tempFile(7);
    Files.write(tmp, newer);
    a.commit(7, tmp, metaOf(newer, 2), true);
    Path b = snapshot(a.root(), dir.resolve("b"));

    ChunkStore reopened = open(b);
    assertThat(reopened.replica(7).version()).isEqualTo(2);
    assertThat(Files.readAllBytes(reopened.dataPath(7))).isEqualTo(newer);
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "syncfs: {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  @DisplayName("a checkpoint syncs the chunk files and deletes the journal; close checkpoints")
  void checkpoints(boolean syncfs) throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(!syncfs || FileSystemSync.available());
    Path journalDir = dir.resolve("j");
    List<Long> flushed = new ArrayList<>();
    SmallChunkJournal j = new SmallChunkJournal(journalDir, dir, flushed::addAll, syncfs);
    assertThat(j.recover(r -> { })).isZero();
    j.start();
    byte[] data = bytes(1000, 1);
    j.append(5, metaOf(data, 1), new ByteBuffer[] {ByteBuffer.wrap(data)});
    j.checkpoint(false); // neither large nor old yet
    assertThat(j.checkpoints()).isZero();
    j.checkpoint(true);
    assertThat(j.checkpoints()).isOne();
    assertThat(flushed).isEqualTo(syncfs ? List.of() : List.of(5L));
    try (Stream<Path> s = Files.list(journalDir)) {
      List<Path> left = s.toList();
      assertThat(left).hasSize(1);
      assertThat(Files.size(left.get(0))).isZero();
    }
    j.append(6, metaOf(data, 1), new ByteBuffer[] {ByteBuffer.wrap(data)});
    j.close();
    assertThat(flushed).isEqualTo(syncfs ? List.of() : List.of(5L, 6L));
    try (Stream<Path> s = Files.list(journalDir)) {
      assertThat(s.toList()).isEmpty();
    }

    // A store closed cleanly replays nothing at its next start.
    ChunkStore st = open(dir.resolve("s"));
    putSmall(st, 1, 1, data);
    st.close();
    stores.remove(st);
    assertThat(journalFiles(dir.resolve("s"))).isEmpty();
    assertThat(Files.readAllBytes(open(dir.resolve("s")).dataPath(1))).isEqualTo(data);
  }

  @Test
  @DisplayName("on Linux the checkpoint uses syncfs(2)")
  void syncfsAvailable() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(com.sun.jna.Platform.isLinux());
    assertThat(FileSystemSync.available()).isTrue();
    FileSystemSync.sync(dir);
  }

  @Test
  @DisplayName("concurrent writers share the journal's fsyncs, and every chunk is stored")
  void groupCommit() throws Exception {
    ChunkStore s = open(dir.resolve("g"));
    int threads = 16;
    int each = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t * each;
        done.add(pool.submit(() -> {
          for (int i = first; i < first + each; i++) {
            try {
              putSmall(s, i, 1, bytes(BLOCK, i));
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    int total = threads * each;
    assertThat(s.chunkCount()).isEqualTo(total);
    assertThat(s.journalSyncs()).isLessThan(total).isPositive();
    for (int i = 0; i < total; i += 37) {
      assertThat(Files.readAllBytes(s.dataPath(i))).isEqualTo(bytes(BLOCK, i));
    }
  }
}
