package io.vgfs.bench;

import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vgfs.client.ListResult;
import io.vgfs.client.VgfsClient;
import io.vgfs.protocol.FileInfo;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

/**
 * vgfs through {@link VgfsClient} from this JVM (a Hazelcast lite member of the vgfs cluster).
 * Operations go round-robin over several clients, each created on its own event-loop context, as
 * several verticles of one application would have them.
 */
final class VgfsClientTarget implements FsTarget {

  private final List<VgfsClient> clients;
  private final int listLimit;
  private final AtomicInteger next = new AtomicInteger();

  VgfsClientTarget(List<VgfsClient> clients, int listLimit) {
    this.clients = List.copyOf(clients);
    this.listLimit = listLimit;
  }

  @Override
  public String name() {
    return "vgfs-client";
  }

  @Override
  public String system() {
    return "vgfs";
  }

  private VgfsClient client() {
    return clients.get(Math.floorMod(next.getAndIncrement(), clients.size()));
  }

  private static <T> CompletableFuture<T> cf(Future<T> f) {
    return f.toCompletionStage().toCompletableFuture();
  }

  /** The bytes as a Vert.x buffer without copying them (as a writer streaming its own data). */
  @Override
  public CompletableFuture<Void> write(String path, byte[] data, int off, int len) {
    Buffer wrapped = BufferInternal.buffer(Unpooled.wrappedBuffer(data, off, len));
    return cf(client().write(path, wrapped).<Void>mapEmpty());
  }

  /** Reads in flight by path, with the stage each has reached: what a stalled batch reports. */
  private final java.util.Map<String, String> reading = new java.util.concurrent.ConcurrentHashMap<>();

  VgfsClientTarget reportStalls() {
    OpRunner.stallReport = () -> reading.entrySet().stream().limit(8)
        .forEach(e -> BenchLog.info("  vgfs-client read %s: %s", e.getKey(), e.getValue()));
    return this;
  }

  @Override
  public CompletableFuture<ReadResult> read(String path, boolean verify) {
    reading.put(path, "looking up");
    CompletableFuture<ReadResult> result = cf(client().read(path).compose(stream -> {
      reading.put(path, "stream open, " + stream.info().size() + " bytes, no data yet");
      Promise<ReadResult> done = Promise.promise();
      long[] total = {0};
      CRC32C crc = verify ? new CRC32C() : null;
      stream.exceptionHandler(done::tryFail);
      stream.handler(b -> {
        total[0] += b.length();
        reading.put(path, "received " + total[0] + " of " + stream.info().size() + " bytes");
        if (crc != null) {
          for (ByteBuffer nio : ((BufferInternal) b).getByteBuf().nioBuffers()) {
            crc.update(nio);
          }
        }
      });
      stream.endHandler(v -> done.tryComplete(new ReadResult(total[0],
          crc == null ? 0 : crc.getValue())));
      return done.future();
    }));
    return result.whenComplete((r, e) -> reading.remove(path));
  }

  @Override
  public CompletableFuture<Void> stat(String path) {
    return cf(client().stat(path).mapEmpty());
  }

  @Override
  public CompletableFuture<Integer> list(String dir, String after) {
    return cf(client().list(dir + "/", after == null ? null : dir + "/" + after, listLimit)
        .map(r -> r.files().size()));
  }

  @Override
  public CompletableFuture<Void> delete(String path) {
    return cf(client().delete(path));
  }

  /** Deletes, then waits until the trash is purged and the chunkservers deleted the replicas. */
  @Override
  public void removeAll(String dir) {
    deleteAll(dir);
    TrashWait.until(dir, () -> cf(client().trash(dir + "/")).join().isEmpty(),
        () -> cf(client().clusterStatus()).join().getInteger("pendingDeletions", 0) == 0);
  }

  private void deleteAll(String dir) {
    while (true) {
      ListResult page = cf(client().list(dir + "/", null, 1_000)).join();
      if (page.files().isEmpty()) {
        return;
      }
      List<CompletableFuture<Void>> deletes = new ArrayList<>();
      for (FileInfo f : page.files()) {
        deletes.add(delete(f.path()));
        if (deletes.size() >= clients.size()) {
          CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
          deletes.clear();
        }
      }
      CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
    }
  }
}
