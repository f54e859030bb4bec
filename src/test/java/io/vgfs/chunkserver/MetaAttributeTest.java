package io.vgfs.chunkserver;

import io.vertx.core.buffer.Buffer;
import io.vgfs.protocol.Crc32c;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Small chunks whose checksums live in an extended attribute of the data file. */
class MetaAttributeTest {

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

  private static ChunkMeta metaOf(byte[] data, long version) {
    int n = (data.length + BLOCK - 1) / BLOCK;
    int[] crcs = new int[n];
    for (int i = 0; i < n; i++) {
      crcs[i] = Crc32c.of(data, i * BLOCK, Math.min(BLOCK, data.length - i * BLOCK));
    }
    return new ChunkMeta(version, data.length, BLOCK, crcs);
  }

  private ChunkStore open(Path root) throws IOException {
    return open(root, true);
  }

  private ChunkStore open(Path root, boolean attributes) throws IOException {
    ChunkStore s = new ChunkStore(root, attributes);
    s.open();
    stores.add(s);
    return s;
  }

  private ChunkStore reopen(ChunkStore s) throws IOException {
    s.close();
    stores.remove(s);
    return open(s.root());
  }

  private static void commitSmall(ChunkStore s, long id, byte[] data, long version)
      throws IOException {
    s.commitSmall(id, List.of(Buffer.buffer(data)), metaOf(data, version), true);
  }

  @Test
  @DisplayName("a small chunk is one file: its checksums are in an attribute, read back after a restart")
  void smallChunkIsOneFile(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    assumeTrue(s.writesAttributes(), "the temp directory takes no user extended attributes");
    byte[] data = bytes(BLOCK + 4_464, 1);
    commitSmall(s, 7, data, 3);
    assertThat(s.metaPath(7)).doesNotExist();
    assertThat(s.dataPath(7)).hasBinaryContent(data);
    assertThat(MetaAttribute.read(s.dataPath(7), 7).crcs()).containsExactly(metaOf(data, 3).crcs());

    ChunkStore s2 = reopen(s);
    assertThat(s2.replicas()).containsExactly(new ReplicaInfo(7, 3, data.length));
    assertThat(s2.usedBytes()).isEqualTo(data.length);
    assertThat(s2.cachedMeta(7)).isNull();
    ChunkMeta loaded = s2.loadMeta(7);
    assertThat(loaded.version()).isEqualTo(3);
    assertThat(loaded.length()).isEqualTo(data.length);
    assertThat(loaded.crcs()).containsExactly(metaOf(data, 3).crcs());

    assertThat(s2.delete(7)).isTrue();
    assertThat(s2.dataPath(7)).doesNotExist();
    assertThat(s2.pool().size()).as("one file went to the pool").isEqualTo(1);
  }

