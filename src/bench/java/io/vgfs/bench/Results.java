package io.vgfs.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every measured number of the run, by workload, durability level and target, in the order they
 * were taken; summaries (median, min, max) are computed when the results are written.
 */
final class Results {

  /** The measurements of one workload on one target at one level. */
  static final class Series {
    final String workload;
    final String level;
    final String target;
    final String unit;
    final List<Double> values = new ArrayList<>();
    final List<JsonObject> details = new ArrayList<>();

    Series(String workload, String level, String target, String unit) {
      this.workload = workload;
      this.level = level;
      this.target = target;
      this.unit = unit;
    }

    double median() {
      return Stats.median(values);
    }

    double min() {
      return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    double max() {
      return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** The median over runs of a number every detail carries ({@code p99Ms}), or NaN. */
    double detailMedian(String key) {
      List<Double> v = new ArrayList<>();
      for (JsonObject d : details) {
        Object x = d.getValue(key);
        if (x instanceof Number n) {
          v.add(n.doubleValue());
        }
      }
      return v.isEmpty() ? Double.NaN : Stats.median(v);
    }

    int errors() {
      return details.stream().mapToInt(d -> d.getInteger("errors", 0)).sum();
    }

    JsonObject toJson() {
      JsonObject j = new JsonObject().put("workload", workload).put("level", level)
          .put("target", target).put("unit", unit).mergeIn(Stats.summary(values))
          .put("details", new JsonArray(new ArrayList<>(details)));
      for (String key : List.of("p50Ms", "p99Ms")) {
        if (!Double.isNaN(detailMedian(key))) {
          j.put(key + "Median", Stats.round(detailMedian(key)));
        }
      }
      return j.put("errors", errors());
    }
  }

  private final Map<String, Series> series = new LinkedHashMap<>();
  private final JsonObject info = new JsonObject();

  /** Adds one run's value (and what else is worth keeping about the run). */
  synchronized void record(String workload, String level, String target, String unit,
                           double value, JsonObject detail) {
    series.computeIfAbsent(key(workload, level, target),
        k -> new Series(workload, level, target, unit)).values.add(Stats.round(value));
    if (detail != null) {
      series.get(key(workload, level, target)).details.add(detail);
    }
  }

  /** A run that failed: no value, but the error is kept and counted. */
  synchronized void fail(String workload, String level, String target, String unit,
                         String error) {
    series.computeIfAbsent(key(workload, level, target),
        k -> new Series(workload, level, target, unit)).details
        .add(new JsonObject().put("errors", 1).put("firstError", error));
  }

  /** The series, or {@code null} when it was not measured. */
  synchronized Series get(String workload, String level, String target) {
    return series.get(key(workload, level, target));
  }

  synchronized List<Series> all() {
    return new ArrayList<>(series.values());
  }

  /** Top-level facts: machine, settings of both systems, knobs. */
  synchronized void put(String key, Object value) {
    info.put(key, value);
  }

  synchronized Object info(String key) {
    return info.getValue(key);
  }

  synchronized JsonObject toJson() {
    JsonArray all = new JsonArray();
    series.values().forEach(s -> all.add(s.toJson()));
    return info.copy().put("results", all);
  }

  void write(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, toJson().encodePrettily() + "\n");
  }

  private static String key(String workload, String level, String target) {
    return workload + "|" + level + "|" + target;
  }
}
