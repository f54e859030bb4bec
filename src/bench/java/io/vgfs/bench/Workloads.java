package io.vgfs.bench;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/**
 * The workloads of issue 3 that both systems run: the large file, small files and metadata.
 * Each repetition runs every target once, in an order that rotates from one repetition to the
 * next, so that drift of a shared machine hits every system alike; the first
 * {@code warmups} repetitions are not recorded.
 */
final class Workloads {

  private final BenchConfig config;
  private final Results results;
  private final byte[] data;
  private final long dataCrc;

  Workloads(BenchConfig config, Results results, byte[] data) {
    this.config = config;
    this.results = results;
    this.data = data;
    CRC32C crc = new CRC32C();
    crc.update(data, 0, (int) config.largeFile());
    this.dataCrc = crc.getValue();
  }

  /** Targets in the order of repetition {@code run}: rotated by one each time. */
  static List<FsTarget> order(List<FsTarget> targets, int run) {
    List<FsTarget> out = new ArrayList<>();
    for (int i = 0; i < targets.size(); i++) {
      out.add(targets.get((i + run) % targets.size()));
    }
    return out;
  }

  private boolean measured(int run) {
    return run >= config.warmups();
  }

  private static String tag(int run, boolean measured) {
    return measured ? "run " + run : "warm-up " + run;
  }

