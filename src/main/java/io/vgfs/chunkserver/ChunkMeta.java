package io.vgfs.chunkserver;

import io.vgfs.protocol.Crc32c;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The checksum file stored beside each chunk ({@code <id>.meta}). Binary, big-endian:
 * <pre>
 *  0  4   magic "VGCM"
 *  4  1   format version (1)
 *  5  3   reserved (0)
 *  8  8   chunk version
 * 16  8   chunk length in bytes
 * 24  4   block size
 * 28  4   n, the number of blocks: ceil(length / block size)
 * 32  4n  CRC32C of each block
 * 32+4n 4 CRC32C of all the bytes before it
 * </pre>
 * A chunk is valid only when its meta file parses, its own CRC holds and the data file is exactly
 * {@code length} bytes long.
 */
public record ChunkMeta(long version, long length, int blockSize, int[] crcs) {

  private static final int MAGIC = 0x5647434D; // "VGCM"
  private static final byte FORMAT = 1;

  public ChunkMeta {
    if (blockSize <= 0 || length < 0) {
      throw new IllegalArgumentException("meta: block size " + blockSize + ", length " + length);
    }
    long blocks = (length + blockSize - 1) / blockSize;
    if (blocks != crcs.length) {
      throw new IllegalArgumentException("meta: " + crcs.length + " checksums for " + length
          + " bytes in blocks of " + blockSize);
    }
  }

  public ChunkMeta withVersion(long v) {
    return new ChunkMeta(v, length, blockSize, crcs);
  }

  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(36 + 4 * crcs.length);
    b.putInt(MAGIC).put(FORMAT).put((byte) 0).putShort((short) 0)
        .putLong(version).putLong(length).putInt(blockSize).putInt(crcs.length);
    for (int crc : crcs) {
      b.putInt(crc);
    }
    b.putInt(Crc32c.of(b.array(), 0, b.position()));
    return b.array();
  }

  public static ChunkMeta decode(byte[] bytes) throws IOException {
    if (bytes.length < 36) {
      throw new IOException("meta file too short");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    if (b.getInt() != MAGIC || b.get() != FORMAT) {
      throw new IOException("not a vgfs chunk meta file");
    }
    b.position(8);
    long version = b.getLong();
    long length = b.getLong();
    int blockSize = b.getInt();
    int n = b.getInt();
    if (n < 0 || bytes.length != 36 + 4L * n) {
      throw new IOException("meta file size does not match its block count");
    }
    int[] crcs = new int[n];
    for (int i = 0; i < n; i++) {
      crcs[i] = b.getInt();
    }
    if (b.getInt() != Crc32c.of(bytes, 0, bytes.length - 4)) {
      throw new IOException("meta file failed its CRC32C check");
    }
    try {
      return new ChunkMeta(version, length, blockSize, crcs);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage());
    }
  }
}
