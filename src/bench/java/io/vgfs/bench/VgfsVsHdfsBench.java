package io.vgfs.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * vgfs against HDFS and against this machine's limits, side by side in one run (issue 3). Run
 * with {@code mvn -Pbench verify} (see the README's Performance section for the knobs); writes
 * {@code results.json}, {@code results.md} and {@code chart.png} to {@code target/bench}.
 *
 * <p>Order: machine limits; then vgfs is started as separate processes (kept for the whole run)
 * and, for each durability level, a fresh MiniDFSCluster at the matching setting, with the
 * large-file and small-file workloads alternating between the systems. The memory workload runs
 * once, at the first level; the metadata workload runs last, at the last level (neither depends
 * on the level, and the metadata namespace is never cleaned up: nothing is measured after it).
 * Results are written even when a workload fails, with whatever was measured.
 */
class VgfsVsHdfsBench {

  @Test
  @DisplayName("vgfs vs HDFS vs the machine: large file, small files, metadata, memory")
  void benchmark() throws Exception {
    BenchConfig config = BenchConfig.fromSystemProperties();
    Files.createDirectories(config.dir());
    Files.deleteIfExists(config.dir().resolve("bench.log"));
    BenchLog.to(config.dir().resolve("bench.log"));
    quietLibraries();
    Results results = new Results();
    results.put("machine", MachineInfo.describe(config.dir()));
    results.put("config", config.toJson());
    BenchLog.info("config %s", config.toJson().encode());
    try {
      if (config.runs("limits")) {
        new MachineLimits(config, results).run();
      }
      runSystems(config, results);
    } finally {
      results.put("loadAverageAtEnd", MachineInfo.read("/proc/loadavg"));
      results.put("fractionsOfLimit", new LimitModel(results).toJson());
      results.write(config.dir().resolve("results.json"));
      new MarkdownReport(config, results).write(config.dir().resolve("results.md"));
      new ChartWriter(config, results).write(config.dir().resolve("chart.png"));
      BenchLog.info("results in %s (results.json, results.md, chart.png)", config.dir());
    }
  }

  private static void runSystems(BenchConfig config, Results results) throws Exception {
    if (!(config.runs("large") || config.runs("small") || config.runs("meta")
        || config.runs("memory"))) {
      return;
    }
    long t0 = System.nanoTime();
    byte[] data = randomData(config);
    BenchLog.info("%d MiB of random data generated in %.1f s (not timed)", data.length >> 20,
        (System.nanoTime() - t0) / 1e9);
    HdfsSystem.deleteTree(config.dir().resolve("vgfs"));
    Files.createDirectories(config.dir().resolve("vgfs"));
    try (VgfsSystem vgfs = VgfsSystem.start(config, config.dir().resolve("vgfs"))) {
      results.put("vgfs", vgfs.describe());
      Workloads workloads = new Workloads(config, results, data);
      JsonObject hdfsInfo = new JsonObject();
      results.put("hdfs", hdfsInfo);
      String first = config.levels().get(0);
      String last = config.levels().get(config.levels().size() - 1);
      for (String level : config.levels()) {
        boolean syncOnClose = level.equals("sync");
        BenchLog.info("level %s: vgfs --durability %s / VgfsClient %s against HDFS with "
            + "dfs.datanode.synconclose=%s", level, level, level.toUpperCase(), syncOnClose);
        boolean hdfsNeeded = config.targets().contains("hdfs")
            && (config.runs("large") || config.runs("small") || config.runs("meta"));
        HdfsSystem hdfs = hdfsNeeded ? HdfsSystem.start(config,
            config.dir().resolve("hdfs-" + level), syncOnClose) : null;
        try {
          List<FsTarget> targets = new ArrayList<>();
          if (hdfs != null) {
            hdfsInfo.put(level, hdfs.describe());
            targets.add(hdfs.target());
          }
          if (config.targets().contains("vgfs-client")) {
            targets.add(0, vgfs.client(level));
          }
          if (config.targets().contains("vgfs-http")) {
            targets.add(vgfs.http(level));
          }
          if (config.runs("large")) {
            workloads.largeFile(level, targets);
          }
          if (config.runs("small")) {
            for (long size : config.smallSizes()) {
              workloads.smallFiles(level, targets, size);
            }
          }
          if (config.runs("meta") && level.equals(last)) {
            workloads.metadata(level, targets);
          }
        } finally {
          if (hdfs != null) {
            hdfs.close();
          }
        }
        if (config.runs("memory") && level.equals(first)) {
          new MemoryWorkload(config, results, data).run(vgfs, level);
        }
      }
    }
  }

  /** Random bytes for every workload, generated before any timing. */
  private static byte[] randomData(BenchConfig config) {
    long n = Math.max(config.largeFile(), config.memoryStreamSize());
    for (long s : config.smallSizes()) {
      n = Math.max(n, 4 * s);
    }
    byte[] data = new byte[(int) n];
    new SplittableRandom(20240601L).nextBytes(data);
    return data;
  }

  /** Hadoop logs every block at INFO; the run's own progress lines are what matter here. */
  private static void quietLibraries() {
    for (String name : List.of("org.apache.hadoop", "BlockStateChange", "org.eclipse.jetty",
        "org.apache.hadoop.hdfs.StateChange", "com.hazelcast")) {
      ((Logger) LoggerFactory.getLogger(name)).setLevel(Level.WARN);
    }
  }
}
