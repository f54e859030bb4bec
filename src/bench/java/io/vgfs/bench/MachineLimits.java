package io.vgfs.bench;

import com.sun.nio.file.ExtendedOpenOption;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/**
 * What this machine can do at most, measured in the same run as the systems, in Java:
 * <ul>
 *   <li>disk, sequential write of {@code limitSize} bytes in 1 MiB writes, then {@code fsync};
 *   <li>disk, sequential read of that file with {@code O_DIRECT} (the device, not the cache), and
 *       without it (the page cache, which is where freshly written files are read from);
 *   <li>loopback TCP, one stream, 1 MiB direct buffers, {@code 4 x limitSize} bytes;
 *   <li>CRC32C ({@link CRC32C}, hardware instructions) over a 64 MiB array on one core;
 *   <li>small durable files: {@value #SYNC_FILES} new files of 64 KiB, each written and
 *       {@code fdatasync}ed, from 16 threads, in files (= fsyncs) per second: the ceiling of
 *       every per-file durable write, whatever the bandwidth.
 * </ul>
 * Each is measured {@code reps} times; all in MB/s (10^6 B/s).
 */
final class MachineLimits {

  static final String DISK_WRITE = "limit-disk-write-fsync";
  static final String DISK_READ = "limit-disk-read-direct";
  static final String CACHE_READ = "limit-page-cache-read";
  static final String LOOPBACK = "limit-loopback-tcp";
  static final String CRC = "limit-crc32c-one-core";
  static final String SYNC_RATE = "limit-fsync-64KiB-files";
  static final int SYNC_FILES = 2_000;

  private static final int BUF = 1 << 20;

  private final BenchConfig config;
  private final Results results;

  MachineLimits(BenchConfig config, Results results) {
    this.config = config;
    this.results = results;
  }

  void run() throws Exception {
    Path file = config.dir().resolve("limits").resolve("disk.bin");
    Files.createDirectories(file.getParent());
    long size = Math.max(BUF, config.limitSize() / BUF * BUF);
    crc32c(size); // warm-up of the intrinsic
    for (int run = 0; run < config.reps(); run++) {
      double w = diskWrite(file, size);
      double d = diskReadDirect(file, size);
      double c = cachedRead(file, size);
      Files.deleteIfExists(file);
      double l = loopback(4 * size);
      double crc = crc32c(2 * size);
      double syncs = syncedFiles(file.getParent().resolve("fsync"), SYNC_FILES, 16);
      BenchLog.info("limits run %d: disk write+fsync %.0f MB/s, disk read O_DIRECT %.0f MB/s, page "
          + "cache read %.0f MB/s, loopback TCP %.0f MB/s, CRC32C %.0f MB/s, %.0f fsynced 64 KiB "
          + "files/s", run, w, d, c, l, crc, syncs);
      JsonObject bytes = new JsonObject().put("bytes", size);
      results.record(DISK_WRITE, "-", "machine", "MB/s", w, bytes);
      if (!Double.isNaN(d)) {
        results.record(DISK_READ, "-", "machine", "MB/s", d, bytes);
      }
      results.record(CACHE_READ, "-", "machine", "MB/s", c, bytes);
      results.record(LOOPBACK, "-", "machine", "MB/s", l, new JsonObject().put("bytes", 4 * size));
      results.record(CRC, "-", "machine", "MB/s", crc, new JsonObject().put("bytes", 2 * size));
      results.record(SYNC_RATE, "-", "machine", "files/s", syncs,
          new JsonObject().put("files", SYNC_FILES).put("threads", 16));
    }
  }

  /** New 64 KiB files written and fdatasynced by {@code threads} threads, per second. */
  static double syncedFiles(Path dir, int files, int threads) throws Exception {
    Files.createDirectories(dir);
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    long t0 = System.nanoTime();
    try {
      java.util.List<java.util.concurrent.Future<Void>> done = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          ByteBuffer buf = randomDirect(64 * 1024);
          for (int i = next.getAndIncrement(); i < files; i = next.getAndIncrement()) {
            try (FileChannel ch = FileChannel.open(dir.resolve(i + ".bin"),
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
              buf.rewind();
              while (buf.hasRemaining()) {
                ch.write(buf);
              }
              ch.force(false);
            }
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<Void> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    double rate = files / ((System.nanoTime() - t0) / 1e9);
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Files.delete(p);
      }
    }
    return rate;
  }

  private static ByteBuffer randomDirect(int n) {
    ByteBuffer b = ByteBuffer.allocateDirect(n);
    java.util.SplittableRandom r = new java.util.SplittableRandom(7);
    while (b.remaining() >= 8) {
      b.putLong(r.nextLong());
    }
    return b.flip();
  }

  static double diskWrite(Path file, long size) throws IOException {
    ByteBuffer buf = randomDirect(BUF);
    long t0 = System.nanoTime();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      for (long done = 0; done < size; done += BUF) {
        buf.rewind();
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
      ch.force(true);
    }
    return Stats.mbps(size, System.nanoTime() - t0);
  }

  /** NaN when the file system refuses {@code O_DIRECT}. */
  static double diskReadDirect(Path file, long size) throws IOException {
    int align;
    FileChannel ch;
    try {
      align = (int) Math.max(4096, Files.getFileStore(file).getBlockSize());
      ch = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
    } catch (IOException | UnsupportedOperationException e) {
      BenchLog.info("O_DIRECT read not available here: %s", e);
      return Double.NaN;
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(BUF + align).alignedSlice(align);
    buf.limit(BUF);
    long total = 0;
    long t0 = System.nanoTime();
    try (ch) {
      int n;
      while (total < size && (n = ch.read(buf.clear().limit(BUF))) > 0) {
        total += n;
      }
    } catch (IOException e) {
      BenchLog.info("O_DIRECT read failed: %s", e);
      return Double.NaN;
    }
    return Stats.mbps(total, System.nanoTime() - t0);
  }

  static double cachedRead(Path file, long size) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(BUF);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      // once to bring every page in (write-back may have dropped some), then timed
      while (ch.read(buf.clear()) > 0) {
        // reading
      }
      ch.position(0);
      long total = 0;
      long t0 = System.nanoTime();
      int n;
      while ((n = ch.read(buf.clear())) > 0) {
        total += n;
      }
      return Stats.mbps(total, System.nanoTime() - t0);
    }
  }

  static double loopback(long size) throws Exception {
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
        ByteBuffer buf = ByteBuffer.allocateDirect(BUF);
        long total = 0;
        try (SocketChannel in = server.accept()) {
          int n;
          while ((n = in.read(buf.clear())) > 0) {
            total += n;
          }
          return total;
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      ByteBuffer buf = randomDirect(BUF);
      long t0 = System.nanoTime();
      try (SocketChannel out = SocketChannel.open(server.getLocalAddress())) {
        for (long done = 0; done < size; done += BUF) {
          buf.rewind();
          while (buf.hasRemaining()) {
            out.write(buf);
          }
        }
      }
      long total = received.get();
      return Stats.mbps(total, System.nanoTime() - t0);
    }
  }

  static double crc32c(long size) {
    byte[] block = new byte[64 << 20];
    new java.util.SplittableRandom(3).nextBytes(block);
    CRC32C crc = new CRC32C();
    long t0 = System.nanoTime();
    long done = 0;
    while (done < size) {
      int n = (int) Math.min(block.length, size - done);
      crc.update(block, 0, n);
      done += n;
    }
    long t = System.nanoTime() - t0;
    if (crc.getValue() == 42) {
      BenchLog.info("(a CRC the JIT cannot drop)");
    }
    return Stats.mbps(done, t);
  }
}
