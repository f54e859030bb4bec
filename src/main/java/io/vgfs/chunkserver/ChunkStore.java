package io.vgfs.chunkserver;

import io.vgfs.util.DirectoryLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chunks of one chunkserver on its local disk.
 * <pre>
 * dataDir/server.id                        the server's persistent id
 * dataDir/chunks/&lt;id as 16 hex&gt;.chunk  chunk bytes
 * dataDir/chunks/&lt;id as 16 hex&gt;.meta   its checksums, see {@link ChunkMeta}; a small
 *                                          chunk's are in its data file's attribute
 *                                          ({@link MetaAttribute}) where the disk allows
 * dataDir/tmp/                             chunks being written; emptied at start-up
 * dataDir/free/                            emptied files of deleted chunks, reused for new ones
 *                                          ({@link FilePool})
 * </pre>
 * A chunk becomes visible only when complete: large ones are written under {@code tmp/} and
 * renamed into place with their meta file last; small ones are written in place, checksums last.
 * One flat directory (ext4 and XFS index large directories) lets concurrent writes share the
 * directory fsync that makes their new entries durable ({@link DirSyncer}).
 *
 * <p>Methods that touch the disk block: call them from a worker thread, never an event loop. The
 * in-memory index ({@link #replica}, {@link #replicas}) and the checksum cache are safe from any
 * thread.
 */
public final class ChunkStore {

  private static final Logger log = LoggerFactory.getLogger(ChunkStore.class);
  private static final int META_CACHE_ENTRIES = 8192;

  private final Path root;
  private final Path chunks;
  private final Path tmp;
  private final Map<Long, ReplicaInfo> index = new ConcurrentHashMap<>();
  private final AtomicLong usedBytes = new AtomicLong();
  private final Map<Long, ChunkMeta> metaCache = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, ChunkMeta> eldest) {
      return size() > META_CACHE_ENTRIES;
    }
  };
  private String serverId;
  private DirectoryLock lock;
  private final boolean checksumAttributes;
  private final AppendableChunks appends;
  private volatile boolean attributes;      // the disk takes MetaAttribute: read them
  private volatile boolean writeAttributes; // and new small chunks get one

  public ChunkStore(Path root) {
    this(root, true);
  }

  /**
   * @param checksumAttributes whether new small chunks keep their checksums in an attribute of
   *                           the data file where the disk allows ({@link MetaAttribute})
   */
  public ChunkStore(Path root, boolean checksumAttributes) {
    this.root = root;
    this.checksumAttributes = checksumAttributes;
    this.chunks = root.resolve("chunks");
    this.tmp = root.resolve("tmp");
    this.dirSyncer = new DirSyncer(chunks);
    this.pool = new FilePool(root.resolve("free"), FilePool.CAPACITY);
    this.appends = new AppendableChunks(this);
  }

  /** Creates the layout if needed, reads or creates the server id, and indexes valid chunks. */
  public void open() throws IOException {
    lock = DirectoryLock.acquire(root);
    Files.createDirectories(chunks);
    Files.createDirectories(tmp);
    pool.open();
    serverId = loadOrCreateId();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(tmp)) {
      for (Path p : s) {
        Files.deleteIfExists(p);
      }
    }
    MetaAttribute.Support support = MetaAttribute.probe(tmp);
    attributes = support != MetaAttribute.Support.NO;
    writeAttributes = support == MetaAttribute.Support.YES && checksumAttributes;
    StartupScan scan = new StartupScan(this, attributes, checksumAttributes);
    scan.run(chunks);
    log.info("chunk store {}: {} chunks, {} bytes{}{}; small chunks' checksums in {}", root,
        index.size(), usedBytes.get(),
        scan.invalid() > 0 ? ", " + scan.invalid() + " invalid removed" : "",
        scan.unreadable() > 0 ? ", " + scan.unreadable() + " with unreadable checksums kept" : "",
        writeAttributes ? "attributes" : ".meta files");
  }

  // The start-up scan found a valid replica.
  void indexed(long chunkId, ChunkMeta meta) {
    index.put(chunkId, new ReplicaInfo(chunkId, meta.version(), meta.length()));
    usedBytes.addAndGet(meta.length());
  }

  DirSyncer dirSyncer() {
    return dirSyncer;
  }

  /** Releases the data directory (blocking). */
  public void close() throws IOException {
    try {
      syncBuffered();
    } catch (IOException e) {
      log.warn("syncing buffered chunks at close failed: {}", e.toString());
    }
    if (lock != null) {
      lock.close();
      lock = null;
    }
  }

  public String serverId() {
    return serverId;
  }

  public Path root() {
    return root;
  }

  /** A fresh file under {@code tmp/} for a chunk being written. */
  public Path tempFile(long chunkId) {
    return tmp.resolve(hex(chunkId) + "." + UUID.randomUUID().toString().substring(0, 8) + ".chunk");
  }

  /**
   * Makes a fully written temporary file the stored replica of {@code chunkId}. With
   * {@code sync}, data, checksums and directory entries are on disk when this returns.
   */
  public void commit(long chunkId, Path tempData, ChunkMeta meta, boolean sync) throws IOException {
    long size = Files.size(tempData);
    if (size != meta.length()) {
      throw new IOException("chunk " + hex(chunkId) + ": wrote " + size + " bytes, expected "
          + meta.length());
    }
    uncache(chunkId);
    Path tempMeta = tempData.resolveSibling(tempData.getFileName() + ".meta");
    if (sync) {
      try (FileChannel ch = FileChannel.open(tempData, StandardOpenOption.WRITE)) {
        ch.force(false);
      }
    }
    writeNewFile(tempMeta, meta.encode(), sync);
    ReplicaInfo previous = index.get(chunkId);
    Files.move(tempData, dataPath(chunkId), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    Files.move(tempMeta, metaPath(chunkId), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    if (sync) {
      dirSyncer.sync();
    }
    ReplicaInfo info = new ReplicaInfo(chunkId, meta.version(), meta.length());
    index.put(chunkId, info);
    usedBytes.addAndGet(meta.length() - (previous == null ? 0 : previous.length()));
    synchronized (metaCache) {
      metaCache.put(chunkId, meta);
    }
  }

  /** Preparing replicas for append leases and appending to them (locked like this store). */
  public AppendableChunks appends() {
    return appends;
  }

  /** Copies a replica locally under a new chunk id (copy-on-write of a snapshotted chunk). */
  public synchronized void cloneChunk(long from, long to, long version) throws IOException {
    if (index.containsKey(to)) {
      return; // a retried clone
    }
    ChunkMeta meta = loadMeta(from);
    Path temp = tempFile(to);
    Files.copy(dataPath(from), temp, StandardCopyOption.REPLACE_EXISTING);
    commit(to, temp, meta.withVersion(version), true);
  }

  // Replaces the meta file atomically (write aside, fsync, rename) and the index entry.
  void writeMeta(long chunkId, ChunkMeta meta) throws IOException {
    uncache(chunkId);
    writeMetaFile(chunkId, meta);
    dirSyncer.sync();
    ReplicaInfo previous = index.put(chunkId, new ReplicaInfo(chunkId, meta.version(),
        meta.length()));
    usedBytes.addAndGet(meta.length() - (previous == null ? 0 : previous.length()));
    synchronized (metaCache) {
      metaCache.put(chunkId, meta);
    }
  }

  // Writes the .meta file aside, fsyncs it and renames it into place; the caller syncs chunks/.
  void writeMetaFile(long chunkId, ChunkMeta meta) throws IOException {
    Path temp = tmp.resolve(hex(chunkId) + "." + UUID.randomUUID().toString().substring(0, 8)
        + ".meta");
    writeNewFile(temp, meta.encode(), true);
    Files.move(temp, metaPath(chunkId), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  // Before a writer changes a chunk's checksums on disk: a loadMeta racing with the change may
  // cache what it read, but only until the writer caches the new ones, and a writer that fails
  // halfway leaves nothing stale behind.
  private void uncache(long chunkId) {
    synchronized (metaCache) {
      metaCache.remove(chunkId);
    }
  }

  /**
   * Stores a small chunk received whole in memory: data file and checksum file written in place
   * (no temporary file, no rename). A crash in between leaves data without a valid checksum file,
   * which {@link #open()} removes; nothing is indexed until both are complete.
   */
  public void commitSmall(long chunkId, List<io.vertx.core.buffer.Buffer> data, ChunkMeta meta,
                          boolean sync) throws IOException {
    ByteBuffer[] parts = new ByteBuffer[data.size()];
    long total = 0;
    for (int i = 0; i < parts.length; i++) {
      parts[i] = ((io.vertx.core.internal.buffer.BufferInternal) data.get(i)).getByteBuf()
          .nioBuffer();
      total += parts[i].remaining();
    }
    if (total != meta.length()) {
      throw new IOException("chunk " + hex(chunkId) + ": " + total + " bytes held, "
          + meta.length() + " expected");
    }
    Path dataFile = dataPath(chunkId);
    boolean inAttribute = writeAttributes && MetaAttribute.fits(meta);
    try (FileChannel ch = pool.reuse(dataFile)
        ? FileChannel.open(dataFile, StandardOpenOption.WRITE)
        : FileChannel.open(dataFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long done = 0;
      while (done < total) {
        done += ch.write(parts);
      }
      if (inAttribute) {
        MetaAttribute.write(dataFile, chunkId, meta);
      }
      if (sync) {
        ch.force(inAttribute); // an attribute is metadata that fdatasync(2) may leave behind
      }
    }
    if (!inAttribute) {
      writeNewFile(metaPath(chunkId), meta.encode(), sync);
    }
    if (sync) {
      dirSyncer.sync();
    }
    index.put(chunkId, new ReplicaInfo(chunkId, meta.version(), meta.length()));
    usedBytes.addAndGet(meta.length());
    synchronized (metaCache) {
      metaCache.put(chunkId, meta);
    }
  }

  private final DirSyncer dirSyncer;
  private final FilePool pool;
  private final java.util.Set<Long> unsynced = ConcurrentHashMap.newKeySet();

  /**
   * Makes the chunks queued by {@link #syncLater} durable: one syncfs(2) for all of them, or an
   * fsync of each where that is missing (blocking; the chunkserver calls it every
   * {@code --buffered-sync}).
   */
  public void syncBuffered() throws IOException {
    if (unsynced.isEmpty()) {
      return;
    }
    List<Long> ids = new ArrayList<>(unsynced);
    if (FileSystemSync.available()) {
      FileSystemSync.sync(chunks);
    } else {
      flush(ids);
    }
    ids.forEach(unsynced::remove);
  }

  /**
   * Queues a committed chunk's files for the next {@link #syncBuffered} (the background half of
   * BUFFERED writes): one syncfs(2) per interval for all of them, rather than fsyncs per chunk that
   * compete for the disk with the writes that must wait for theirs.
   */
  public void syncLater(long chunkId) {
    unsynced.add(chunkId);
  }

  /** Chunks acknowledged as BUFFERED whose files the next {@link #syncBuffered} syncs. */
  public int unsyncedChunks() {
    return unsynced.size();
  }

  // Forces chunks' files to disk, then their directory once (where syncfs is missing).
  private void flush(List<Long> chunkIds) throws IOException {
    for (long id : chunkIds) {
      for (Path p : List.of(dataPath(id), metaPath(id))) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
          ch.force(true); // with metadata: a small chunk's checksums may be in an attribute
        } catch (NoSuchFileException e) {
          // deleted meanwhile
        }
      }
    }
    dirSyncer.sync();
  }

  /** Deletes a replica; returns whether there was one. */
  public synchronized boolean delete(long chunkId) throws IOException {
    ReplicaInfo info = index.remove(chunkId);
    synchronized (metaCache) {
      metaCache.remove(chunkId);
    }
    // Data first: checksums alone are removed at start-up, while data alone could be taken back
    // through its attribute (at the version the attribute holds).
    boolean existed = pool.recycle(dataPath(chunkId));
    pool.recycle(metaPath(chunkId));
    if (info != null) {
      usedBytes.addAndGet(-info.length());
    }
    return info != null || existed;
  }

  /** Deletes a temporary file of an abandoned write. */
  public void discard(Path tempData) {
    try {
      pool.recycle(tempData);
      pool.recycle(tempData.resolveSibling(tempData.getFileName() + ".meta"));
    } catch (IOException e) {
      log.warn("could not remove {}: {}", tempData, e.toString());
    }
  }

  /** The replica of {@code chunkId}, or {@code null}. Safe on an event loop. */
  public ReplicaInfo replica(long chunkId) {
    return index.get(chunkId);
  }

  /** Every replica held. Safe on an event loop. */
  public Collection<ReplicaInfo> replicas() {
    return new ArrayList<>(index.values());
  }

  public int chunkCount() {
    return index.size();
  }

  public long usedBytes() {
    return usedBytes.get();
  }

  /** Cached checksums of a chunk, or {@code null} when they must be loaded. Safe on an event loop. */
  public ChunkMeta cachedMeta(long chunkId) {
    synchronized (metaCache) {
      return metaCache.get(chunkId);
    }
  }

  /** Reads a chunk's checksums from disk (blocking). */
  public ChunkMeta loadMeta(long chunkId) throws IOException {
    ChunkMeta meta;
    try {
      meta = ChunkMeta.decode(Files.readAllBytes(metaPath(chunkId)));
    } catch (NoSuchFileException e) {
      meta = attributes ? MetaAttribute.read(dataPath(chunkId), chunkId) : null;
      if (meta == null) {
        throw e;
      }
    }
    // A writer racing with this read caches what it wrote, and drops the entry before it starts
    // (uncache): an entry here is at least as new as what was read.
    synchronized (metaCache) {
      ChunkMeta newer = metaCache.putIfAbsent(chunkId, meta);
      return newer != null ? newer : meta;
    }
  }

  /** Free and total bytes of the file system holding the data directory (blocking). */
  public long[] space() {
    try {
      FileStore fs = Files.getFileStore(root);
      return new long[] {fs.getUsableSpace(), fs.getTotalSpace()};
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path dataPath(long chunkId) {
    return chunks.resolve(hex(chunkId) + ".chunk");
  }

  public Path metaPath(long chunkId) {
    return chunks.resolve(hex(chunkId) + ".meta");
  }

  public static String hex(long chunkId) {
    String s = Long.toHexString(chunkId);
    return "0000000000000000".substring(s.length()) + s;
  }


  private String loadOrCreateId() throws IOException {
    Path idFile = root.resolve("server.id");
    if (Files.exists(idFile)) {
      String id = Files.readString(idFile).trim();
      if (!id.isEmpty()) {
        return id;
      }
    }
    String id = "cs-" + UUID.randomUUID().toString().substring(0, 13).replace("-", "");
    writeFile(idFile, id.getBytes(java.nio.charset.StandardCharsets.UTF_8), true);
    fsyncDirectory(root);
    return id;
  }

  /** Whether new small chunks keep their checksums in an attribute, not a .meta file (tests). */
  boolean writesAttributes() {
    return writeAttributes;
  }

  /** Files of deleted chunks kept for reuse (tests). */
  FilePool pool() {
    return pool;
  }

  // As writeFile, for a file that does not exist yet: an emptied pooled file if there is one.
  private void writeNewFile(Path p, byte[] bytes, boolean sync) throws IOException {
    pool.reuse(p);
    writeFile(p, bytes, sync);
  }

  private static void writeFile(Path p, byte[] bytes, boolean sync) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      if (sync) {
        ch.force(false);
      }
    }
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