  @Test
  @DisplayName("a reused file's stale attribute, a short file or a garbled attribute is not taken for a chunk")
  void staleOrBadAttributesAreRemoved(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    assumeTrue(s.writesAttributes(), "the temp directory takes no user extended attributes");
    byte[] a = bytes(5_000, 2);
    commitSmall(s, 1, a, 1);
    assertThat(s.delete(1)).isTrue();
    // A crash after a pooled file (still carrying chunk 1's attribute) became chunk 2's data,
    // before chunk 2's attribute was written.
    assertThat(s.pool().reuse(s.dataPath(2))).isTrue();
    Files.write(s.dataPath(2), a);
    // Data cut short after its attribute was written.
    commitSmall(s, 3, bytes(9_000, 3), 1);
    Files.write(s.dataPath(3), bytes(8_999, 3));
    // An attribute that does not decode.
    commitSmall(s, 4, bytes(100, 4), 1);
    Files.getFileAttributeView(s.dataPath(4), UserDefinedFileAttributeView.class)
        .write(MetaAttribute.NAME, ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3}));
    byte[] good = bytes(3_000, 5);
    commitSmall(s, 5, good, 2);

    ChunkStore s2 = reopen(s);
    assertThat(s2.replicas()).containsExactly(new ReplicaInfo(5, 2, good.length));
    for (long id = 1; id <= 4; id++) {
      assertThat(s2.dataPath(id)).as("data of %d", id).doesNotExist();
    }
    assertThat(s2.dataPath(5)).hasBinaryContent(good);
  }

  @Test
  @DisplayName("an append or a new version writes a .meta file, which wins over the attribute")
  void metaFileWinsAfterAppend(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    assumeTrue(s.writesAttributes(), "the temp directory takes no user extended attributes");
    byte[] first = bytes(10_000, 6);
    commitSmall(s, 9, first, 1);
    s.appends().prepare(9, 2, first.length);
    assertThat(s.metaPath(9)).exists();
    byte[] more = bytes(70_000, 7);
    s.appends().append(9, 2, first.length, List.of(Buffer.buffer(more)));
    byte[] whole = Arrays.copyOf(first, first.length + more.length);
    System.arraycopy(more, 0, whole, first.length, more.length);

    ChunkStore s2 = reopen(s);
    assertThat(s2.replicas()).containsExactly(new ReplicaInfo(9, 2, whole.length));
    assertThat(s2.loadMeta(9).crcs()).containsExactly(metaOf(whole, 2).crcs());
    assertThat(s2.dataPath(9)).hasBinaryContent(whole);
  }

  @Test
  @DisplayName("--checksum-attributes false writes .meta files, for stored chunks too at start-up; both stay readable")
  void switchedOff(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    assumeTrue(s.writesAttributes(), "the temp directory takes no user extended attributes");
    byte[] a = bytes(2_000, 8);
    commitSmall(s, 1, a, 1);
    s.close();
    stores.remove(s);

    ChunkStore off = open(root, false);
    assertThat(off.writesAttributes()).isFalse();
    byte[] b = bytes(3_000, 9);
    commitSmall(off, 2, b, 1);
    assertThat(off.metaPath(2)).exists();
    // Converted at start-up, so that a version without attributes can read it.
    assertThat(ChunkMeta.decode(Files.readAllBytes(off.metaPath(1))).crcs())
        .containsExactly(metaOf(a, 1).crcs());
    assertThat(off.replicas()).containsExactlyInAnyOrder(
        new ReplicaInfo(1, 1, a.length), new ReplicaInfo(2, 1, b.length));
    assertThat(off.usedBytes()).as("a converted chunk is counted once").isEqualTo(a.length + b.length);
    assertThat(off.loadMeta(1).crcs()).containsExactly(metaOf(a, 1).crcs());

    ChunkStore on = reopen(off);
    assertThat(on.replicas()).containsExactlyInAnyOrder(
        new ReplicaInfo(1, 1, a.length), new ReplicaInfo(2, 1, b.length));
    assertThat(on.loadMeta(2).crcs()).containsExactly(metaOf(b, 1).crcs());
    assertThat(on.usedBytes()).isEqualTo(a.length + b.length);
  }

  @Test
  @DisplayName("a chunk whose .meta file is invalid is kept when its attribute holds its checksums")
  void attributeBacksAnInvalidMetaFile(@TempDir Path root) throws IOException {
    ChunkStore s = open(root);
    assumeTrue(s.writesAttributes(), "the temp directory takes no user extended attributes");
    byte[] a = bytes(6_000, 10);
    commitSmall(s, 1, a, 1);
    byte[] b = bytes(7_000, 11);
    s.close();
    stores.remove(s);
    ChunkStore off = open(root, false); // gives chunk 1 a .meta file
    commitSmall(off, 2, b, 1);          // a .meta file only
    off.close();
    stores.remove(off);
    for (long id : new long[] {1, 2}) {
      byte[] meta = Files.readAllBytes(off.metaPath(id));
      meta[20] ^= 1; // fails the file's own checksum
      Files.write(off.metaPath(id), meta);
    }

    ChunkStore again = open(root);
    assertThat(again.replicas()).containsExactly(new ReplicaInfo(1, 1, a.length));
    assertThat(again.usedBytes()).isEqualTo(a.length);
    assertThat(again.metaPath(1)).doesNotExist();
    assertThat(again.loadMeta(1).crcs()).containsExactly(metaOf(a, 1).crcs());
    assertThat(again.dataPath(2)).doesNotExist();
    assertThat(again.metaPath(2)).doesNotExist();
  }
}
