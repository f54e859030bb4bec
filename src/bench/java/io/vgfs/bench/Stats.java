package io.vgfs.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.List;

/** Medians, ranges and latency percentiles. */
final class Stats {

  private Stats() {
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** {@code {runs, median, min, max}} of a list of measurements. */
  static JsonObject summary(List<Double> values) {
    JsonObject s = new JsonObject().put("runs", new JsonArray(List.copyOf(values)));
    if (!values.isEmpty()) {
      s.put("median", round(median(values)))
          .put("min", round(values.stream().mapToDouble(Double::doubleValue).min().orElseThrow()))
          .put("max", round(values.stream().mapToDouble(Double::doubleValue).max().orElseThrow()));
    }
    return s;
  }

  /** The nearest-rank percentile {@code p} (0..100) of latencies in nanoseconds, in ms. */
  static double percentileMs(long[] nanos, double p) {
    if (nanos.length == 0) {
      return Double.NaN;
    }
    long[] s = nanos.clone();
    Arrays.sort(s);
    int rank = (int) Math.ceil(p / 100.0 * s.length);
    return s[Math.max(0, Math.min(s.length - 1, rank - 1))] / 1e6;
  }

  /** Three significant decimals are plenty for any figure here. */
  static double round(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    return Math.round(v * 1000.0) / 1000.0;
  }

  /** MB/s (10^6 bytes per second). */
  static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }
}
