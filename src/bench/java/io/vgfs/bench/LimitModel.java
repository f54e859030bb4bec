package io.vgfs.bench;

/**
 * The machine's ceiling for a bulk transfer, from the limits measured in the run, so that each
 * system's MB/s can be read as a fraction of what this host could do at best.
 *
 * <p>On one host every replica shares one disk and one loopback interface. A write with three
 * replicas moves every byte over loopback three times (writer → replica 1 → replica 2 →
 * replica 3; four times through the HTTP gateway, whose client is one more hop) and writes it to
 * the disk three times. If every resource ran at its measured speed and they overlapped
 * perfectly, the write could go no faster than {@code min(disk / 3, loopback / hops)} with
 * {@code disk} = sequential write + fsync; when the acknowledgement does not wait for the disk
 * (vgfs {@code buffered}, HDFS as shipped) the ceiling is {@code loopback / hops}. A read of a
 * freshly written file comes from the page cache of one replica and crosses loopback once
 * (twice through the gateway): {@code min(page-cache read, loopback / hops)}. These ceilings are
 * optimistic (both cores also run the file systems themselves), so the fractions are modest.
 */
final class LimitModel {

  /** A ceiling in MB/s and how it was computed. */
  record Ceiling(double mbps, String formula) {
  }

  private final Results results;

  LimitModel(Results results) {
    this.results = results;
  }

  private double limit(String name) {
    Results.Series s = results.get(name, "-", "machine");
    return s == null ? Double.NaN : s.median();
  }

  /** The ceiling for a large-file workload on a target, or {@code null} for other workloads. */
  Ceiling ceiling(String workload, String level, String target) {
    double loop = limit(MachineLimits.LOOPBACK);
    double disk = limit(MachineLimits.DISK_WRITE);
    double cache = limit(MachineLimits.CACHE_READ);
    if (Double.isNaN(loop)) {
      return null;
    }
    boolean gateway = target.equals("vgfs-http");
    if (workload.equals("large-write")) {
      int hops = gateway ? 4 : 3;
      if (level.equals("sync") && !Double.isNaN(disk)) {
        return new Ceiling(Math.min(disk / 3, loop / hops),
            "min(disk write+fsync / 3, loopback / " + hops + ")");
      }
      return new Ceiling(loop / hops, "loopback / " + hops);
    }
    if (workload.equals("large-read")) {
      int hops = gateway ? 2 : 1;
      double c = Double.isNaN(cache) ? loop / hops : Math.min(cache, loop / hops);
      return new Ceiling(c, "min(page-cache read, loopback / " + hops + ")");
    }
    return null;
  }

  /** Every large-file median as a fraction of its ceiling, for results.json. */
  io.vertx.core.json.JsonArray toJson() {
    io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
    for (Results.Series s : results.all()) {
      Ceiling c = ceiling(s.workload, s.level, s.target);
      if (c != null && !s.values.isEmpty()) {
        out.add(new io.vertx.core.json.JsonObject().put("workload", s.workload)
            .put("level", s.level).put("target", s.target).put("median", s.median())
            .put("ceilingMBps", Stats.round(c.mbps())).put("formula", c.formula())
            .put("fraction", Stats.round(s.median() / c.mbps())));
      }
    }
    return out;
  }

  /** {@code value} as a fraction of its ceiling, or NaN. */
  double fraction(String workload, String level, String target, double value) {
    Ceiling c = ceiling(workload, level, target);
    return c == null ? Double.NaN : value / c.mbps();
  }
}
