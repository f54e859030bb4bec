package io.vgfs.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code results.md}: per workload and durability level, vgfs (client and HTTP) against HDFS,
 * medians with min–max, the ratio, issue 3's target where it sets one, and the share of the
 * machine's ceiling; then the memory workload and the machine's limits.
 */
final class MarkdownReport {

  private static final List<String> VGFS = List.of("vgfs-client", "vgfs-http");

  private final BenchConfig config;
  private final Results results;
  private final LimitModel limits;

  MarkdownReport(BenchConfig config, Results results) {
    this.config = config;
    this.results = results;
    this.limits = new LimitModel(results);
  }

  /** Workloads in table order. */
  List<String> workloads() {
    List<String> w = new java.util.ArrayList<>(List.of("large-write", "large-read"));
    for (long s : config.smallSizes()) {
      String l = io.vgfs.launcher.Sizes.format(s);
      w.add("small-" + l + "-write");
      w.add("small-" + l + "-read");
    }
    w.addAll(List.of("meta-create", "meta-stat", "meta-list"));
    return w;
  }

  /** Issue 3's target for a row, and whether it is met; {@code null} when it sets none. */
  static String[] target(String workload, String level, String target, Results.Series vgfs,
                         Results.Series hdfs) {
    double ratio = hdfs == null ? Double.NaN : vgfs.median() / hdfs.median();
    boolean client = target.equals("vgfs-client");
    return switch (workload) {
      case "large-write" -> {
        double want = client ? (level.equals("sync") ? 1.2 : 1.1) : 1.0;
        yield new String[] {"≥ " + want + "× HDFS", met(ratio >= want, ratio)};
      }
      case "large-read" -> client ? new String[] {"≥ 1.0× HDFS", met(ratio >= 1.0, ratio)}
          : new String[] {"≥ 1,000 MB/s", met(vgfs.median() >= 1000, vgfs.median())};
      case "small-64KiB-write", "small-64KiB-read" -> {
        if (!client) {
          yield null;
        }
        int want = workload.endsWith("write") ? 1000 : 3000;
        double p99 = vgfs.detailMedian("p99Ms");
        double hp99 = hdfs == null ? Double.NaN : hdfs.detailMedian("p99Ms");
        yield new String[] {"≥ " + String.format(Locale.ROOT, "%,d", want)
            + " files/s, p99 < HDFS", met(vgfs.median() >= want && p99 < hp99, vgfs.median())};
      }
      default -> null;
    };
  }

  private static String met(boolean ok, double value) {
    return Double.isNaN(value) ? "?" : ok ? "yes" : "**no**";
  }

  String render() {
    StringBuilder md = new StringBuilder();
    JsonObject machine = (JsonObject) results.info("machine");
    md.append("# vgfs vs HDFS\n\n");
    if (machine != null) {
      md.append(String.format(Locale.ROOT, "Machine: %s cores (%s), %s MiB RAM, %s, kernel %s, "
              + "disk %s (%s GiB free). %s.%n%n", machine.getValue("cores"), machine.getValue("cpu"),
          machine.getValue("memTotalMiB"), machine.getValue("jdk"), machine.getValue("kernel"),
          machine.getJsonObject("disk").getValue("type"),
          machine.getJsonObject("disk").getValue("freeGiB"), machine.getValue("date")));
    }
    JsonObject vgfsInfo = (JsonObject) results.info("vgfs");
    if (vgfsInfo != null && vgfsInfo.getString("commit") != null) {
      md.append("vgfs commit ").append(vgfsInfo.getString("commit")).append("; HDFS ")
          .append(hdfsVersion()).append(".\n\n");
    }
    md.append(String.format(Locale.ROOT, "Medians of %d repetitions (min–max) after %d warm-up "
            + "runs, systems alternating; MB/s = 10^6 B/s. vgfs `sync` is compared with HDFS "
            + "`dfs.datanode.synconclose=true`, vgfs `buffered` with HDFS as shipped. Large file "
            + "%s, small files %d × each size with %d concurrent clients, namespace %d files.%n%n",
        config.reps(), config.warmups(), io.vgfs.launcher.Sizes.format(config.largeFile()),
        config.smallFiles(), config.concurrency(), config.namespace()));
    md.append("| workload | level | vgfs via | vgfs | HDFS | vgfs/HDFS | target (issue 3) | met "
        + "| vgfs % of limit | HDFS % of limit |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|\n");
    for (String level : config.levels()) {
      for (String workload : workloads()) {
        Results.Series hdfs = results.get(workload, level, "hdfs");
        for (String target : VGFS) {
          Results.Series vgfs = results.get(workload, level, target);
          if (vgfs == null) {
            continue;
          }
          String[] t = target(workload, level, target, vgfs, hdfs);
          md.append("| ").append(workload).append(" | ").append(level).append(" | ")
              .append(target).append(" | ").append(cell(vgfs)).append(" | ")
              .append(hdfs == null ? "–" : cell(hdfs)).append(" | ")
              .append(hdfs == null ? "–" : fmt(vgfs.median() / hdfs.median()) + "×")
              .append(" | ").append(t == null ? "" : t[0]).append(" | ")
              .append(t == null ? "" : t[1]).append(" | ")
              .append(percent(workload, level, target, vgfs)).append(" | ")
              .append(hdfs == null ? "" : percent(workload, level, "hdfs", hdfs)).append(" |\n");
        }
      }
    }
    memory(md);
    machineLimits(md);
    md.append("\nRaw numbers of every run: `results.json`; chart: `chart.png`.\n");
    return md.toString();
  }

