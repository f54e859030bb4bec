package io.vgfs.it;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clients writing small files through a gateway in a loop, remembering every write the gateway
 * acknowledged (201) with its content hash, and when each acknowledged write started and ended, so
 * a test can check that nothing acknowledged was lost and measure how long writes were refused.
 */
final class WriteLoad implements AutoCloseable {

  /** An acknowledged write. */
  record Ack(String path, String sha256, long startNanos, long endNanos) {
  }

  private final String base;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  final Map<String, Ack> acked = new ConcurrentHashMap<>();
  final AtomicInteger refused = new AtomicInteger();
  /** Why writes were refused: "t=<ms since start> <status or exception>", for diagnostics. */
  final List<String> refusals = java.util.Collections.synchronizedList(new ArrayList<>());
  private final long born = System.nanoTime();
  private final AtomicInteger counter = new AtomicInteger();

  WriteLoad(String base, int writers, String prefix) {
    this.base = base;
    for (int w = 0; w < writers; w++) {
      int id = w;
      Thread t = new Thread(() -> run(prefix + "/w" + id), "write-load-" + w);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private void run(String prefix) {
    while (!stop.get()) {
      int n = counter.incrementAndGet();
      String path = prefix + "/f" + n;
      byte[] data = TestSupport.randomBytes(4096 + n % 20_000, n);
      long start = System.nanoTime();
      try {
        HttpResponse<String> r = TestSupport.HTTP.send(HttpRequest.newBuilder(
                URI.create(base + "/api/v1/files/" + path)).timeout(Duration.ofSeconds(30))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 201) {
          acked.put(path, new Ack(path, TestSupport.sha256(data), start, System.nanoTime()));
        } else {
          refused.incrementAndGet();
          refusals.add(String.format("%d..%d ms %d %s", (start - born) / 1_000_000,
              (System.nanoTime() - born) / 1_000_000, r.statusCode(), r.body()));
          sleep(20);
        }
      } catch (Exception e) {
        refused.incrementAndGet();
        refusals.add(String.format("%d..%d ms %s", (start - born) / 1_000_000,
            (System.nanoTime() - born) / 1_000_000, e));
        sleep(20);
      }
    }
  }

  /** The first acknowledged write that started at or after {@code t}, as its end time. */
  long firstAckStartedAfter(long t) {
    return acked.values().stream().filter(a -> a.startNanos() >= t).mapToLong(Ack::endNanos)
        .min().orElse(Long.MAX_VALUE);
  }

  int ackedCount() {
    return acked.size();
  }

  @Override
  public void close() {
    stop.set(true);
    for (Thread t : threads) {
      try {
        t.join(40_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