  /**
   * Before each measured operation: garbage from the previous one collected, dirty pages written
   * back, deletes settled. Without the flush, a system that leaves writeback to the kernel (HDFS as
   * shipped) hands its disk work to whichever run comes next, often the other system's.
   */
  void settle() {
    System.gc();
    try {
      if (config.flushBetween()) {
        flushPageCache();
      }
      Thread.sleep(config.settleMs());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // sync(1): every dirty page of every file system on disk before the next measured run.
  private static void flushPageCache() throws InterruptedException {
    try {
      Process p = new ProcessBuilder("sync").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        BenchLog.info("sync(1) did not finish within 120 s; going on");
      }
    } catch (java.io.IOException e) {
      BenchLog.info("sync(1) could not run (%s); runs are not separated by a flush", e);
    }
  }

  /** Workload 1: write then read one large file of random bytes; MB/s (10^6 B/s). */
  void largeFile(String level, List<FsTarget> targets) {
    for (int run = 0; run < config.warmups() + config.reps(); run++) {
      for (FsTarget t : order(targets, run)) {
        try {
          largeFileOnce(level, t, run);
        } catch (RuntimeException e) {
          // one failed transfer must not end a long run: it is logged, counted and reported
          String error = String.valueOf(e.getCause() != null ? e.getCause() : e);
          BenchLog.info("large %s %s %s FAILED: %s", level, t.name(), tag(run, measured(run)),
              error);
          if (measured(run)) {
            results.fail("large-write", level, t.name(), "MB/s", error);
            results.fail("large-read", level, t.name(), "MB/s", error);
          }
        }
      }
    }
  }

  private void largeFileOnce(String level, FsTarget t, int run) {
    int size = (int) config.largeFile();
    String path = "large/" + level + "-" + run + "-" + t.name();
    settle();
    long t0 = System.nanoTime();
    t.write(path, data, 0, size).join();
    long write = System.nanoTime() - t0;
    settle();
    boolean verify = run == 0;
    t0 = System.nanoTime();
    FsTarget.ReadResult r = t.read(path, verify).join();
    long read = System.nanoTime() - t0;
    if (r.bytes() != size || verify && r.crc32c() != dataCrc) {
      throw new IllegalStateException(t.name() + " read back " + r.bytes() + " bytes, crc32c "
          + Long.toHexString(r.crc32c()) + "; wrote " + size + ", crc32c "
          + Long.toHexString(dataCrc));
    }
    t.delete(path).join();
    double w = Stats.mbps(size, write);
    double rd = Stats.mbps(size, read);
    BenchLog.info("large %s %s %s: write %.0f MB/s, read %.0f MB/s%s", level, t.name(),
        tag(run, measured(run)), w, rd, verify ? " (content verified)" : "");
    if (measured(run)) {
      results.record("large-write", level, t.name(), "MB/s", w,
          new JsonObject().put("bytes", size).put("seconds", Stats.round(write / 1e9)));
      results.record("large-read", level, t.name(), "MB/s", rd,
          new JsonObject().put("bytes", size).put("seconds", Stats.round(read / 1e9)));
    }
  }

  /** Workload 2: many small files, N concurrent writers then N concurrent readers. */
  void smallFiles(String level, List<FsTarget> targets, long fileSize) {
    int size = (int) fileSize;
    String label = io.vgfs.launcher.Sizes.format(fileSize);
    for (int run = 0; run < config.warmups() + config.reps(); run++) {
      int n = config.files(config.smallFiles(), run);
      for (FsTarget t : order(targets, run)) {
        String dir = "small-" + label + "/" + level + "-" + run + "-" + t.name();
        settle();
        OpRunner.Batch w = OpRunner.run(n, config.concurrency(),
            i -> t.write(dir + "/" + name(i), data, offset(i, size), size));
        settle();
        OpRunner.Batch r = OpRunner.run(n, config.concurrency(),
            i -> t.read(dir + "/" + name(i), false).thenAccept(res -> {
              if (res.bytes() != size) {
                throw new IllegalStateException("read " + res.bytes() + " bytes of " + size);
              }
            }));
        t.removeAll(dir);
        BenchLog.info("small %s %s %s %s x%d: write %.0f files/s (p50 %.1f ms, p99 %.1f ms, max "
                + "%.0f ms%s), read %.0f files/s (p50 %.1f ms, p99 %.1f ms, max %.0f ms%s)", label,
            level, t.name(), tag(run, measured(run)), n, w.opsPerSecond(), w.p50Ms(), w.p99Ms(),
            w.maxMs(), w.errorNote(), r.opsPerSecond(), r.p50Ms(), r.p99Ms(), r.maxMs(),
            r.errorNote());
        if (measured(run)) {
          results.record("small-" + label + "-write", level, t.name(), "files/s",
              w.opsPerSecond(), w.toJson());
          results.record("small-" + label + "-read", level, t.name(), "files/s",
              r.opsPerSecond(), r.toJson());
        }
      }
    }
  }

  /**
   * Workload 3: a namespace of empty files (created once per system, creation rate recorded),
   * then stat calls on random files and list calls (one page each) from random files. Run it
   * last: the namespace is left in place.
   */
  void metadata(String level, List<FsTarget> targets) {
    int size = config.namespace();
    String dir = "meta/ns";
    List<String> created = new ArrayList<>();
    for (FsTarget t : targets) {
      if (created.contains(t.system())) {
        continue;
      }
      created.add(t.system());
      settle();
      OpRunner.Batch c = OpRunner.run(size, config.concurrency(),
          i -> t.write(dir + "/" + name(i), data, 0, 0));
      BenchLog.info("meta %s: created %d empty files through %s: %.0f files/s (p99 %.1f ms%s)",
          t.system(), size, t.name(), c.opsPerSecond(), c.p99Ms(), c.errorNote());
      results.record("meta-create", level, t.name(), "files/s", c.opsPerSecond(), c.toJson());
    }
    for (int run = 0; run < config.warmups() + config.reps(); run++) {
      int stats = config.files(config.statOps(), run);
      int lists = config.files(config.listOps(), run);
      int[] statPick = picks(stats, size, 1000 + run);
      int[] listPick = picks(lists, size, 2000 + run);
      for (FsTarget t : order(targets, run)) {
        settle();
        OpRunner.Batch s = OpRunner.run(stats, config.concurrency(),
            i -> t.stat(dir + "/" + name(statPick[i])));
        settle();
        long[] entries = new long[lists];
        OpRunner.Batch l = OpRunner.run(lists, config.concurrency(), i -> {
          CompletableFuture<Integer> f = t.list(dir, name(listPick[i]));
          return f.thenAccept(count -> entries[i] = count);
        });
        long total = 0;
        for (long e : entries) {
          total += e;
        }
        double entriesPerSecond = total / (l.wallNanos() / 1e9);
        BenchLog.info("meta %s %s %s: stat %.0f ops/s (p99 %.1f ms%s), list %.0f pages/s = %.0f "
                + "entries/s (p99 %.1f ms%s)", level, t.name(), tag(run, measured(run)),
            s.opsPerSecond(), s.p99Ms(), s.errorNote(), l.opsPerSecond(), entriesPerSecond,
            l.p99Ms(), l.errorNote());
        if (measured(run)) {
          results.record("meta-stat", level, t.name(), "ops/s", s.opsPerSecond(), s.toJson());
          results.record("meta-list", level, t.name(), "ops/s", l.opsPerSecond(),
              l.toJson().put("entries", total)
                  .put("entriesPerSecond", Stats.round(entriesPerSecond)));
        }
      }
    }
    // The namespace stays: this workload runs last (deleting 100,000 files and waiting for vgfs to
    // purge them would take longer than the workload itself).
  }

  /** The same random picks for every target of a repetition. */
  private static int[] picks(int n, int bound, long seed) {
    Random r = new Random(seed);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = r.nextInt(bound);
    }
    return out;
  }

  static String name(int i) {
    return String.format("f%07d", i);
  }

  /** Different bytes for different files, from the shared random data. */
  private int offset(int i, int size) {
    long span = data.length - (long) size;
    return span <= 0 ? 0 : (int) ((i * 65_537L) % span);
  }
}
