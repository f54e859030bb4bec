package io.vgfs.chunkserver;

import io.vgfs.protocol.Crc32c;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChunkStoreTest {

  private static final int BLOCK = 64 * 1024;

  private final List<ChunkStore> stores = new ArrayList<>();

  @AfterEach
  void closeStores() throws IOException {
    for (ChunkStore s : stores) {
      s.close();
    }
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static ChunkMeta metaOf(byte[] data, long version, int blockSize) {
    int n = (data.length + blockSize - 1) / blockSize;
    int[] crcs = new int[n];
    for (int i = 0; i < n; i++) {
      int from = i * blockSize;
      crcs[i] = Crc32c.of(data, from, Math.min(blockSize, data.length - from));
    }
    return new ChunkMeta(version, data.length, blockSize, crcs);
  }

  private ChunkStore open(Path root) throws IOException {
    ChunkStore s = new ChunkStore(root);
    s.open();
    stores.add(s);
    return s;
  }

  private ChunkStore reopen(ChunkStore s) throws IOException {
    s.close();
    stores.remove(s);
    return open(s.root());
  }

  /** Writes {@code data} as a temp file and commits it, as a write session does. */
  private static ChunkMeta put(ChunkStore s, long id, long version, byte[] data) throws IOException {
    Path tmp = s.tempFile(id);
    Files.write(tmp, data);
    ChunkMeta meta = metaOf(data, version, BLOCK);
    s.commit(id, tmp, meta, true);
    assertThat(tmp).doesNotExist();
    return meta;
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("ChunkMeta")
  class Meta {

    @Test
    @DisplayName("encode/decode round trip keeps version, length, block size and checksums")
    void roundTrip() throws IOException {
      byte[] data = bytes(3 * BLOCK + 123, 1);
      ChunkMeta m = metaOf(data, 7, BLOCK);
      byte[] enc = m.encode();
      assertThat(enc).hasSize(36 + 4 * 4);
      assertThat(Arrays.copyOf(enc, 4)).isEqualTo("VGCM".getBytes());
      ChunkMeta d = ChunkMeta.decode(enc);
      assertThat(d.version()).isEqualTo(7);
      assertThat(d.length()).isEqualTo(3L * BLOCK + 123);
      assertThat(d.blockSize()).isEqualTo(BLOCK);
      assertThat(d.crcs()).containsExactly(m.crcs());
      assertThat(d.withVersion(8).version()).isEqualTo(8);
      assertThat(d.withVersion(8).crcs()).containsExactly(m.crcs());
    }

    @Test
    @DisplayName("an empty chunk has no checksums and round-trips")
    void empty() throws IOException {
      ChunkMeta d = ChunkMeta.decode(new ChunkMeta(1, 0, BLOCK, new int[0]).encode());
      assertThat(d.length()).isZero();
      assertThat(d.crcs()).isEmpty();
    }

    @Test
    @DisplayName("flipping any single byte makes decode fail")
    void flippedByte() {
      byte[] enc = metaOf(bytes(2 * BLOCK + 1, 2), 3, BLOCK).encode();
      for (int i = 0; i < enc.length; i++) {
        for (int bit : new int[] {0x01, 0x80}) {
          byte[] bad = enc.clone();
          bad[i] ^= (byte) bit;
          int at = i;
          assertThatThrownBy(() -> ChunkMeta.decode(bad)).as("byte %d bit %x", at, bit)
              .isInstanceOf(IOException.class);
        }
      }
    }

    @Test
    @DisplayName("truncated or extended files are rejected")
    void wrongSize() {
      byte[] enc = metaOf(bytes(BLOCK + 1, 3), 1, BLOCK).encode();
      assertThatThrownBy(() -> ChunkMeta.decode(Arrays.copyOf(enc, enc.length - 1)))
          .isInstanceOf(IOException.class);
      assertThatThrownBy(() -> ChunkMeta.decode(Arrays.copyOf(enc, enc.length + 4)))
          .isInstanceOf(IOException.class);
      assertThatThrownBy(() -> ChunkMeta.decode(new byte[35])).isInstanceOf(IOException.class)
          .hasMessageContaining("too short");
    }

    @Test
    @DisplayName("the constructor refuses a checksum count that does not match the length")
    void inconsistent() {
      assertThatThrownBy(() -> new ChunkMeta(1, BLOCK + 1, BLOCK, new int[1]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> new ChunkMeta(1, 0, BLOCK, new int[1]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> new ChunkMeta(1, 2 * BLOCK, BLOCK, new int[1]))
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("a zero block size is refused with IllegalArgumentException / IOException")
    void zeroBlockSize() {
      assertThatThrownBy(() -> new ChunkMeta(1, 10, 0, new int[0]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> ChunkMeta.decode(zeroBlockSizeMeta()))
          .isInstanceOf(IOException.class);
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  @DisplayName("a committed chunk is indexed, and again after reopening the store")
  void commitAndReopen(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    byte[] data = bytes(BLOCK + 500, 10);
    ChunkMeta meta = put(s, 0x1_0000_00abL, 3, data);
    assertThat(s.replica(0x1_0000_00abL)).isEqualTo(new ReplicaInfo(0x1_0000_00abL, 3, data.length));
    assertThat(s.usedBytes()).isEqualTo(data.length);
    assertThat(s.chunkCount()).isEqualTo(1);
    assertThat(s.cachedMeta(0x1_0000_00abL)).isSameAs(meta);
    assertThat(s.dataPath(0x1_0000_00abL)).hasBinaryContent(data);
    assertThat(s.dataPath(0x1_0000_00abL).toString()).endsWith("chunks/00000001000000ab.chunk");
    assertThat(s.metaPath(0x1_0000_00abL)).exists();

    ChunkStore s2 = reopen(s);
    assertThat(s2.replicas()).containsExactly(new ReplicaInfo(0x1_0000_00abL, 3, data.length));
    assertThat(s2.usedBytes()).isEqualTo(data.length);
    assertThat(s2.cachedMeta(0x1_0000_00abL)).isNull();
    ChunkMeta loaded = s2.loadMeta(0x1_0000_00abL);
    assertThat(loaded.crcs()).containsExactly(meta.crcs());
    assertThat(loaded.version()).isEqualTo(3);
    assertThat(s2.cachedMeta(0x1_0000_00abL)).isSameAs(loaded);
  }

  @Test
  @DisplayName("many chunks across subdirectories, including an empty one, survive a reopen")
  void manyChunks(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    long total = 0;
    for (long id = 0; id < 40; id++) {
      byte[] data = bytes((int) (id * 97), id);
      put(s, (id << 32) | (id * 37), 1 + id % 3, data);
      total += data.length;
    }
    assertThat(s.usedBytes()).isEqualTo(total);
    ChunkStore s2 = reopen(s);
    assertThat(s2.chunkCount()).isEqualTo(40);
    assertThat(s2.usedBytes()).isEqualTo(total);
    assertThat(s2.replica(0)).isEqualTo(new ReplicaInfo(0, 1, 0));
    assertThat(s2.replica((5L << 32) | 185)).isEqualTo(new ReplicaInfo((5L << 32) | 185, 3, 485));
  }

  @Test
  @DisplayName("a new version of a chunk replaces the old one and adjusts usedBytes")
  void replace(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    put(s, 9, 1, bytes(1000, 1));
    byte[] v2 = bytes(300, 2);
    put(s, 9, 2, v2);
    assertThat(s.replica(9)).isEqualTo(new ReplicaInfo(9, 2, 300));
    assertThat(s.usedBytes()).isEqualTo(300);
    assertThat(s.dataPath(9)).hasBinaryContent(v2);
    assertThat(reopen(s).replica(9)).isEqualTo(new ReplicaInfo(9, 2, 300));
  }

  @Test
  @DisplayName("commit refuses a temp file whose size differs from its meta")
  void commitSizeMismatch(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    Path tmp = s.tempFile(5);
    Files.write(tmp, bytes(100, 5));
    ChunkMeta meta = metaOf(bytes(101, 5), 1, BLOCK);
    assertThatThrownBy(() -> s.commit(5, tmp, meta, false)).isInstanceOf(IOException.class)
        .hasMessageContaining("expected 101");
    assertThat(s.replica(5)).isNull();
    assertThat(s.usedBytes()).isZero();
    s.discard(tmp);
    assertThat(tmp).doesNotExist();
  }

  @Test
  @DisplayName("open() removes invalid chunks and leftover temp files, keeps valid ones")
  void invalidRemovedAtOpen(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    byte[] good = bytes(5000, 1);
    put(s, 1, 1, good);
    put(s, 2, 1, bytes(5000, 2));   // data will be cut short
    put(s, 3, 1, bytes(5000, 3));   // data will be deleted: meta without data
    put(s, 4, 1, bytes(5000, 4));   // meta will be deleted: data without meta
    put(s, 5, 1, bytes(5000, 5));   // meta will be corrupted
    put(s, 6, 1, bytes(5000, 6));   // data will be extended
    s.close();
    stores.remove(s);

    Files.write(s.dataPath(2), bytes(4999, 2));
    Files.delete(s.dataPath(3));
    Files.delete(s.metaPath(4));
    byte[] meta5 = Files.readAllBytes(s.metaPath(5));
    meta5[20] ^= 1;
    Files.write(s.metaPath(5), meta5);
    Files.write(s.dataPath(6), bytes(5001, 6));
    Path tmpDir = root.resolve("tmp");
    Path leftover1 = tmpDir.resolve("0000000000000007.abcd1234.chunk");
    Path leftover2 = tmpDir.resolve("0000000000000007.abcd1234.chunk.meta");
    Files.write(leftover1, bytes(10, 7));
    Files.write(leftover2, bytes(10, 7));
    // A stray meta file whose name is not a chunk id.
    Path stray = s.metaPath(1).resolveSibling("not-hex.meta");
    Files.write(stray, metaOf(bytes(10, 8), 1, BLOCK).encode());

    ChunkStore s2 = open(root);
    assertThat(s2.replicas()).containsExactly(new ReplicaInfo(1, 1, 5000));
    assertThat(s2.usedBytes()).isEqualTo(5000);
    assertThat(s2.dataPath(1)).hasBinaryContent(good);
    for (long id = 2; id <= 6; id++) {
      assertThat(s2.dataPath(id)).as("data of %d", id).doesNotExist();
      assertThat(s2.metaPath(id)).as("meta of %d", id).doesNotExist();
    }
    assertThat(leftover1).doesNotExist();
    assertThat(leftover2).doesNotExist();
    assertThat(stray).doesNotExist();
    try (var files = Files.list(tmpDir)) {
      assertThat(files).isEmpty();
    }
  }

  /** A meta file with a valid CRC but block size 0 (length 0, no checksums). */
  private static byte[] zeroBlockSizeMeta() {
    ByteBuffer b = ByteBuffer.allocate(36);
    b.putInt(0x5647434D).put((byte) 1).put((byte) 0).putShort((short) 0)
        .putLong(1).putLong(0).putInt(0).putInt(0);
    b.putInt(Crc32c.of(b.array(), 0, 32));
    return b.array();
  }

  @Test
  @DisplayName("open() removes a checksummed meta file with block size 0 instead of failing")
  void zeroBlockSizeAtOpen(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    put(s, 1, 1, bytes(100, 1));
    s.close();
    stores.remove(s);
    Files.write(s.metaPath(0x201), zeroBlockSizeMeta());
    Files.write(s.dataPath(0x201), new byte[0]);
    ChunkStore s2 = open(root);
    assertThat(s2.replicas()).containsExactly(new ReplicaInfo(1, 1, 100));
    assertThat(s2.metaPath(0x201)).doesNotExist();
  }

  @Test
  @DisplayName("server.id is created once and persists across reopen")
  void serverId(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    String id = s.serverId();
    assertThat(id).startsWith("cs-").hasSizeGreaterThan(5);
    assertThat(root.resolve("server.id")).hasContent(id);
    assertThat(reopen(s).serverId()).isEqualTo(id);
    // Another directory, another id.
    ChunkStore other = open(root.resolve("other"));
    assertThat(other.serverId()).isNotEqualTo(id);
  }

  @Test
  @DisplayName("a server.id written by an operator is used as is (trimmed)")
  void givenServerId(@TempDir Path root) throws IOException {
    Files.writeString(root.resolve("server.id"), "cs-fixed\n");
    assertThat(open(root).serverId()).isEqualTo("cs-fixed");
  }

  @Test
  @DisplayName("a second store on the same directory fails while the first is open")
  void directoryLock(@TempDir Path root) throws IOException {
    ChunkStore first = open(root);
    ChunkStore second = new ChunkStore(root);
    assertThatThrownBy(second::open).isInstanceOf(IOException.class).hasMessageContaining("in use");
    // Still usable after the failed attempt, and the directory is free once it closes.
    put(first, 1, 1, bytes(10, 1));
    first.close();
    stores.remove(first);
    ChunkStore third = open(root);
    assertThat(third.replica(1)).isEqualTo(new ReplicaInfo(1, 1, 10));
  }

  @Test
  @DisplayName("delete() removes both files and frees usedBytes; deleting again reports false")
  void delete(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    put(s, 1, 1, bytes(1000, 1));
    put(s, 2, 1, bytes(3000, 2));
    assertThat(s.usedBytes()).isEqualTo(4000);
    assertThat(s.delete(2)).isTrue();
    assertThat(s.usedBytes()).isEqualTo(1000);
    assertThat(s.replica(2)).isNull();
    assertThat(s.cachedMeta(2)).isNull();
    assertThat(s.dataPath(2)).doesNotExist();
    assertThat(s.metaPath(2)).doesNotExist();
    assertThat(s.delete(2)).isFalse();
    assertThat(s.usedBytes()).isEqualTo(1000);
    assertThat(reopen(s).replicas()).containsExactly(new ReplicaInfo(1, 1, 1000));
  }

  @Test
  @DisplayName("hex ids are 16 lower-case digits")
  void hexIds() {
    assertThat(ChunkStore.hex(0)).isEqualTo("0000000000000000");
    assertThat(ChunkStore.hex(0xABCDEFL)).isEqualTo("0000000000abcdef");
    assertThat(ChunkStore.hex(-1L)).isEqualTo("ffffffffffffffff");
  }

  @Test
  @DisplayName("buffered chunks wait for one sync of the file system; on Linux that is syncfs(2)")
  void bufferedSync(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    byte[] data = bytes(100_000, 3);
    List<io.vertx.core.buffer.Buffer> blocks = List.of(
        io.vertx.core.buffer.Buffer.buffer(Arrays.copyOfRange(data, 0, BLOCK)),
        io.vertx.core.buffer.Buffer.buffer(Arrays.copyOfRange(data, BLOCK, data.length)));
    s.commitSmall(9, blocks, metaOf(data, 1, BLOCK), false);
    s.syncLater(9);
    s.syncLater(10); // deleted before its sync: nothing to sync, no failure
    assertThat(s.unsyncedChunks()).isEqualTo(2);
    s.syncBuffered();
    assertThat(s.unsyncedChunks()).isZero();
    assertThat(Files.readAllBytes(s.dataPath(9))).isEqualTo(data);
    if (com.sun.jna.Platform.isLinux()) {
      assertThat(FileSystemSync.available()).isTrue();
    }
  }

  @Test
  @DisplayName("writeback of a written range starts through sync_file_range(2) on Linux")
  void startsWriteback(@TempDir Path root) throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(com.sun.jna.Platform.isLinux());
    Path f = root.resolve("f");
    Files.write(f, bytes(1 << 20, 5));
    int fd = FileSystemSync.openForWriteback(f);
    try {
      assertThat(fd).isNotNegative();
      // A wrong binding or flags would fail here (the writer itself ignores failures).
      assertThat(FileSystemSync.startWriteback(fd, 0, 1 << 20)).isTrue();
      assertThat(FileSystemSync.startWriteback(fd, 1 << 19, 1 << 19)).isTrue();
    } finally {
      FileSystemSync.close(fd);
    }
    assertThat(FileSystemSync.openForWriteback(root.resolve("missing"))).isEqualTo(-1);
  }

  @Test
  @DisplayName("files of deleted chunks are emptied, kept, and reused for new chunks; a restart keeps the pool")
  void reusesFilesOfDeletedChunks(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    byte[] a = bytes(70_000, 11);
    s.commitSmall(1, List.of(io.vertx.core.buffer.Buffer.buffer(a)), metaOf(a, 1, BLOCK), true);
    assertThat(s.delete(1)).isTrue();
    assertThat(s.delete(1)).isFalse();
    FilePool pool = s.pool();
    int perChunk = s.writesAttributes() ? 1 : 2; // data, and checksums unless in an attribute
    assertThat(pool.size()).isEqualTo(perChunk);
    try (var files = Files.list(root.resolve("free"))) {
      assertThat(files.mapToLong(f -> f.toFile().length()).sum()).as("pooled files are empty")
          .isZero();
    }
    byte[] b = bytes(5_000, 12);
    s.commitSmall(2, List.of(io.vertx.core.buffer.Buffer.buffer(b)), metaOf(b, 3, BLOCK), true);
    assertThat(pool.reused()).isEqualTo(perChunk);
    assertThat(pool.size()).isZero();
    assertThat(Files.readAllBytes(s.dataPath(2))).isEqualTo(b);
    assertThat(s.loadMeta(2).version()).isEqualTo(3);
    // An existing file is never replaced by a pooled one.
    s.delete(2);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
      s.commitSmall(3, List.of(io.vertx.core.buffer.Buffer.buffer(b)), metaOf(b, 1, BLOCK), true);
      s.commitSmall(3, List.of(io.vertx.core.buffer.Buffer.buffer(a)), metaOf(a, 1, BLOCK), true);
    }).isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    assertThat(Files.readAllBytes(s.dataPath(3))).isEqualTo(b);
    s.commitSmall(4, List.of(io.vertx.core.buffer.Buffer.buffer(a)), metaOf(a, 1, BLOCK), true);
    s.delete(4);
    int pooled = pool.size();
    assertThat(pooled).isEqualTo(perChunk);

    ChunkStore again = reopen(s);
    assertThat(again.replica(3)).isNotNull();
    assertThat(again.replica(2)).isNull();
    assertThat(again.pool().size()).isEqualTo(pooled);
  }
}
