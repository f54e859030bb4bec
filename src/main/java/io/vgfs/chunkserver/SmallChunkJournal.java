package io.vgfs.chunkserver;

import io.vgfs.protocol.Crc32c;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A write-ahead journal that makes small chunks durable with one shared fsync instead of several
 * each. A small chunk written with {@code sync} durability goes to its data and checksum files
 * without an fsync, then as one record into the journal; writers that finish together share the
 * journal's fsync ({@link GroupSync}). A new file costs the disk several cache flushes (its data,
 * its checksums, its directory entry), and this machine's disk completes only a few thousand
 * flushes a second, so this is what lets small files be written faster than the disk can flush.
 *
 * <p>Every few seconds (or every {@link #ROTATE_BYTES}) the journal is rotated and the old one
 * retired by a <em>checkpoint</em>: one {@code syncfs(2)} (or, where that is missing, an fsync of
 * each chunk named in it) makes the chunk files themselves durable, and the old journal is deleted.
 * After a crash, {@link #recover} hands every record still journaled to the store, which rewrites
 * any chunk whose files did not survive.
 *
 * <pre>
 * dataDir/journal/&lt;sequence as 16 hex&gt;.log, records back to back, big-endian:
 *  0  4   magic "VGJR"
 *  4  4   n, the length of the body
 *  8  4   CRC32C of the body
 * 12  n   body: 8 chunk id, 4 m = length of the meta, m the meta ({@link ChunkMeta#encode()}),
 *         then the chunk's bytes (the rest of the body)
 * </pre>
 * A record that is cut short or fails its CRC ends its file: it was never acknowledged.
 *
 * <p>Blocking; thread-safe. {@link #append} is called by many workers at once.
 */
final class SmallChunkJournal {

  private static final Logger log = LoggerFactory.getLogger(SmallChunkJournal.class);
  private static final int MAGIC = 0x56474A52; // "VGJR"
  private static final int HEADER = 12;
  private static final int MAX_BODY = 64 * 1024 * 1024;

  /** A journal this large is rotated at the next checkpoint. */
  static final long ROTATE_BYTES = 32L * 1024 * 1024;
  /** A journal with records this old is rotated at the next checkpoint. */
  static final long ROTATE_NANOS = 5_000_000_000L;

  /** A journaled chunk, as recovered. */
  record Record(long chunkId, ChunkMeta meta, ByteBuffer data) {
  }

  /** Makes the named chunks' files durable, where syncfs(2) is not available. */
  interface Flusher {
    void flush(List<Long> chunkIds) throws IOException;
  }

  /** Receives recovered records, oldest first. */
  interface Replay {
    void accept(Record r) throws IOException;
  }

  private record Retired(Path file, List<Long> chunkIds) {
  }

  private final Path dir;
  private final Path chunkDir;
  private final Flusher flusher;
  private final boolean syncfs;
  private final GroupSync group = new GroupSync(this::forceCurrent);
  private final Object writeLock = new Object();
  private final Deque<Retired> retired = new ArrayDeque<>();
  private FileChannel current;
  private Path currentFile;
  private long sequence;
  private long position;
  private long firstRecordAt;
  private List<Long> currentChunks = new ArrayList<>();
  private long checkpoints;

  /**
   * @param dir      the journal's directory
   * @param chunkDir where the journaled chunks' files are (its file system is the one synced)
   * @param flusher  syncs chunks one by one where syncfs(2) is not used
   * @param syncfs   whether checkpoints use syncfs(2) ({@link FileSystemSync#available()})
   */
  SmallChunkJournal(Path dir, Path chunkDir, Flusher flusher, boolean syncfs) {
    this.dir = dir;
    this.chunkDir = chunkDir;
    this.syncfs = syncfs;
    this.flusher = flusher;
  }

  /**
   * Reads every journal file left by an earlier run, oldest first, and hands each valid record to
   * {@code replay}. The files stay until {@link #start()}: call that once the replayed chunks are
   * durable. Returns the number of records.
   */
  int recover(Replay replay) throws IOException {
    Files.createDirectories(dir);
    int records = 0;
    for (Path file : journalFiles().values()) {
      records += recoverFile(file, replay);
    }
    return records;
  }

  /** Deletes the recovered journal files and opens a new one; appends may follow. */
  void start() throws IOException {
    TreeMap<Long, Path> files = journalFiles();
    for (Path f : files.values()) {
      Files.delete(f);
    }
    synchronized (writeLock) {
      sequence = files.isEmpty() ? 0 : files.lastKey() + 1;
      openNext();
    }
  }

  /**
   * Journals a small chunk whose data and checksum files have been written (not necessarily
   * synced), and returns once the record is on disk. {@code data} is read from its position to
   * its limit and not changed.
   */
  void append(long chunkId, ChunkMeta meta, ByteBuffer[] data) throws IOException {
    byte[] m = meta.encode();
    ByteBuffer head = ByteBuffer.allocate(HEADER + 12 + m.length);
    head.position(HEADER);
    head.putLong(chunkId).putInt(m.length).put(m);
    long body = 12L + m.length;
    ByteBuffer[] parts = new ByteBuffer[data.length + 1];
    CRC32C crc = new CRC32C();
    crc.update(head.array(), HEADER, head.position() - HEADER);
    for (int i = 0; i < data.length; i++) {
      parts[i + 1] = data[i].duplicate();
      body += parts[i + 1].remaining();
      crc.update(data[i].duplicate());
    }
    if (body > MAX_BODY) {
      throw new IOException("chunk " + ChunkStore.hex(chunkId) + " is too large to journal");
    }
    head.putInt(0, MAGIC).putInt(4, (int) body).putInt(8, (int) crc.getValue());
    head.flip();
    parts[0] = head;
    long total = HEADER + body;
    synchronized (writeLock) {
      if (current == null) {
        throw new ClosedChannelException();
      }
      long done = 0;
      current.position(position);
      while (done < total) {
        done += current.write(parts);
      }
      if (currentChunks.isEmpty()) {
        firstRecordAt = System.nanoTime();
      }
      position += total;
      currentChunks.add(chunkId);
    }
    group.sync();
  }

  /**
   * Rotates the journal when it is large or old enough (or when {@code force}), then retires the
   * rotated files: the chunks they name are made durable in their own files and the files deleted.
   */
  void checkpoint(boolean force) throws IOException {
    synchronized (retired) {
      synchronized (writeLock) {
        boolean due = !currentChunks.isEmpty() && (force || position >= ROTATE_BYTES
            || System.nanoTime() - firstRecordAt >= ROTATE_NANOS);
        if (due && current != null) {
          rotate();
          openNext();
        }
      }
      retire();
    }
  }

  /** Retires everything journaled and closes the journal; appends fail from now on. */
  void close() throws IOException {
    synchronized (retired) {
      synchronized (writeLock) {
        if (current == null) {
          return;
        }
        rotate();
      }
      retire();
    }
  }

  /** Journal fsyncs so far (fewer than appends when writers shared them). */
  long syncs() {
    return group.syncs();
  }

  /** Checkpoints that retired at least one journal file. */
  synchronized long checkpoints() {
    return checkpoints;
  }

  // Under writeLock. The old file is forced before it is closed: a group fsync that picked it up
  // and finds it closed can count on that.
  private void rotate() throws IOException {
    current.force(false);
    current.close();
    retired.add(new Retired(currentFile, currentChunks));
    current = null;
  }

  // Under writeLock.
  private void openNext() throws IOException {
    currentFile = dir.resolve(ChunkStore.hex(sequence++) + ".log");
    current = FileChannel.open(currentFile, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
    // The new name must survive a crash before anything in it counts.
    ChunkStore.fsyncDirectory(dir);
    position = 0;
    currentChunks = new ArrayList<>();
  }

  // Under the retired lock.
  private void retire() throws IOException {
    if (retired.isEmpty()) {
      return;
    }
    List<Retired> batch = new ArrayList<>(retired);
    if (syncfs) {
      FileSystemSync.sync(chunkDir);
    } else {
      List<Long> ids = new ArrayList<>();
      batch.forEach(r -> ids.addAll(r.chunkIds()));
      flusher.flush(ids);
    }
    for (Retired r : batch) {
      Files.deleteIfExists(r.file());
      retired.remove(r);
    }
    synchronized (this) {
      checkpoints++;
    }
  }

  private void forceCurrent() throws IOException {
    FileChannel ch;
    synchronized (writeLock) {
      ch = current;
    }
    if (ch == null) {
      return; // closed: rotate() forced it
    }
    try {
      ch.force(false);
    } catch (ClosedChannelException e) {
      // Rotated while we forced it: rotate() forced it itself before closing it.
      synchronized (writeLock) {
        if (ch == current) {
          throw e;
        }
      }
    }
  }

  private TreeMap<Long, Path> journalFiles() throws IOException {
    TreeMap<Long, Path> files = new TreeMap<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.log")) {
      for (Path p : s) {
        String name = p.getFileName().toString();
        try {
          files.put(Long.parseUnsignedLong(name.substring(0, name.length() - 4), 16), p);
        } catch (NumberFormatException e) {
          log.warn("ignoring a file that is not a journal: {}", p);
        }
      }
    }
    return files;
  }

  private static int recoverFile(Path file, Replay replay) throws IOException {
    int records = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long pos = 0;
      ByteBuffer header = ByteBuffer.allocate(HEADER);
      while (pos + HEADER <= size) {
        header.clear();
        readFully(ch, header, pos);
        int magic = header.getInt(0);
        int body = header.getInt(4);
        if (magic != MAGIC || body < 12 || body > MAX_BODY || pos + HEADER + body > size) {
          break;
        }
        ByteBuffer b = ByteBuffer.allocate(body);
        readFully(ch, b, pos + HEADER);
        if (Crc32c.of(b.array(), 0, body) != header.getInt(8)) {
          break;
        }
        long chunkId = b.getLong(0);
        int m = b.getInt(8);
        if (m < 0 || 12 + m > body) {
          break;
        }
        byte[] metaBytes = new byte[m];
        b.get(12, metaBytes);
        ChunkMeta meta;
        try {
          meta = ChunkMeta.decode(metaBytes);
        } catch (IOException e) {
          break;
        }
        ByteBuffer data = b.slice(12 + m, body - 12 - m);
        if (data.remaining() != meta.length()) {
          break;
        }
        replay.accept(new Record(chunkId, meta, data));
        records++;
        pos += HEADER + body;
      }
      if (pos < size) {
        log.info("journal {}: {} records, then {} bytes never acknowledged (ignored)", file,
            records, size - pos);
      }
    }
    return records;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) {
        throw new EOFException();
      }
    }
    b.flip();
  }
}
