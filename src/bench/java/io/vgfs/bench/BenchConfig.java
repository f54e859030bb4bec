package io.vgfs.bench;

import io.vertx.core.json.JsonObject;
import io.vgfs.launcher.Sizes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmark's knobs, read from system properties ({@code -Dbench.*} on the Maven command
 * line). The defaults are the full sizes of issue 3; a smoke run shrinks them.
 *
 * @param dir              where results, logs and both systems' data go
 * @param largeFile        bytes of the large file (workload 1)
 * @param smallFiles       files per small-file run (workload 2)
 * @param smallSizes       sizes of the small files
 * @param concurrency      concurrent writers / readers / metadata clients
 * @param namespace        files in the metadata namespace (workload 3)
 * @param statOps          stat calls per metadata run
 * @param listOps          list calls (pages) per metadata run
 * @param listLimit        entries per list page
 * @param reps             measured repetitions per workload and system
 * @param warmups          unmeasured runs before them
 * @param warmupOps        at most this many files in a warm-up run of a small-file or stat workload
 * @param memoryClients    concurrent HTTP streams of the memory workload (workload 4)
 * @param memoryStreamSize bytes each of them uploads and downloads
 * @param limitSize        bytes of the disk limit test (loopback moves four times as much)
 * @param levels           durability levels to compare ({@code sync}, {@code buffered})
 * @param workloads        which parts run: limits, large, small, meta, memory
 * @param settleMs         pause before each measured run (background deletes, GC)
 * @param flushBetween     run {@code sync(1)} before each measured run, so that no run pays for
 *                         the writeback of what an earlier run (of either system) left dirty in
 *                         the page cache
 * @param chunkSize        vgfs chunk size and HDFS block size
 * @param gatewayJvmFlags  JVM flags of the gateway processes (default: those the ./vgfs launcher gives a gateway),
 *                         e.g. {@code -Xmx256m} to see the memory workload under a larger heap
 * @param gatewayEnv       environment variables of the gateway processes ({@code K=V}; default:
 *                         those the ./vgfs launcher sets for a gateway)
 * @param chunkserverJvmFlags JVM flags of the chunkserver processes (default: those the ./vgfs
 *                         launcher gives a chunkserver); empty for the JVM's own heap sizing
 * @param masterJvmFlags   JVM flags of the master process (default: none, as the ./vgfs launcher)
 * @param vgfsFlags        vgfs flags added to every vgfs process's ({@code --buffered-sync,1s}),
 *                         to compare settings in the same way as the JVM flags
 * @param targets          which targets run: vgfs-client, vgfs-http, hdfs
 * @param httpClient       the benchmark's HTTP client for vgfs-http: {@code vertx} (Vert.x's
 *                         {@code HttpClient}) or {@code jdk} ({@code java.net.http}, which cost
 *                         more CPU per request than the gateway serving it)
 */
