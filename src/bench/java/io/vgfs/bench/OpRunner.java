package io.vgfs.bench;

import io.vertx.core.json.JsonObject;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Runs {@code n} operations with at most {@code concurrency} in flight, timing each one from its
 * start to its completion, and the whole batch from the first start to the last completion.
 */
final class OpRunner {

  private OpRunner() {
  }

  /** The outcome of a batch. */
  record Batch(int ops, long wallNanos, long[] latencyNanos, int errors, String firstError) {

    double opsPerSecond() {
      return ops / (wallNanos / 1e9);
    }

    double p50Ms() {
      return Stats.percentileMs(latencyNanos, 50);
    }

    double p99Ms() {
      return Stats.percentileMs(latencyNanos, 99);
    }

    double maxMs() {
      return Stats.percentileMs(latencyNanos, 100);
    }

    /** ", 3 errors (first: ...)" or nothing. */
    String errorNote() {
      return errors == 0 ? "" : ", " + errors + " errors (first: " + firstError + ")";
    }

    JsonObject toJson() {
      JsonObject j = new JsonObject().put("ops", ops).put("seconds", Stats.round(wallNanos / 1e9))
          .put("opsPerSecond", Stats.round(opsPerSecond())).put("p50Ms", Stats.round(p50Ms()))
          .put("p99Ms", Stats.round(p99Ms())).put("maxMs", Stats.round(maxMs()))
          .put("errors", errors);
      return firstError == null ? j : j.put("firstError", firstError);
    }
  }

  /** Operations started and not completed yet, by index, with their start time; for reports. */
  static final java.util.Map<Integer, Long> OUTSTANDING = new java.util.concurrent.ConcurrentHashMap<>();

  /** Called when a batch makes no progress for a minute (what its target knows of its ops). */
  static volatile Runnable stallReport = () -> { };

  static Batch run(int n, int concurrency, IntFunction<CompletableFuture<?>> op) {
    OUTSTANDING.clear();
    Semaphore permits = new Semaphore(concurrency);
    long[] latency = new long[n];
    AtomicInteger errors = new AtomicInteger();
    AtomicReference<String> first = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      acquire(permits, 1);
      int index = i;
      long t0 = System.nanoTime();
      OUTSTANDING.put(index, t0);
      CompletableFuture<?> f;
      try {
        f = op.apply(i);
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((r, e) -> {
        OUTSTANDING.remove(index);
        latency[index] = System.nanoTime() - t0;
        if (e != null) {
          errors.incrementAndGet();
          first.compareAndSet(null, String.valueOf(e.getCause() != null ? e.getCause() : e));
        }
        permits.release();
      });
    }
    acquire(permits, concurrency);
    long wall = System.nanoTime() - start;
    return new Batch(n, wall, latency, errors.get(), first.get());
  }

  // Waits in one-minute slices, reporting what is outstanding after each one without progress:
  // a batch that never finishes must say which operations it waits for.
  private static void acquire(Semaphore s, int permits) {
    try {
      for (int minute = 1; !s.tryAcquire(permits, 1, TimeUnit.MINUTES); minute++) {
        long now = System.nanoTime();
        StringBuilder ops = new StringBuilder();
        OUTSTANDING.entrySet().stream().limit(8).forEach(e -> ops.append(" #").append(e.getKey())
            .append(" (").append((now - e.getValue()) / 1_000_000_000L).append(" s)"));
        BenchLog.info("no progress for %d min: %d operations outstanding:%s", minute,
            OUTSTANDING.size(), ops);
        stallReport.run();
        if (minute == 30) {
          throw new IllegalStateException("operations stuck for 30 minutes");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
