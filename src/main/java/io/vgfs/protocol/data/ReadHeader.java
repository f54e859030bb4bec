package io.vgfs.protocol.data;

import io.vertx.core.buffer.Buffer;

/**
 * {@link FrameType#READ_OK} payload (binary, big-endian):
 * <pre>
 *  0  u64  start      first byte sent, a multiple of blockSize
 *  8  u64  count      bytes that follow the frame, raw and unframed
 * 16  u64  chunkLen   the chunk's whole length
 * 24  u32  blockSize
 * 28  u32  n          number of checksums
 * 32  u32[n]          CRC32C of each block in [start, start + count)
 * </pre>
 * The sender streams the bytes straight from disk (zero-copy); the reader checks every block
 * against its checksum before passing on any of its bytes.
 */
public record ReadHeader(long start, long count, long chunkLength, int blockSize, int[] crcs) {

  public Buffer encode() {
    Buffer b = Buffer.buffer(32 + 4 * crcs.length)
        .appendLong(start).appendLong(count).appendLong(chunkLength).appendInt(blockSize)
        .appendInt(crcs.length);
    for (int crc : crcs) {
      b.appendInt(crc);
    }
    return b;
  }

  public static ReadHeader decode(Buffer b) {
    if (b.length() < 32) {
      throw new FrameException("READ_OK header too short");
    }
    long start = b.getLong(0);
    long count = b.getLong(8);
    long chunkLength = b.getLong(16);
    int blockSize = b.getInt(24);
    int n = b.getInt(28);
    if (blockSize <= 0 || n < 0 || b.length() != 32 + 4L * n || count < 0
        || (count + blockSize - 1) / blockSize != n) {
      throw new FrameException("inconsistent READ_OK header");
    }
    int[] crcs = new int[n];
    for (int i = 0; i < n; i++) {
      crcs[i] = b.getInt(32 + 4 * i);
    }
    return new ReadHeader(start, count, chunkLength, blockSize, crcs);
  }
}
