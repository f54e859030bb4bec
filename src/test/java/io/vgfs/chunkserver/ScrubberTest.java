package io.vgfs.chunkserver;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** The scrubber's verdict on one replica, also while the replica changes under it. */
class ScrubberTest {

  private ChunkStore store;

  @AfterEach
  void close() throws IOException {
    if (store != null) {
      store.close();
    }
  }

  @Test
  @DisplayName("a replica being appended to is never reported corrupt; a flipped byte is")
  void appendsAreNotCorruption(@TempDir Path root) throws Exception {
    store = new ChunkStore(root);
    store.open();
    store.appends().prepare(7, 1, 0);
    Scrubber scrubber = new Scrubber(null, store, 0, 0);
    AtomicBoolean done = new AtomicBoolean();
    List<String> verdicts = Collections.synchronizedList(new ArrayList<>());
    Thread appender = new Thread(() -> {
      Random rnd = new Random(1);
      try {
        long length = 0;
        for (int i = 0; i < 300; i++) {
          byte[] rec = new byte[1 + rnd.nextInt(5_000)];
          rnd.nextBytes(rec);
          store.appends().append(7, 1, length, List.of(Buffer.buffer(rec)));
          length += rec.length;
          if (i % 50 == 49) { // a new lease cuts nothing here, but rewrites the checksums
            store.appends().prepare(7, 1, length);
          }
        }
      } catch (IOException e) {
        verdicts.add("append failed: " + e);
      } finally {
        done.set(true);
      }
    });
    appender.start();
    int inspections = 0;
    while (!done.get()) {
      String v = scrubber.inspect(7);
      if (v != null) {
        verdicts.add(v);
      }
      inspections++;
    }
    appender.join();
    assertThat(verdicts).as("verdicts over %d inspections during appends", inspections).isEmpty();
    assertThat(scrubber.inspect(7)).isNull();

    try (RandomAccessFile raf = new RandomAccessFile(store.dataPath(7).toFile(), "rw")) {
      raf.seek(70_000);
      int b = raf.read();
      raf.seek(70_000);
      raf.write(b ^ 1);
    }
    assertThat(scrubber.inspect(7)).contains("fails its checksum");
  }
}