  private String hdfsVersion() {
    JsonObject hdfs = (JsonObject) results.info("hdfs");
    if (hdfs == null) {
      return "not run";
    }
    for (String level : hdfs.fieldNames()) {
      return hdfs.getJsonObject(level).getString("version") + " MiniDFSCluster";
    }
    return "not run";
  }

  private void memory(StringBuilder md) {
    md.append("\n## Memory (vgfs only: HDFS's DataNodes share the bench JVM)\n\n");
    md.append(String.format(Locale.ROOT, "%d HTTP clients each upload, then download, %s through "
        + "one gateway at the same time; peak over the whole workload.%n%n",
        config.memoryClients(), io.vgfs.launcher.Sizes.format(config.memoryStreamSize())));
    md.append("| process | level | peak RSS MiB | peak heap used MiB | target |\n|---|---|---|---|---|\n");
    boolean any = false;
    for (String level : config.levels()) {
      for (String who : List.of("gateway", "chunkserver")) {
        Results.Series rss = results.get("memory-" + who + "-rss", level, "vgfs-http");
        Results.Series heap = results.get("memory-" + who + "-heap", level, "vgfs-http");
        if (rss == null) {
          continue;
        }
        any = true;
        String target = who.equals("gateway")
            ? "< 300 MiB RSS: " + met(rss.median() < 300, rss.median()) : "";
        md.append("| ").append(who).append(" | ").append(level).append(" | ").append(cell(rss))
            .append(" | ").append(heap == null ? "–" : cell(heap)).append(" | ").append(target)
            .append(" |\n");
      }
    }
    if (!any) {
      md.append("| (not run) | | | | |\n");
    }
  }

  private void machineLimits(StringBuilder md) {
    md.append("\n## This machine's limits (same run)\n\n| limit | figure |\n|---|---|\n");
    for (String name : List.of(MachineLimits.DISK_WRITE, MachineLimits.DISK_READ,
        MachineLimits.CACHE_READ, MachineLimits.LOOPBACK, MachineLimits.CRC,
        MachineLimits.SYNC_RATE)) {
      Results.Series s = results.get(name, "-", "machine");
      md.append("| ").append(name.substring("limit-".length())).append(" | ")
          .append(s == null ? "not measured" : cell(s)).append(" |\n");
    }
    md.append("\nCeilings used for \"% of limit\" (see `LimitModel`): a 3-replica write on one host "
        + "moves every byte over loopback 3 times (4 through the gateway) and onto the disk 3 "
        + "times, so its ceiling is min(disk write+fsync / 3, loopback / hops) when the ack waits "
        + "for fsync, loopback / hops when it does not; a read of a fresh file crosses loopback "
        + "once (twice through the gateway) from the page cache: min(page-cache read, loopback "
        + "/ hops). Small-file and metadata figures are bounded by round trips and, for durable "
        + "writes, by how long each fsync takes while other files are written back (a durable "
        + "small file waits for the fsyncs of its 3 replicas and of the master's log, which all "
        + "share this host's one disk; " + MachineLimits.SYNC_RATE + " is that disk's rate of "
        + "them), not by bandwidth, so they have no such fraction.\n");
  }

  private String percent(String workload, String level, String target, Results.Series s) {
    double f = limits.fraction(workload, level, target, s.median());
    return Double.isNaN(f) ? "" : String.format(Locale.ROOT, "%.0f %%", 100 * f);
  }

  static String cell(Results.Series s) {
    StringBuilder c = new StringBuilder(fmt(s.median()) + " " + s.unit);
    if (s.values.size() > 1) {
      c.append(" (").append(fmt(s.min())).append("–").append(fmt(s.max())).append(")");
    }
    double p50 = s.detailMedian("p50Ms");
    double p99 = s.detailMedian("p99Ms");
    if (!Double.isNaN(p99) && !s.workload.startsWith("memory")) {
      c.append("; p50 ").append(fmt(p50)).append(" ms, p99 ").append(fmt(p99)).append(" ms");
    }
    if (s.errors() > 0) {
      c.append("; **").append(s.errors()).append(" errors**");
    }
    return c.toString();
  }

  static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    double a = Math.abs(v);
    return String.format(Locale.ROOT, a >= 100 ? "%,.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  }

  void write(Path file) throws IOException {
    Files.writeString(file, render());
  }
}
