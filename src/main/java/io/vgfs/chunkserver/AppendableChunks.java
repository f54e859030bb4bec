package io.vgfs.chunkserver;

import io.vertx.core.buffer.Buffer;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.data.Frames;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * The replica side of appendable chunks ({@link AppendService}): a replica is made exactly the
 * committed length for each new append lease, then grows by appends at its end, its block
 * checksums updated without reading back and made durable with the data. Each operation holds the
 * store's lock, as the store's own mutations (delete, clone) do. Blocking: call from a worker.
 */
public final class AppendableChunks {

  private final ChunkStore store;

  AppendableChunks(ChunkStore store) {
    this.store = store;
  }

  /**
   * Makes the replica of {@code chunkId} exactly {@code length} bytes long at {@code version},
   * for a new append lease: an absent replica of a new chunk is created empty; bytes beyond the
   * committed length (appends that were never committed) are cut off, and the last block's
   * checksum recomputed. Fails when the replica is shorter than {@code length} (it missed appends:
   * it is stale). Blocking.
   */
  public ChunkMeta prepare(long chunkId, long version, long length) throws IOException {
    synchronized (store) {
      return prepareLocked(chunkId, version, length);
    }
  }

  private ChunkMeta prepareLocked(long chunkId, long version, long length) throws IOException {
    ReplicaInfo info = store.replica(chunkId);
    if (info == null) {
      if (length != 0) {
        throw new IOException("no replica of chunk " + ChunkStore.hex(chunkId)
            + " to continue at " + length);
      }
      Path temp = store.tempFile(chunkId);
      Files.write(temp, new byte[0]);
      ChunkMeta meta = new ChunkMeta(version, 0, Frames.BLOCK_SIZE, new int[0]);
      store.commit(chunkId, temp, meta, true);
      return meta;
    }
    if (info.length() < length) {
      throw new IOException("replica of chunk " + ChunkStore.hex(chunkId) + " has "
          + info.length() + " bytes, " + length + " are committed: it is stale");
    }
    ChunkMeta meta = store.loadMeta(chunkId);
    Path data = store.dataPath(chunkId);
    int bs = meta.blockSize();
    int blocks = (int) ((length + bs - 1) / bs);
    int[] crcs = Arrays.copyOf(meta.crcs(), blocks);
    try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (info.length() > length) {
        if (length % bs != 0) {
          // The last block becomes partial and needs a checksum of its kept bytes. They are read
          // back, so the whole block is checked against its old checksum first: a checksum
          // computed over rotten bytes would make the corruption look valid forever.
          long start = (long) (blocks - 1) * bs;
          ByteBuffer b = ByteBuffer.allocate((int) (Math.min(start + bs, info.length()) - start));
          while (b.hasRemaining()) {
            if (ch.read(b, start + b.position()) < 0) {
              throw new IOException("replica of chunk " + ChunkStore.hex(chunkId)
                  + " is shorter than its " + info.length() + " bytes");
            }
          }
          if (Crc32c.of(b.array(), 0, b.capacity()) != meta.crcs()[blocks - 1]) {
            throw new IOException("replica of chunk " + ChunkStore.hex(chunkId)
                + " is corrupt: block " + (blocks - 1) + " does not match its checksum");
          }
          crcs[blocks - 1] = Crc32c.of(b.array(), 0, (int) (length - start));
        }
        ch.truncate(length);
      }
      ch.force(false);
    }
    ChunkMeta updated = new ChunkMeta(version, length, bs, crcs);
    store.writeMeta(chunkId, updated);
    return updated;
  }

  /**
   * Appends {@code data} at {@code offset}, which must be the replica's current length, under
   * {@code version}; updates the block checksums without reading back (a partial last block's
   * checksum is composed with the new bytes'), makes data and checksums durable, and returns the
   * new meta. Blocking; callers append to one chunk one batch at a time.
   */
  public ChunkMeta append(long chunkId, long version, long offset, List<Buffer> data)
      throws IOException {
    synchronized (store) {
      return appendLocked(chunkId, version, offset, data);
    }
  }

  private ChunkMeta appendLocked(long chunkId, long version, long offset, List<Buffer> data)
      throws IOException {
    ReplicaInfo info = store.replica(chunkId);
    if (info == null) {
      throw new NoSuchFileException("no replica of chunk " + ChunkStore.hex(chunkId));
    }
    if (info.version() != version) {
      throw new IOException("chunk " + ChunkStore.hex(chunkId) + " is at version " + info.version()
          + ", not " + version);
    }
    if (info.length() != offset) {
      throw new IOException("chunk " + ChunkStore.hex(chunkId) + " has " + info.length()
          + " bytes; an append at " + offset + " would leave a gap or overwrite");
    }
    ChunkMeta meta = store.cachedMeta(chunkId);
    if (meta == null) {
      meta = store.loadMeta(chunkId);
    }
    int bs = meta.blockSize();
    long length = offset;
    int[] crcs = meta.crcs().clone(); // the cached meta, and any reader holding it, keep theirs
    int blocks = crcs.length;
    try (FileChannel ch = FileChannel.open(store.dataPath(chunkId), StandardOpenOption.WRITE)) {
      for (Buffer b : data) {
        ByteBuffer nio = ByteBuffer.wrap(b.getBytes());
        long pos = length;
        while (nio.hasRemaining()) {
          pos += ch.write(nio, pos);
        }
        // Checksums: fill the partial last block first, then whole blocks.
        int done = 0;
        while (done < b.length()) {
          int inBlock = (int) (length % bs);
          int take = Math.min(bs - inBlock, b.length() - done);
          int part = Crc32c.of(b, done, take);
          if (inBlock == 0) {
            if (blocks == crcs.length) {
              crcs = Arrays.copyOf(crcs, Math.max(4, crcs.length * 2));
            }
            crcs[blocks++] = part;
          } else {
            crcs[blocks - 1] = Crc32c.combine(crcs[blocks - 1], part, take);
          }
          length += take;
          done += take;
        }
      }
      ch.force(false);
    }
    ChunkMeta updated = new ChunkMeta(version, length, bs, Arrays.copyOf(crcs, blocks));
    store.writeMeta(chunkId, updated);
    return updated;
  }
}
