package io.vgfs.chunkserver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;

/**
 * A small chunk's checksums kept in an extended attribute of its data file ({@code user.vgfs})
 * instead of a {@code .meta} file beside it: one file per replica, so storing a small chunk
 * durably costs one fsync, not two, and deleting it one rename.
 *
 * <p>Value: the chunk id (8 bytes, big-endian), then {@link ChunkMeta#encode()}. The id guards
 * against a file reused from the {@link FilePool} that still carries the attribute of the chunk
 * it held before. A {@code .meta} file, when there is one, takes precedence: appends, truncation
 * and version changes rewrite the checksums as a {@code .meta} file.
 *
 * <p>Used only where a probe at start-up found user extended attributes supported (ext4, XFS and
 * btrfs have them); elsewhere, and with {@code --checksum-attributes false}, new chunks get a
 * {@code .meta} file. A data directory must be copied with its attributes ({@code cp -a},
 * {@code rsync -aX}): a small chunk that lost its attribute is removed at start-up like any data
 * without checksums, and re-replicated from its other replicas. Blocking.
 */
final class MetaAttribute {

  private static final Logger log = LoggerFactory.getLogger(MetaAttribute.class);
  static final String NAME = "vgfs";
  /** Chunks whose checksums are at most this long use the attribute (ext4 fits one block). */
  static final int MAX_BYTES = 1024;

  private MetaAttribute() {
  }

  /** What a probe found out about a directory's file system. */
  enum Support {
    /** Attributes work: new small chunks get one. */
    YES,
    /** The file system has none: no chunk there can have one. */
    NO,
    /**
     * The probe failed for another reason (a full disk, an I/O error): new chunks get .meta
     * files, but attributes of stored chunks are still read, so none is taken for missing.
     */
    UNKNOWN
  }

  /** Whether files in {@code dir} take the attribute; tries it on a scratch file. */
  static Support probe(Path dir) {
    Path probe = dir.resolve("xattr-probe");
    try {
      Files.deleteIfExists(probe);
      Files.createFile(probe);
      ChunkMeta meta = new ChunkMeta(1, 0, io.vgfs.protocol.data.Frames.BLOCK_SIZE, new int[0]);
      write(probe, 42, meta);
      return read(probe, 42) != null ? Support.YES : Support.UNKNOWN;
    } catch (UnsupportedOperationException e) {
      log.info("{} takes no extended attributes ({}): checksums go to .meta files", dir,
          e.toString());
      return Support.NO;
    } catch (IOException e) {
      // Java gives no errno: EOPNOTSUPP only shows in the reason.
      String reason = e instanceof FileSystemException fse ? fse.getReason() : null;
      if (reason != null && reason.toLowerCase(java.util.Locale.ROOT).contains("not supported")) {
        log.info("{} takes no extended attributes ({}): checksums go to .meta files", dir, reason);
        return Support.NO;
      }
      log.warn("could not try extended attributes in {} ({}): new chunks get .meta files", dir,
          e.toString());
      return Support.UNKNOWN;
    } finally {
      try {
        Files.deleteIfExists(probe);
      } catch (IOException ignored) {
        // tmp/ is emptied at start-up
      }
    }
  }

  static boolean fits(ChunkMeta meta) {
    return 44 + 4 * meta.crcs().length <= MAX_BYTES;
  }

  static void write(Path file, long chunkId, ChunkMeta meta) throws IOException {
    byte[] encoded = meta.encode();
    ByteBuffer value = ByteBuffer.allocate(8 + encoded.length).putLong(chunkId).put(encoded).flip();
    view(file).write(NAME, value);
  }

  /**
   * The checksums stored with {@code file} for {@code chunkId}, or {@code null} if it has none
   * for that chunk (no attribute, another chunk's, or one that does not decode). Throws when the
   * attribute cannot be read: an error is not an absence.
   */
  static ChunkMeta read(Path file, long chunkId) throws IOException {
    UserDefinedFileAttributeView view = view(file);
    if (!view.list().contains(NAME)) {
      return null; // asked first: a failed read gives no errno to tell ENODATA from EIO
    }
    ByteBuffer value = ByteBuffer.allocate(MAX_BYTES + 64);
    view.read(NAME, value);
    value.flip();
    if (value.remaining() < 8 || value.getLong() != chunkId) {
      return null;
    }
    byte[] encoded = new byte[value.remaining()];
    value.get(encoded);
    try {
      return ChunkMeta.decode(encoded);
    } catch (IOException e) {
      return null; // garbled, like a .meta file whose checksum fails
    }
  }

  private static UserDefinedFileAttributeView view(Path file) throws IOException {
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
    if (view == null) {
      throw new UnsupportedOperationException("no user-defined attributes on " + file);
    }
    return view;
  }
}
