package io.vgfs.master;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetaLogTest {

  private static final long TIMEOUT_S = 30;

  @TempDir
  Path dir;

  private Vertx vertx;
  private Context context;
  private final List<MetaLog> opened = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (MetaLog l : opened) {
      l.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
  }

  /** Runs {@code action} on the log's context and waits for the future it returns. */
  private <T> T onContext(Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        action.get().onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        });
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return done.get(TIMEOUT_S, TimeUnit.SECONDS);
  }

  private MetaLog open() throws IOException {
    MetaLog l = new MetaLog(vertx, dir);
    opened.add(l);
    return l;
  }

  /** A fresh MetaLog on the same directory (the previous one is closed first). */
  private MetaLog.Recovered reopen(MetaLog previous) throws IOException {
    previous.close();
    opened.remove(previous);
    return open().recover();
  }

  private static JsonObject rec(int i) {
    return new JsonObject().put("op", "put").put("n", i);
  }

  private void appendAll(MetaLog l, int from, int to) throws Exception {
    onContext(() -> {
      List<Future<Void>> fs = new ArrayList<>();
      for (int i = from; i < to; i++) {
        fs.add(l.append(rec(i)));
      }
      return Future.all(fs).mapEmpty();
    });
  }

  private List<Path> files(String prefix, String suffix) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(prefix)
              && p.getFileName().toString().endsWith(suffix))
          .sorted().toList();
    }
  }

  private Path newestLog() throws IOException {
    List<Path> logs = files("log-", ".log");
    assertThat(logs).isNotEmpty();
    // Skip the empty file the last recover() opened, if any: the newest one with records.
    for (int i = logs.size() - 1; i >= 0; i--) {
      if (Files.size(logs.get(i)) > 0) {
        return logs.get(i);
      }
    }
    throw new AssertionError("no log file with records in " + logs);
  }

  private static List<Integer> ns(List<JsonObject> records) {
    return records.stream().map(r -> r.getInteger("n")).toList();
  }

  private static List<Long> seqs(List<JsonObject> records) {
    return records.stream().map(r -> r.getLong("seq")).toList();
  }

  private static List<Integer> range(int from, int to) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(i);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  @DisplayName("an empty directory recovers to nothing and seq starts at 1")
  void emptyRecovery() throws Exception {
    MetaLog l = open();
    MetaLog.Recovered r = l.recover();
    assertThat(r.checkpointHeader()).isNull();
    assertThat(r.entries()).isEmpty();
    assertThat(r.records()).isEmpty();
    assertThat(r.lastSeq()).isZero();
    assertThat(l.nextSeq()).isEqualTo(1);
    assertThat(files("log-", ".log")).hasSize(1);
  }

  @Test
  @DisplayName("1000 concurrent appends all complete quickly and recover in order with seqs")
  void concurrentAppends() throws Exception {
    MetaLog l = open();
    l.recover();
    long start = System.nanoTime();
    List<Future<Void>> futures = new ArrayList<>();
    onContext(() -> {
      for (int i = 0; i < 1000; i++) {
        futures.add(l.append(rec(i)));
      }
      return Future.all(futures);
    });
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // One fsync per record would take seconds on most disks; group commit shares them: the
    // first record goes alone, the 999 queued behind its fsync go together.
    assertThat(ms).isLessThan(20_000);
    assertThat(l.groupCommits()).as("fsyncs for 1000 records appended at once").isBetween(1L, 10L);
    assertThat(futures).allSatisfy(f -> assertThat(f.succeeded()).isTrue());
    assertThat(l.nextSeq()).isEqualTo(1001);
    assertThat(l.recordsSinceCheckpoint()).isEqualTo(1000);

    MetaLog.Recovered r = reopen(l);
    assertThat(ns(r.records())).containsExactlyElementsOf(range(0, 1000));
    assertThat(seqs(r.records())).first().isEqualTo(1L);
    assertThat(seqs(r.records())).last().isEqualTo(1000L);
    assertThat(r.lastSeq()).isEqualTo(1000);
    assertThat(r.records().get(17).getString("op")).isEqualTo("put");
  }

  @Test
  @DisplayName("appends complete in the order they were made")
  void completionOrder() throws Exception {
    MetaLog l = open();
    l.recover();
    List<Integer> completed = new ArrayList<>();
    onContext(() -> {
      List<Future<Void>> fs = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        int n = i;
        fs.add(l.append(rec(i)).onSuccess(v -> completed.add(n)));
      }
      return Future.all(fs).mapEmpty();
    });
    // Handlers ran on the context thread; reading after the join above is safe.
    assertThat(completed).containsExactlyElementsOf(range(0, 300));
  }

  @Test
  @DisplayName("recovery continues the sequence across restarts")
  void multipleRestarts() throws Exception {
    MetaLog l1 = open();
    l1.recover();
    appendAll(l1, 0, 10);
    MetaLog.Recovered r2 = reopen(l1);
    assertThat(r2.lastSeq()).isEqualTo(10);
    MetaLog l2 = opened.get(opened.size() - 1);
    assertThat(l2.nextSeq()).isEqualTo(11);
    appendAll(l2, 10, 15);
    MetaLog.Recovered r3 = reopen(l2);
    assertThat(ns(r3.records())).containsExactlyElementsOf(range(0, 15));
    assertThat(seqs(r3.records())).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L,
        12L, 13L, 14L, 15L);
  }

  @Test
  @DisplayName("barrier completes only after every append made before it")
  void barrierAfterPending() throws Exception {
    MetaLog l = open();
    l.recover();
    // Case 1: appends queued behind one in flight, then a barrier.
    // Case 2: a single append in flight (queue empty), then a barrier.
    for (int n : new int[] {50, 1}) {
      List<Future<Void>> appends = new ArrayList<>();
      List<Boolean> doneAtBarrier = new ArrayList<>();
      onContext(() -> {
        for (int i = 0; i < n; i++) {
          appends.add(l.append(rec(i)));
        }
        return l.barrier().onSuccess(v -> appends.forEach(a -> doneAtBarrier.add(a.succeeded())));
      });
      assertThat(doneAtBarrier).hasSize(n).containsOnly(true);
    }
    // Case 3: nothing pending: completes at once.
    Future<Void> b = onContext(() -> Future.succeededFuture(l.barrier()));
    assertThat(b.succeeded()).isTrue();
  }

  @Test
  @DisplayName("a torn tail of garbage is cut off; every record before it survives")
  void tornTailGarbage() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 20);
    l.close();
    Path log = newestLog();
    long goodSize = Files.size(log);
    Files.write(log, new byte[] {0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
        StandardOpenOption.APPEND);

    MetaLog.Recovered r = reopen(l);
    assertThat(ns(r.records())).containsExactlyElementsOf(range(0, 20));
    assertThat(Files.size(log)).isEqualTo(goodSize);
    // The log goes on after the cut.
    MetaLog l2 = opened.get(opened.size() - 1);
    appendAll(l2, 20, 25);
    assertThat(ns(reopen(l2).records())).containsExactlyElementsOf(range(0, 25));
  }

  @Test
  @DisplayName("a half-written last record is cut off; the records before it survive")
  void tornTailTruncated() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 20);
    l.close();
    Path log = newestLog();
    long size = Files.size(log);
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
      ch.truncate(size - 5);
    }

    MetaLog.Recovered r = reopen(l);
    assertThat(ns(r.records())).containsExactlyElementsOf(range(0, 19));
    assertThat(r.lastSeq()).isEqualTo(19);
    assertThat(Files.size(log)).isLessThan(size - 5);
    // The lost record's seq is reused, and the sequence stays gap-free across files.
    MetaLog l2 = opened.get(opened.size() - 1);
    assertThat(l2.nextSeq()).isEqualTo(20);
    appendAll(l2, 100, 103);
    MetaLog.Recovered r2 = reopen(l2);
    assertThat(seqs(r2.records())).endsWith(19L, 20L, 21L, 22L);
    assertThat(ns(r2.records())).endsWith(18, 100, 101, 102);
  }

  @Test
  @DisplayName("a record with a corrupted byte ends the log there")
  void corruptRecord() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 10);
    l.close();
    Path log = newestLog();
    byte[] bytes = Files.readAllBytes(log);
    bytes[bytes.length - 3] ^= 0x20; // inside the JSON of the last record
    Files.write(log, bytes);
    MetaLog.Recovered r = reopen(l);
    assertThat(ns(r.records())).containsExactlyElementsOf(range(0, 9));
  }

  @Test
  @DisplayName("checkpoint + later appends: recovery gives header, entries and only later records")
  void checkpoint() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 5);
    List<String> items1 = List.of("a", "b");
    onContext(() -> l.checkpoint(new JsonObject().put("format", 1).put("epoch", 7L), items1,
        s -> new JsonObject().put("path", s)));
    assertThat(l.recordsSinceCheckpoint()).isZero();
    appendAll(l, 5, 8);
    List<String> items2 = List.of("a", "b", "c", "d");
    onContext(() -> l.checkpoint(new JsonObject().put("format", 1).put("epoch", 8L), items2,
        s -> new JsonObject().put("path", s)));
    appendAll(l, 8, 10);

    assertThat(files("checkpoint-", ".jsonl"))
        .extracting(p -> p.getFileName().toString())
        .as("the older checkpoint is pruned")
        .containsExactly(String.format("checkpoint-%020d.jsonl", 8));
    assertThat(files("log-", ".log")).extracting(p -> p.getFileName().toString())
        .as("the log before the first checkpoint's rollover is pruned")
        .doesNotContain(String.format("log-%020d.log", 1))
        .contains(String.format("log-%020d.log", 9));

    MetaLog.Recovered r = reopen(l);
    assertThat(r.checkpointHeader().getLong("seq")).isEqualTo(8L);
    assertThat(r.checkpointHeader().getLong("epoch")).isEqualTo(8L);
    assertThat(r.entries()).extracting(e -> e.getString("path"))
        .containsExactly("a", "b", "c", "d");
    assertThat(ns(r.records())).containsExactly(8, 9);
    assertThat(seqs(r.records())).containsExactly(9L, 10L);
    assertThat(r.lastSeq()).isEqualTo(10);
  }

  @Test
  @DisplayName("a checkpoint with no appends after it recovers with no records")
  void checkpointAtEnd() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 3);
    onContext(() -> l.checkpoint(new JsonObject(), List.of(1, 2, 3),
        i -> new JsonObject().put("i", i)));
    MetaLog.Recovered r = reopen(l);
    assertThat(r.checkpointHeader().getLong("seq")).isEqualTo(3L);
    assertThat(r.entries()).extracting(e -> e.getInteger("i")).containsExactly(1, 2, 3);
    assertThat(r.records()).isEmpty();
    assertThat(r.lastSeq()).isEqualTo(3);
    MetaLog l2 = opened.get(opened.size() - 1);
    assertThat(l2.nextSeq()).isEqualTo(4);
  }

  @Test
  @DisplayName("an incomplete checkpoint (no end line) is ignored in favour of the log")
  void incompleteCheckpoint() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 6);
    l.close();
    Path fake = dir.resolve(String.format("checkpoint-%020d.jsonl", 6));
    Files.writeString(fake, "{\"seq\":6,\"epoch\":99}\n{\"path\":\"x\"}\n");
    MetaLog.Recovered r = reopen(l);
    assertThat(r.checkpointHeader()).isNull();
    assertThat(r.entries()).isEmpty();
    assertThat(ns(r.records())).containsExactlyElementsOf(range(0, 6));
  }

  @Test
  @DisplayName("an incomplete newer checkpoint falls back to the older complete one")
  void incompleteNewerCheckpoint() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 3);
    onContext(() -> l.checkpoint(new JsonObject().put("epoch", 1L), List.of("old"),
        s -> new JsonObject().put("path", s)));
    appendAll(l, 3, 6);
    l.close();
    // Cut short, and with a wrong entry count.
    Files.writeString(dir.resolve(String.format("checkpoint-%020d.jsonl", 6)),
        "{\"seq\":6}\n{\"path\":\"new\"}\n{\"pa");
    Files.writeString(dir.resolve(String.format("checkpoint-%020d.jsonl", 5)),
        "{\"seq\":5}\n{\"path\":\"new\"}\n{\"end\":true,\"entries\":2}\n");
    MetaLog.Recovered r = reopen(l);
    assertThat(r.checkpointHeader().getLong("seq")).isEqualTo(3L);
    assertThat(r.entries()).extracting(e -> e.getString("path")).containsExactly("old");
    assertThat(ns(r.records())).containsExactly(3, 4, 5);
  }

  @Test
  @DisplayName("leftover .tmp files of an interrupted checkpoint are removed at recovery")
  void tmpRemoved() throws Exception {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(String.format("checkpoint-%020d.jsonl.tmp", 4));
    Files.writeString(tmp, "{\"seq\":4}\n");
    MetaLog.Recovered r = open().recover();
    assertThat(r.checkpointHeader()).isNull();
    assertThat(tmp).doesNotExist();
  }

  @Test
  @DisplayName("after a write failure every append and barrier fails")
  void failureIsSticky() throws Exception {
    MetaLog l = open();
    l.recover();
    appendAll(l, 0, 2);
    l.close(); // the next write hits a closed channel
    assertThatThrownBy(() -> onContext(() -> l.append(rec(2))))
        .isInstanceOf(ExecutionException.class);
    assertThatThrownBy(() -> onContext(() -> l.append(rec(3))))
        .isInstanceOf(ExecutionException.class);
    assertThatThrownBy(() -> onContext(l::barrier)).isInstanceOf(ExecutionException.class);
  }
}
