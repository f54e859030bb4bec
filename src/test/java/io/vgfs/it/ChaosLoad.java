package io.vgfs.it;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
 *   <li>deletions and renames of acknowledged files, each path changed at most once, kept apart
 *       by outcome: acknowledged (the old path must be gone, a renamed file whole at its new
 *       path), or unknown (a deleted file gone or whole; a renamed file at exactly one of its two
 *       paths);</li>
 *   <li>record appends to one log with an {@code Idempotency-Key}, each retried with its key until
 *       acknowledged, so every record must end up in the log exactly once;</li>
 *   <li>reads while all this goes on, of whole files, byte ranges and appended records: every
 *       byte a read returns must be the byte written, and an acknowledged file may be missing
 *       only once its deletion or rename has started.</li>
 * </ul>
 * Times are {@link System#nanoTime()}, so that {@link ChaosSnapshots} can tell which changes a
 * snapshot must and must not contain.
 */
final class ChaosLoad implements AutoCloseable {

  static final String DIR = "chaos/";
  static final String FILES = DIR + "files/";
  static final String LOG = DIR + "log";
  private static final int CHUNK = 1 << 20;

  /** How an attempted file's bytes are made again: {@link TestSupport#randomBytes}. */
  record Spec(int size, long seed, String sha) {
    byte[] bytes() {
      return TestSupport.randomBytes(size, seed);
    }
  }

  /** A record append, the offset and length its reply named, and when the reply came. */
  record Appended(int writer, int n, long offset, long length, long ackedAt) {
  }

  private final String base;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger counter = new AtomicInteger();
  private final long born = System.nanoTime();
  /** Every path an upload (or a rename to it) was attempted for, with what it holds. */
  final Map<String, Spec> attempted = new ConcurrentHashMap<>();
  /** Files acknowledged at their path (uploads answered 201, renames answered 200), by hash. */
  final Map<String, String> acked = new ConcurrentHashMap<>();
  /** When each acknowledged file's acknowledgement came. */
  final Map<String, Long> ackedAt = new ConcurrentHashMap<>();
  /** When a deletion or rename of a path started: a path is changed at most once. */
  final Map<String, Long> changedAt = new ConcurrentHashMap<>();
  /** When a path's acknowledged deletion or rename away was answered. */
  final Map<String, Long> goneAt = new ConcurrentHashMap<>();
  /** Paths whose deletion or rename away was acknowledged: they must be gone. */
  final Set<String> deleted = ConcurrentHashMap.newKeySet();
  /** Paths whose deletion or rename away has an unknown outcome (an error or no answer). */
  final Set<String> maybeDeleted = ConcurrentHashMap.newKeySet();
  /** Renames with an unknown outcome, old path to new: the file is at exactly one of them. */
  final Map<String, String> maybeRenamed = new ConcurrentHashMap<>();
  final AtomicInteger deletions = new AtomicInteger();
  final AtomicInteger renames = new AtomicInteger();
  final AtomicInteger reads = new AtomicInteger();
  final Map<String, Appended> appended = new ConcurrentHashMap<>();
  final AtomicInteger refused = new AtomicInteger();
  /** Why a request was refused, "t=<ms> <what>": for the report of a failed run. */
  final List<String> refusals = Collections.synchronizedList(new ArrayList<>());
  /** What must never happen: wrong bytes read, an acknowledged file missing, a record given up. */
  final List<String> errors = Collections.synchronizedList(new ArrayList<>());

  ChaosLoad(String base, int uploaders, int appenders, int readers) {
    this.base = base;
    for (int i = 0; i < uploaders; i++) {
      int id = i;
      start("chaos-upload-" + i, () -> upload(new Random(id)));
    }
    for (int i = 0; i < appenders; i++) {
      int writer = i;
      start("chaos-append-" + i, () -> append(writer));
    }
    for (int i = 0; i < readers; i++) {
      int id = i;
      start("chaos-read-" + i, () -> read(new Random(1000 + id)));
    }
  }

  void start(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  boolean stopped() {
    return stop.get();
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
      if (n % 11 == 0) {
        renameOne(rnd, n);
        continue;
      }
      int size = n % 10 == 0 ? CHUNK + rnd.nextInt(3 * CHUNK / 2) : 1 + rnd.nextInt(64 * 1024);
      byte[] data = TestSupport.randomBytes(size, n);
      String path = FILES + "f" + n;
      String sha = TestSupport.sha256(data);
      attempted.put(path, new Spec(size, n, sha));
      try {
        HttpResponse<String> r = send(HttpRequest.newBuilder(fileUri(path))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(data)));
        if (r.statusCode() == 201) {
          ackedAt.put(path, System.nanoTime());
          acked.put(path, sha);
        } else {
          refuse("PUT " + path + " " + r.statusCode() + " " + r.body());
        }
      } catch (Exception e) {
        refuse("PUT " + path + " " + e);
      }
    }
  }

  // An acknowledged file no deletion or rename has touched, claimed for this one (or null).
  private String claim(Random rnd) {
    List<String> live = acked.keySet().stream().filter(p -> !changedAt.containsKey(p)).sorted()
        .toList();
    if (live.isEmpty()) {
      return null;
    }
    String path = live.get(rnd.nextInt(live.size()));
    return changedAt.putIfAbsent(path, System.nanoTime()) == null ? path : null;
  }

  private void deleteOne(Random rnd) {
    String path = claim(rnd);
    if (path == null) {
      return;
    }
    try {
      HttpResponse<String> r = send(HttpRequest.newBuilder(fileUri(path)).DELETE());
      if (r.statusCode() == 204) {
        goneAt.put(path, System.nanoTime());
        deleted.add(path);
        deletions.incrementAndGet();
        return;
      }
      refuse("DELETE " + path + " " + r.statusCode() + " " + r.body());
    } catch (Exception e) {
      refuse("DELETE " + path + " " + e);
    }
    maybeDeleted.add(path);
  }

  private void renameOne(Random rnd, int n) {
    String from = claim(rnd);
    if (from == null) {
      return;
    }
    String to = FILES + "r" + n;
    attempted.put(to, attempted.get(from));
    try {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/api/v1/files/"
          + from + "?rename-to=" + to)).POST(HttpRequest.BodyPublishers.noBody()));
      if (r.statusCode() == 200) {
        long now = System.nanoTime();
        goneAt.put(from, now);
        deleted.add(from);
        ackedAt.put(to, now);
        acked.put(to, acked.get(from));
        renames.incrementAndGet();
        return;
      }
      refuse("rename " + from + " " + r.statusCode() + " " + r.body());
    } catch (Exception e) {
      refuse("rename " + from + " " + e);
    }
    maybeDeleted.add(from);
    maybeRenamed.put(from, to);
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
            appended.put(key, new Appended(writer, n, j.getLong("offset"), j.getLong("length"),
                System.nanoTime()));
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

  // Reads an acknowledged file whole or a range of it, or an appended record by its range.
  private void read(Random rnd) {
    while (!stop.get()) {
      List<String> paths = acked.keySet().stream().filter(p -> !changedAt.containsKey(p))
          .sorted().toList();
      if (paths.isEmpty() || rnd.nextInt(4) == 0) {
        readRecord(rnd);
        continue;
      }
      String path = paths.get(rnd.nextInt(paths.size()));
      byte[] expected = attempted.get(path).bytes();
      int from = 0;
      int to = expected.length;
      HttpRequest.Builder b = HttpRequest.newBuilder(fileUri(path)).GET();
      if (rnd.nextBoolean()) {
        from = rnd.nextInt(expected.length);
        to = from + 1 + rnd.nextInt(expected.length - from);
        b.header("Range", "bytes=" + from + "-" + (to - 1));
      }
      try {
        HttpResponse<byte[]> r = TestSupport.HTTP.send(b.timeout(Duration.ofSeconds(60)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        int status = r.statusCode();
        if (status == 200 || status == 206) {
          reads.incrementAndGet();
          if (!Arrays.equals(r.body(), Arrays.copyOfRange(expected, from, to))) {
            errors.add(java.time.LocalTime.now() + " read of " + path + " [" + from + ", " + to
                + ") returned " + status + " with wrong bytes (" + r.body().length
                + " bytes, first difference at " + Arrays.mismatch(r.body(),
                Arrays.copyOfRange(expected, from, to)) + ")");
          }
        } else if (status == 404 && !changedAt.containsKey(path)) {
          errors.add("acknowledged " + path + " not found (404) with no deletion or rename of it");
        } else if (status != 404) {
          refuse("GET " + path + " " + status + " " + new String(r.body()));
        }
      } catch (Exception e) {
        refuse("GET " + path + " " + e);
      }
    }
  }

  private void readRecord(Random rnd) {
    List<Appended> recs = new ArrayList<>(appended.values());
    if (recs.isEmpty()) {
      pause();
      return;
    }
    Appended a = recs.get(rnd.nextInt(recs.size()));
    String range = "bytes=" + a.offset() + "-" + (a.offset() + a.length() - 1);
    try {
      HttpResponse<byte[]> r = TestSupport.HTTP.send(HttpRequest.newBuilder(fileUri(LOG))
              .header("Range", range).timeout(Duration.ofSeconds(60)).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 206) {
        reads.incrementAndGet();
        byte[] expected = AppendIT.record(a.writer(), a.n());
        if (!Arrays.equals(r.body(), expected)) {
          errors.add(java.time.LocalTime.now() + " record w" + a.writer() + " n" + a.n()
              + " read at " + range + " (acknowledged " + (System.nanoTime() - a.ackedAt())
              / 1_000_000 + " ms before) has wrong bytes: " + r.body().length + " bytes from "
              + r.headers().firstValue("Content-Range").orElse("?") + ", first difference at "
              + Arrays.mismatch(r.body(), expected) + ": \"" + ascii(r.body()) + "\" instead of \""
              + ascii(expected) + "\"");
        }
      } else {
        refuse("GET " + LOG + " " + range + " " + r.statusCode() + " " + new String(r.body()));
      }
    } catch (Exception e) {
      refuse("GET " + LOG + " " + range + " " + e);
    }
  }

  private static String ascii(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(b.length, 60); i++) {
      s.append(b[i] >= 32 && b[i] < 127 ? (char) b[i] : '.');
    }
    return s.toString();
  }

  URI fileUri(String path) {
    return URI.create(base + "/api/v1/files/" + path);
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return TestSupport.HTTP.send(b.timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  // A refused request is retried (appends) or given up (the rest) after a short pause, so that
  // a down gateway is not hammered; the chaos loop's deadlines bound the whole.
  void refuse(String what) {
    refused.incrementAndGet();
    refusals.add("t=" + (System.nanoTime() - born) / 1_000_000 + " " + what);
    pause();
  }

  static void pause() {
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
