package io.vgfs.chunkserver;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vgfs.it.TestSupport;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.data.DataChannelPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A chunkserver's copy of a replica to another one, over a real socket. */
class ReplicaSenderTest {

  private final Vertx vertx = Vertx.vertx();
  private ChunkStore store;

  @AfterEach
  void close() throws IOException {
    TestSupport.await(vertx.close());
    if (store != null) {
      store.close();
    }
  }

  @Test
  @DisplayName("a target that takes the connection and then answers nothing (frozen) fails the copy after the stall time-out")
  void frozenTargetFailsTheCopy(@TempDir Path root) throws IOException {
    store = new ChunkStore(root);
    store.open();
    store.appends().prepare(3, 1, 0);
    store.appends().append(3, 1, 0, List.of(Buffer.buffer(TestSupport.randomBytes(200_000, 3))));
    // Accepts the connection and never reads or answers: like a chunkserver under SIGSTOP, whose
    // kernel still completes connections and buffers what is sent.
    NetServer frozen = TestSupport.await(vertx.createNetServer().connectHandler(s -> s.pause())
        .listen(0, "127.0.0.1"));
    ReplicaSender sender = new ReplicaSender(vertx, store, new DataChannelPool(vertx, 4, 30_000),
        new RateLimiter(0), 500);
    long t0 = System.nanoTime();
    Promise<Long> copied = Promise.promise();
    vertx.runOnContext(v -> sender.send(3, 1, new ServerAddress("cs-frozen", "127.0.0.1",
        frozen.actualPort())).onComplete(copied));
    Throwable t = TestSupport.failure(copied.future(), 10);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(t).hasMessageContaining("made no progress for 500 ms");
    assertThat(ms).as("failed after %d ms", ms).isBetween(400L, 5_000L);
  }
}