public record BenchConfig(Path dir, long largeFile, int smallFiles, List<Long> smallSizes,
                          int concurrency, int namespace, int statOps, int listOps, int listLimit,
                          int reps, int warmups, int warmupOps, int memoryClients,
                          long memoryStreamSize, long limitSize, List<String> levels,
                          List<String> workloads, long settleMs, boolean flushBetween, long chunkSize,
                          List<String> gatewayJvmFlags, List<String> gatewayEnv,
                          List<String> chunkserverJvmFlags, List<String> masterJvmFlags,
                          List<String> vgfsFlags, List<String> targets, String httpClient) {

  public static BenchConfig fromSystemProperties() {
    List<Long> sizes = new ArrayList<>();
    for (String s : list("bench.smallSizes", "64KiB,1KiB")) {
      sizes.add(Sizes.parseBytes(s));
    }
    BenchConfig c = new BenchConfig(
        Path.of(System.getProperty("bench.dir", "target/bench")).toAbsolutePath(),
        bytes("bench.largeFile", "1GiB"),
        integer("bench.smallFiles", 10_000),
        sizes,
        integer("bench.concurrency", 16),
        integer("bench.namespace", 100_000),
        integer("bench.statOps", 20_000),
        integer("bench.listOps", 1_000),
        integer("bench.listLimit", 1_000),
        integer("bench.reps", 3),
        integer("bench.warmups", 2),
        integer("bench.warmupOps", 2_000),
        integer("bench.memoryClients", 4),
        bytes("bench.memoryStreamSize", "1GiB"),
        bytes("bench.limitSize", "1GiB"),
        list("bench.levels", "sync,buffered"),
        list("bench.workloads", "limits,large,small,meta,memory"),
        integer("bench.settleMs", 1_000),
        Boolean.parseBoolean(System.getProperty("bench.flushBetween", "true").trim()),
        bytes("bench.chunkSize", "64MiB"),
        list("bench.gatewayJvmFlags", "-Xmx128m,-XX:+UseSerialGC,-XX:TrimNativeHeapInterval=1000"),
        list("bench.gatewayEnv", ""),
        list("bench.chunkserverJvmFlags", "-Xmx512m"),
        list("bench.masterJvmFlags", ""),
        list("bench.vgfsFlags", ""),
        list("bench.targets", "vgfs-client,vgfs-http,hdfs"),
        System.getProperty("bench.httpClient", "vertx").trim());
    if (!List.of("vertx", "jdk").contains(c.httpClient)) {
      throw new IllegalArgumentException("bench.httpClient must be vertx or jdk");
    }
    if (c.largeFile > Integer.MAX_VALUE - 8 || c.memoryStreamSize > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("bench.largeFile and bench.memoryStreamSize must be < 2 GiB");
    }
    return c;
  }

  public boolean runs(String workload) {
    return workloads.contains(workload);
  }

  /** Files in run {@code run} (warm-up runs come first and are capped). */
  public int files(int n, int run) {
    return run < warmups ? Math.min(n, warmupOps) : n;
  }

  public JsonObject toJson() {
    return new JsonObject().put("dir", dir.toString()).put("largeFile", largeFile)
        .put("smallFiles", smallFiles).put("smallSizes", new io.vertx.core.json.JsonArray(smallSizes))
        .put("concurrency", concurrency).put("namespace", namespace).put("statOps", statOps)
        .put("listOps", listOps).put("listLimit", listLimit).put("reps", reps)
        .put("warmups", warmups).put("warmupOps", warmupOps).put("memoryClients", memoryClients)
        .put("memoryStreamSize", memoryStreamSize).put("limitSize", limitSize)
        .put("levels", new io.vertx.core.json.JsonArray(levels))
        .put("workloads", new io.vertx.core.json.JsonArray(workloads)).put("settleMs", settleMs)
        .put("flushBetween", flushBetween)
        .put("chunkSize", chunkSize)
        .put("gatewayJvmFlags", new io.vertx.core.json.JsonArray(gatewayJvmFlags))
        .put("gatewayEnv", new io.vertx.core.json.JsonArray(gatewayEnv))
        .put("chunkserverJvmFlags", new io.vertx.core.json.JsonArray(chunkserverJvmFlags))
        .put("masterJvmFlags", new io.vertx.core.json.JsonArray(masterJvmFlags))
        .put("vgfsFlags", new io.vertx.core.json.JsonArray(vgfsFlags))
        .put("targets", new io.vertx.core.json.JsonArray(targets)).put("httpClient", httpClient);
  }

  private static long bytes(String key, String def) {
    return Sizes.parseBytes(System.getProperty(key, def));
  }

  private static int integer(String key, int def) {
    String v = System.getProperty(key);
    return v == null || v.isBlank() ? def : Integer.parseInt(v.trim().replace("_", ""));
  }

  private static List<String> list(String key, String def) {
    String v = System.getProperty(key, def);
    return Arrays.stream(v.split(v.contains(",") ? "," : "\\s+")).map(String::trim)
        .filter(s -> !s.isEmpty()).toList();
  }
}
