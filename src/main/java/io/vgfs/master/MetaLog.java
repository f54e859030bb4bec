package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Crc32c;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The master's durable operation log, with group commit and checkpoints.
 *
 * <pre>
 * meta/log-&lt;first seq, 20 digits&gt;.log   records: u32 length | u32 CRC32C | JSON payload
 * meta/checkpoint-&lt;seq, 20 digits&gt;.jsonl  header line {"seq", ...}, one line per entry, then
 *                                         {"end": true, "entries": n}
 * </pre>
 * Every record carries {@code "seq"}, a number that grows by one per record. {@link #append}
 * completes only once the record is on disk; records appended while a write is in progress are
 * written and fsynced together by the next one (group commit), so many concurrent mutations share
 * an fsync. A checkpoint holds the whole state as of a seq; recovery loads the newest complete
 * checkpoint and replays the records after it, stopping at a torn tail (which a crash mid-write
 * leaves) and cutting it off.
 *
 * <p>{@link #append}, {@link #barrier} and {@link #checkpoint} are called on the owner's event
 * loop; disk work runs on a worker, one write at a time so records stay in order.
 */
public final class MetaLog {

  private static final Logger log = LoggerFactory.getLogger(MetaLog.class);
  private static final int MAX_RECORD = 64 * 1024 * 1024;

  /** What recovery found: the checkpoint (or null), its entries, and the records after it. */
  public record Recovered(JsonObject checkpointHeader, List<JsonObject> entries,
                          List<JsonObject> records, long lastSeq) {
  }

  private record Pending(long seq, byte[] bytes, Promise<Void> promise) {
  }

  private final Vertx vertx;
  private final Path dir;
  private FileChannel current;
  private long nextSeq = 1;
  private long durableSeq;
  private List<Pending> queue = new ArrayList<>();
  private long rotateAt = -1; // start a new log file at the first batch from this seq on
  private boolean writing;
  private Throwable failure;
  private long recordsSinceCheckpoint;

  public MetaLog(Vertx vertx, Path dir) {
    this.vertx = vertx;
    this.dir = dir;
  }

  /** Reads the durable state and opens a fresh log file for new records (blocking). */
  public Recovered recover() throws IOException {
    Files.createDirectories(dir);
    TreeMap<Long, Path> checkpoints = new TreeMap<>();
    TreeMap<Long, Path> logs = new TreeMap<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        String n = p.getFileName().toString();
        if (n.startsWith("checkpoint-") && n.endsWith(".jsonl")) {
          checkpoints.put(Long.parseLong(n.substring(11, n.length() - 6)), p);
        } else if (n.startsWith("log-") && n.endsWith(".log")) {
          logs.put(Long.parseLong(n.substring(4, n.length() - 4)), p);
        } else if (n.endsWith(".tmp")) {
          Files.delete(p);
        }
      }
    }
    JsonObject header = null;
    List<JsonObject> entries = List.of();
    for (Long seq : checkpoints.descendingKeySet()) {
      List<JsonObject> loaded = new ArrayList<>();
      JsonObject h = readCheckpoint(checkpoints.get(seq), loaded);
      if (h != null) {
        header = h;
        entries = loaded;
        break;
      }
      log.warn("ignoring incomplete checkpoint {}", checkpoints.get(seq));
    }
    long base = header == null ? 0 : header.getLong("seq");
    long last = base;
    List<JsonObject> records = new ArrayList<>();
    for (Path p : logs.values()) {
      last = readLog(p, base, last, records);
    }
    nextSeq = last + 1;
    durableSeq = last;
    current = openLog(nextSeq);
    log.info("metadata recovered from {}: checkpoint at seq {} with {} entries, {} records after it",
        dir, base, entries.size(), records.size());
    return new Recovered(header, entries, records, last);
  }

  /** The seq the next appended record gets. */
  public long nextSeq() {
    return nextSeq;
  }

  /** Records appended since the last checkpoint was started. */
  public long recordsSinceCheckpoint() {
    return recordsSinceCheckpoint;
  }

  /**
   * Appends a record (a {@code "seq"} field is added to it); completes once it is durable. After a
   * disk failure every append fails: the owner must stop acting on the log.
   */
  public Future<Void> append(JsonObject record) {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    long seq = nextSeq++;
    byte[] payload = record.put("seq", seq).toBuffer().getBytes();
    Promise<Void> p = Promise.promise();
    queue.add(new Pending(seq, payload, p));
    recordsSinceCheckpoint++;
    writeQueued();
    return p.future();
  }

  /**
   * Appends a record that already carries its seq, as a standby does with the records the active
   * master ships: the seq must be the next one, so the standby's log is the active's log.
   */
  public Future<Void> appendAt(JsonObject record) {
    long seq = record.getLong("seq", -1L);
    if (seq != nextSeq) {
      return Future.failedFuture(new IllegalStateException("record seq " + seq
          + " does not follow " + (nextSeq - 1)));
    }
    record.remove("seq");
    return append(record);
  }

  /** The seq of the last record appended (durable or not). */
  public long lastSeq() {
    return nextSeq - 1;
  }

  /**
   * Replaces the whole log with a checkpoint of a state taken from elsewhere (a standby catching
   * up from the active master): writes it as of {@code seq}, deletes every other checkpoint and
   * every log file, and continues at {@code seq + 1}. Blocking; no append may be in progress.
   */
  public <T> void install(JsonObject header, List<T> items, Function<T, JsonObject> encode, long seq)
      throws IOException {
    if (writing || !queue.isEmpty()) {
      throw new IllegalStateException("install while records are being written");
    }
    header.put("seq", seq);
    Path done = writeCheckpointFile(header, items, encode, seq);
    if (current != null) {
      current.close();
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        String n = p.getFileName().toString();
        if (!p.equals(done) && (n.startsWith("log-") || n.startsWith("checkpoint-"))) {
          Files.delete(p);
        }
      }
    }
    nextSeq = seq + 1;
    durableSeq = seq;
    recordsSinceCheckpoint = 0;
    rotateAt = -1;
    current = openLog(nextSeq);
  }

  /** Completes when every record appended so far is durable (a read barrier). */
  public Future<Void> barrier() {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    if (durableSeq >= nextSeq - 1) {
      return Future.succeededFuture();
    }
    if (!queue.isEmpty()) {
      return queue.get(queue.size() - 1).promise().future();
    }
    // Everything is in the write in flight; a new empty group completes right after it.
    Promise<Void> p = Promise.promise();
    queue.add(new Pending(-1, null, p));
    return p.future();
  }

  /**
   * Writes a checkpoint of the state as of the last appended record: {@code header} plus one
   * line per item, encoded on a worker (the items must not change: pass immutable values). The
   * log rolls over to a new file at the same point, and files made obsolete by the checkpoint are
   * deleted once it is durable.
   */
  public <T> Future<Void> checkpoint(JsonObject header, List<T> items,
                                     Function<T, JsonObject> encode) {
    long seq = nextSeq - 1;
    rotateAt = nextSeq;
    recordsSinceCheckpoint = 0;
    header.put("seq", seq);
    return vertx.<Void>executeBlocking(() -> {
      writeCheckpointFile(header, items, encode, seq);
      pruneBefore(seq);
      return null;
    }, false).onSuccess(v -> log.info("checkpoint at seq {} ({} entries)", seq, items.size()))
        .onFailure(t -> log.error("checkpoint at seq {} failed", seq, t));
  }

  private <T> Path writeCheckpointFile(JsonObject header, List<T> items,
                                       Function<T, JsonObject> encode, long seq) throws IOException {
    Path tmp = dir.resolve(String.format("checkpoint-%020d.jsonl.tmp", seq));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
         BufferedWriter w = new BufferedWriter(new OutputStreamWriter(
             Channels.newOutputStream(ch), StandardCharsets.UTF_8), 1 << 16)) {
      w.write(header.encode());
      w.write('\n');
      for (T item : items) {
        w.write(encode.apply(item).encode());
        w.write('\n');
      }
      w.write(new JsonObject().put("end", true).put("entries", items.size()).encode());
      w.write('\n');
      w.flush();
      ch.force(true);
    }
    Path done = dir.resolve(String.format("checkpoint-%020d.jsonl", seq));
    Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDir();
    return done;
  }

  /** Closes the current log file (blocking). */
  public void close() throws IOException {
    if (current != null) {
      current.close();
    }
  }

  private void writeQueued() {
    if (writing || queue.isEmpty()) {
      return;
    }
    writing = true;
    List<Pending> batch = queue;
    queue = new ArrayList<>();
    long first = batch.stream().filter(p -> p.bytes() != null).mapToLong(Pending::seq)
        .findFirst().orElse(-1);
    boolean rotate = rotateAt > 0 && first >= rotateAt;
    if (rotate) {
      rotateAt = -1;
    }
    vertx.executeBlocking(() -> {
      writeBatch(batch, rotate);
      return null;
    }, false).onComplete(ar -> {
      writing = false;
      if (ar.failed()) {
        failure = ar.cause();
        log.error("metadata log write failed; no further mutations will be accepted", ar.cause());
        batch.forEach(p -> p.promise().tryFail(ar.cause()));
        queue.forEach(p -> p.promise().tryFail(ar.cause()));
        queue.clear();
        return;
      }
      for (Pending p : batch) {
        if (p.seq() > durableSeq) {
          durableSeq = p.seq();
        }
      }
      batch.forEach(p -> p.promise().tryComplete());
      writeQueued();
    });
  }

  // Worker thread, one batch at a time.
  private void writeBatch(List<Pending> batch, boolean rotate) throws IOException {
    int size = 0;
    for (Pending p : batch) {
      if (p.bytes() != null) {
        size += 8 + p.bytes().length;
      }
    }
    if (size == 0) {
      return;
    }
    if (rotate) {
      long first = batch.stream().filter(p -> p.bytes() != null).findFirst().get().seq();
      current.force(false);
      current.close();
      current = openLog(first);
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    for (Pending p : batch) {
      if (p.bytes() != null) {
        buf.putInt(p.bytes().length).putInt(Crc32c.of(p.bytes(), 0, p.bytes().length))
            .put(p.bytes());
      }
    }
    buf.flip();
    while (buf.hasRemaining()) {
      current.write(buf);
    }
    current.force(false);
    groupCommits.incrementAndGet();
  }

  private final java.util.concurrent.atomic.AtomicLong groupCommits =
      new java.util.concurrent.atomic.AtomicLong();

  /** Log writes made durable so far (each one fsync, holding every record queued meanwhile). */
  public long groupCommits() {
    return groupCommits.get();
  }

  private FileChannel openLog(long firstSeq) throws IOException {
    Path p = dir.resolve(String.format("log-%020d.log", firstSeq));
    FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    fsyncDir();
    return ch;
  }

  private long readLog(Path p, long base, long last, List<JsonObject> out) throws IOException {
    byte[] all = Files.readAllBytes(p);
    ByteBuffer b = ByteBuffer.wrap(all);
    int good = 0;
    while (b.remaining() >= 8) {
      int len = b.getInt();
      int crc = b.getInt();
      if (len < 0 || len > MAX_RECORD || len > b.remaining()
          || Crc32c.of(all, b.position(), len) != crc) {
        break;
      }
      JsonObject rec = new JsonObject(new String(all, b.position(), len, StandardCharsets.UTF_8));
      b.position(b.position() + len);
      good = b.position();
      long seq = rec.getLong("seq");
      if (seq > last) {
        if (seq != last + 1) {
          throw new IOException("metadata log " + p + " skips from seq " + last + " to " + seq);
        }
        out.add(rec);
        last = seq;
      } else if (seq > base) {
        throw new IOException("metadata log " + p + " repeats seq " + seq);
      }
    }
    if (good < all.length) {
      log.warn("cutting off a torn tail of {} bytes from {}", all.length - good, p);
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
        ch.truncate(good);
        ch.force(true);
      }
    }
    return last;
  }

  private static JsonObject readCheckpoint(Path p, List<JsonObject> entries) throws IOException {
    try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
      String first = r.readLine();
      if (first == null) {
        return null;
      }
      JsonObject header = new JsonObject(first);
      String line;
      while ((line = r.readLine()) != null) {
        JsonObject json = new JsonObject(line);
        if (json.getBoolean("end", false)) {
          return json.getInteger("entries") == entries.size() ? header : null;
        }
        entries.add(json);
      }
      return null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private void pruneBefore(long seq) throws IOException {
    TreeMap<Long, Path> logs = new TreeMap<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        String n = p.getFileName().toString();
        if (n.startsWith("checkpoint-") && n.endsWith(".jsonl")
            && Long.parseLong(n.substring(11, n.length() - 6)) < seq) {
          Files.delete(p);
        } else if (n.startsWith("log-") && n.endsWith(".log")) {
          logs.put(Long.parseLong(n.substring(4, n.length() - 4)), p);
        }
      }
    }
    // A log file is obsolete when the next file starts at or before seq + 1.
    List<Long> starts = new ArrayList<>(logs.keySet());
    for (int i = 0; i + 1 < starts.size(); i++) {
      if (starts.get(i + 1) <= seq + 1) {
        Files.delete(logs.get(starts.get(i)));
      }
    }
  }

  private void fsyncDir() throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
