package io.vgfs.bench;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.DirectoryListing;
import org.apache.hadoop.hdfs.protocol.HdfsFileStatus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

/**
 * HDFS through its own client ({@code DistributedFileSystem}, in this JVM): blocking calls, run
 * on one thread per concurrent operation, which is how a Java program uses HDFS concurrently.
 */
final class HdfsTarget implements FsTarget, AutoCloseable {

  private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[1 << 20]);

  private final DistributedFileSystem fs;
  private final short replication;
  private final long blockSize;
  private final ExecutorService pool;

  private java.util.function.BooleanSupplier replicasDeleted = () -> true;

  /** What {@link #removeAll} waits for after deleting: the DataNodes' copies gone too. */
  HdfsTarget replicasDeleted(java.util.function.BooleanSupplier deleted) {
    this.replicasDeleted = deleted;
    return this;
  }

  HdfsTarget(FileSystem fs, int replication, long blockSize, int threads) {
    this.fs = (DistributedFileSystem) fs;
    this.replication = (short) replication;
    this.blockSize = blockSize;
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "bench-hdfs-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public String name() {
    return "hdfs";
  }

  @Override
  public String system() {
    return "hdfs";
  }

  private static Path path(String p) {
    return new Path("/" + p);
  }

  private <T> CompletableFuture<T> async(IoCall<T> call) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return call.run();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, pool);
  }

  @Override
  public CompletableFuture<Void> write(String p, byte[] data, int off, int len) {
    return async(() -> {
      try (FSDataOutputStream out = fs.create(path(p), true, 64 * 1024, replication, blockSize)) {
        out.write(data, off, len);
      }
      return null;
    });
  }

  @Override
  public CompletableFuture<ReadResult> read(String p, boolean verify) {
    return async(() -> {
      byte[] buf = BUFFER.get();
      CRC32C crc = verify ? new CRC32C() : null;
      long total = 0;
      try (FSDataInputStream in = fs.open(path(p))) {
        int n;
        while ((n = in.read(buf)) > 0) {
          total += n;
          if (crc != null) {
            crc.update(buf, 0, n);
          }
        }
      }
      return new ReadResult(total, crc == null ? 0 : crc.getValue());
    });
  }

  @Override
  public CompletableFuture<Void> stat(String p) {
    return async(() -> {
      fs.getFileStatus(path(p));
      return null;
    });
  }

  /** One RPC of {@code DFSClient.listPaths}: a page of {@code dfs.ls.limit} entries. */
  @Override
  public CompletableFuture<Integer> list(String dir, String after) {
    return async(() -> {
      byte[] start = after == null ? HdfsFileStatus.EMPTY_NAME
          : after.getBytes(StandardCharsets.UTF_8);
      DirectoryListing page = fs.getClient().listPaths("/" + dir, start);
      return page == null ? 0 : page.getPartialListing().length;
    });
  }

  @Override
  public CompletableFuture<Void> delete(String p) {
    return async(() -> {
      fs.delete(path(p), false);
      return null;
    });
  }

  /** Deletes, then waits until the DataNodes have deleted the blocks' replicas. */
  @Override
  public void removeAll(String dir) {
    try {
      fs.delete(path(dir), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TrashWait.until("HDFS replicas of " + dir, replicasDeleted);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }

  private interface IoCall<T> {
    T run() throws IOException;
  }
}
