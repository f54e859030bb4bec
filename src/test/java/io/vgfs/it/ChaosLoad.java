package io.vgfs.it;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The mixed load {@link ChaosIT} runs while it injects faults, and what it saw acknowledged:
 * <ul>
 *   <li>uploads of new files, most of them small, one in ten spanning two or three chunks; every
 *       attempted file's hash is kept, so that a file that exists without an acknowledgement can
 *       still be checked for being whole;</li>
 *   <li>deletions of acknowledged files, kept apart by outcome: acknowledged (the file must be
 *       gone), or unknown (gone or whole);</li>
 *   <li>record appends to one log with an {@code Idempotency-Key}, each retried with its key until
 *       acknowledged, so every record must end up in the log exactly once.</li>
 * </ul>
 */
final class ChaosLoad implements AutoCloseable {

  static final String FILES = "chaos/files/";
  static final String LOG = "chaos/log";
  private static final int CHUNK = 1 << 20;

  /** A record append and the offset and length its reply named. */
  record Appended(int writer, int n, long offset, long length) {
  }

  private final String base;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger counter = new AtomicInteger();
  private final long born = System.nanoTime();
  /** Every path an upload was attempted for, with the hash of what was sent. */
  final Map<String, String> attempted = new ConcurrentHashMap<>();
  /** Uploads answered 201. */
  final Map<String, String> acked = new ConcurrentHashMap<>();
  /** Deletions answered 204. */
  final Set<String> deleted = ConcurrentHashMap.newKeySet();
  /** Deletions whose outcome is unknown (an error or no answer). */
  final Set<String> maybeDeleted = ConcurrentHashMap.newKeySet();
  final Map<String, Appended> appended = new ConcurrentHashMap<>();
  final AtomicInteger refused = new AtomicInteger();
  /** Why a request was refused, "t=<ms> <what>": for the report of a failed run. */
  final List<String> refusals = java.util.Collections.synchronizedList(new ArrayList<>());
  /** Appenders that gave up on a record (it stayed unacknowledged past the deadline). */
  final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());

  ChaosLoad(String base, int uploaders, int appenders) {
    this.base = base;
    for (int i = 0; i < uploaders; i++) {
      int id = i;
      start("chaos-upload-" + i, () -> upload(new Random(id)));
    }
    for (int i = 0; i < appenders; i++) {
      int writer = i;
      start("chaos-append-" + i, () -> append(writer));
    }
  }

  private void start(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  int ackedUploads() {
    return acked.size();
  }

  int ackedAppends() {
    return appended.size();
  }

  private void upload(Random rnd) {
    while (!stop.get()) {
      int n = counter.incrementAndGet();
      if (n % 7 == 0) {
        deleteOne(rnd);
        continue;
      }
      int size = n % 10 == 0 ? CHUNK + rnd.nextInt(3 * CHUNK / 2) : 1 + rnd.nextInt(64 * 1024);
      byte[] data = TestSupport.randomBytes(size, n);
      String path = FILES + "f" + n;
      attempted.put(path, TestSupport.sha256(data));
      try {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/api/v1/files/" + path))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(data)));
        if (r.statusCode() == 201) {
          acked.put(path, attempted.get(path));
        } else {
          refuse("PUT " + path + " " + r.statusCode() + " " + r.body());
        }
      } catch (Exception e) {
        refuse("PUT " + path + " " + e);
      }
    }
  }

  private void deleteOne(Random rnd) {
    List<String> live = acked.keySet().stream()
        .filter(p -> !deleted.contains(p) && !maybeDeleted.contains(p)).sorted().toList();
    if (live.isEmpty()) {
      return;
    }
    String path = live.get(rnd.nextInt(live.size()));
    try {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/api/v1/files/" + path))
          .DELETE());
      if (r.statusCode() == 204) {
        deleted.add(path);
        return;
      }
      refuse("DELETE " + path + " " + r.statusCode() + " " + r.body());
    } catch (Exception e) {
      refuse("DELETE " + path + " " + e);
    }
    maybeDeleted.add(path);
  }

  private void append(int writer) {
    for (int n = 0; !stop.get(); n++) {
      String key = "w" + writer + "-n" + n;
      byte[] rec = AppendIT.record(writer, n);
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (true) {
        try {
          HttpResponse<String> r = send(HttpRequest.newBuilder(
                  URI.create(base + "/api/v1/files/" + LOG + "?append"))
              .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofByteArray(rec)));
          if (r.statusCode() == 200) {
            JsonObject j = new JsonObject(r.body());
            appended.put(key, new Appended(writer, n, j.getLong("offset"), j.getLong("length")));
            break;
          }
          refuse("append " + key + " " + r.statusCode() + " " + r.body());
        } catch (Exception e) {
          refuse("append " + key + " " + e);
        }
        if (System.nanoTime() > deadline) {
          errors.add(key + " not acknowledged within 120 s");
          return;
        }
      }
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return TestSupport.HTTP.send(b.timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  // A refused request is retried (appends) or given up (uploads, deletions) after a short pause,
  // so that a down gateway is not hammered; the chaos loop's deadlines bound the whole.
  private void refuse(String what) {
    refused.incrementAndGet();
    refusals.add("t=" + (System.nanoTime() - born) / 1_000_000 + " " + what);
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the load; each appender first finishes the record it is on. */
  @Override
  public void close() {
    stop.set(true);
    for (Thread t : threads) {
      try {
        t.join(150_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
