package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots of {@link ChaosLoad#DIR} taken while the load and the faults go on, the oldest
 * deleted as new ones come, and what each must hold. A snapshot answered 201 after being asked
 * at {@code asked} and answered at {@code answered} must contain every file acknowledged before
 * {@code asked} that no deletion or rename had started on by {@code answered}, none whose
 * deletion or rename was acknowledged before {@code asked}, only whole files, and a log that is
 * a prefix of the live log holding every record acknowledged before {@code asked}.
 */
final class ChaosSnapshots {

  /** A snapshot and when it was asked for and answered (answered 0: outcome unknown). */
  record Snap(String name, long asked, long answered) {
  }

  private static final int KEEP = 3;

  private final ChaosLoad load;
  private final String base;
  /** Snapshots answered 201 and not deleted, or with an unknown outcome. */
  final Map<String, Snap> live = new ConcurrentHashMap<>();
  /** Snapshots whose deletion was acknowledged. */
  final Set<String> deleted = ConcurrentHashMap.newKeySet();
  /** Snapshots whose deletion has an unknown outcome. */
  final Set<String> maybeDeleted = ConcurrentHashMap.newKeySet();
  private final List<String> order = new ArrayList<>();

  ChaosSnapshots(ChaosLoad load, String base) {
    this.load = load;
    this.base = base;
    load.start("chaos-snapshots", this::run);
  }

  private void run() {
    Random rnd = new Random(7);
    for (int k = 1; !load.stopped(); k++) {
      int since = load.ackedUploads();
      // One snapshot per 150 acknowledged uploads: many while writes flow, none while they stall.
      while (!load.stopped() && load.ackedUploads() < since + 150) {
        readOne(rnd);
      }
      if (load.stopped()) {
        return;
      }
      take("s" + k);
      if (order.size() > KEEP) {
        drop(order.remove(0));
      }
    }
  }

  private void take(String name) {
    long asked = System.nanoTime();
    try {
      HttpResponse<String> r = load.send(HttpRequest.newBuilder(URI.create(base
          + "/api/v1/snapshots")).POST(HttpRequest.BodyPublishers.ofString(new JsonObject()
          .put("source", ChaosLoad.DIR).put("name", name).encode())));
      if (r.statusCode() == 201) {
        live.put(name, new Snap(name, asked, System.nanoTime()));
        order.add(name);
        return;
      }
      load.refuse("snapshot " + name + " " + r.statusCode() + " " + r.body());
    } catch (Exception e) {
      load.refuse("snapshot " + name + " " + e);
    }
    live.put(name, new Snap(name, asked, 0));
    order.add(name);
  }

  private void drop(String name) {
    try {
      HttpResponse<String> r = load.send(HttpRequest.newBuilder(URI.create(base
          + "/api/v1/snapshots/" + name)).DELETE());
      if (r.statusCode() == 204 || (r.statusCode() == 404 && live.get(name).answered() == 0)) {
        live.remove(name);
        deleted.add(name);
        return;
      }
      load.refuse("delete snapshot " + name + " " + r.statusCode() + " " + r.body());
    } catch (Exception e) {
      load.refuse("delete snapshot " + name + " " + e);
    }
    live.remove(name);
    maybeDeleted.add(name);
  }

  // A file of the newest acknowledged snapshot, read while the faults go on: whole if it is there.
  private void readOne(Random rnd) {
    Snap snap = live.values().stream().filter(s -> s.answered() > 0)
        .max((a, b) -> Long.compare(a.asked(), b.asked())).orElse(null);
    List<String> candidates = snap == null ? List.of() : load.ackedAt.entrySet().stream()
        .filter(e -> e.getValue() < snap.asked()).map(Map.Entry::getKey)
        .filter(p -> !load.changedAt.containsKey(p) || load.changedAt.get(p) > snap.answered())
        .sorted().toList();
    if (candidates.isEmpty()) {
      ChaosLoad.pause();
      return;
    }
    String path = candidates.get(rnd.nextInt(candidates.size()));
    try {
      HttpResponse<byte[]> r = TestSupport.HTTP.send(HttpRequest.newBuilder(URI.create(base
              + "/api/v1/snapshots/" + snap.name() + "/files/" + path)).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 200) {
        if (!sha256(r.body()).equals(load.attempted.get(path).sha())) {
          load.errors.add("snapshot " + snap.name() + ": " + path + " read with wrong bytes");
        }
      } else if (r.statusCode() == 404 && !deleted.contains(snap.name())
          && !maybeDeleted.contains(snap.name())) {
        load.errors.add("snapshot " + snap.name() + ": " + path + " missing (404)");
      } else if (r.statusCode() != 404) {
        load.refuse("GET snapshot " + snap.name() + " " + path + " " + r.statusCode());
      }
    } catch (Exception e) {
      load.refuse("GET snapshot " + snap.name() + " " + path + " " + e);
    }
  }

  /** Checks every snapshot against the rules above; returns a line for the report. */
  String verify(String when, byte[] liveLog) {
    int files = 0;
    for (String name : deleted) {
      assertThat(http("GET", base + "/api/v1/snapshots/" + name + "/files?prefix="
          + ChaosLoad.DIR, null).statusCode()).as(when + ": deleted snapshot " + name)
          .isEqualTo(404);
    }
    for (Snap snap : live.values()) {
      Set<String> listed = list(snap.name());
      if (listed == null) {
        assertThat(snap.answered()).as(when + ": acknowledged snapshot " + snap.name()
            + " exists").isZero();
        continue;
      }
      files += listed.size();
      check(when, snap, listed, liveLog);
    }
    return String.format("%s: %d snapshots (%d files) hold what they must, %d deleted ones are "
        + "gone", when, live.size(), files, deleted.size());
  }

  private void check(String when, Snap snap, Set<String> listed, byte[] liveLog) {
    String in = when + ": snapshot " + snap.name() + ": ";
    Random rnd = new Random(snap.asked());
    for (String path : listed) {
      if (path.equals(ChaosLoad.LOG)) {
        continue;
      }
      assertThat(load.attempted).as(in + "listed " + path).containsKey(path);
      Long gone = load.goneAt.get(path);
      assertThat(gone == null || gone > snap.asked()).as(in + path + " was deleted or renamed "
          + "before the snapshot was asked for").isTrue();
      if (rnd.nextInt(20) == 0) { // a sample: reading every snapshot's every file takes long
        assertThat(sha256(http("GET", fileUrl(snap, path), null).body())).as(in + path)
            .isEqualTo(load.attempted.get(path).sha());
      }
    }
    if (snap.answered() > 0) {
      load.ackedAt.forEach((path, at) -> {
        Long changed = load.changedAt.get(path);
        if (at < snap.asked() && (changed == null || changed > snap.answered())) {
          assertThat(listed).as(in + "acknowledged " + path).contains(path);
        }
      });
    }
    HttpResponse<byte[]> log = http("GET", fileUrl(snap, ChaosLoad.LOG), null);
    byte[] bytes = log.statusCode() == 404 ? new byte[0] : log.body();
    assertThat(log.statusCode()).as(in + "log").isIn(200, 404);
    assertThat(Arrays.equals(bytes, 0, bytes.length, liveLog, 0, Math.min(bytes.length,
        liveLog.length)) && bytes.length <= liveLog.length)
        .as(in + "log (" + bytes.length + " bytes) is a prefix of the live log (" + liveLog.length
            + ")").isTrue();
    if (snap.answered() > 0) {
      for (ChaosLoad.Appended a : load.appended.values()) {
        if (a.ackedAt() < snap.asked()) {
          assertThat(a.offset() + a.length()).as(in + "record w" + a.writer() + " n" + a.n()
              + " acknowledged before").isLessThanOrEqualTo(bytes.length);
        }
      }
    }
  }

  private String fileUrl(Snap snap, String path) {
    return base + "/api/v1/snapshots/" + snap.name() + "/files/" + path;
  }

  // Every path in a snapshot, or null if there is no such snapshot.
  private Set<String> list(String name) {
    Set<String> paths = new HashSet<>();
    String after = "";
    while (true) {
      HttpResponse<byte[]> r = http("GET", base + "/api/v1/snapshots/" + name + "/files?prefix="
          + ChaosLoad.DIR + "&limit=1000&after=" + URLEncoder.encode(after,
          StandardCharsets.UTF_8), null);
      if (r.statusCode() == 404) {
        return null;
      }
      assertThat(r.statusCode()).as("listing snapshot " + name).isEqualTo(200);
      JsonObject page = new JsonObject(Buffer.buffer(r.body()));
      for (Object o : page.getJsonArray("files")) {
        paths.add(((JsonObject) o).getString("path"));
      }
      if (!page.getBoolean("truncated", false)) {
        return paths;
      }
      after = page.getString("next");
    }
  }
}
