package io.vgfs.bench;

import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One way of reaching a file system, as the workloads see it: vgfs over HTTP, vgfs through
 * {@code VgfsClient}, or HDFS through its {@code FileSystem}. Paths are relative
 * ({@code small/64KiB/f00001}); each target maps them to its own namespace. Every call is
 * asynchronous so that workloads can keep N operations in flight the same way on every target.
 */
interface FsTarget {

  /** {@code vgfs-client}, {@code vgfs-http} or {@code hdfs}. */
  String name();

  /** {@code vgfs} or {@code hdfs}. */
  String system();

  /** Creates or replaces the file with {@code len} bytes of {@code data} from {@code off}. */
  CompletableFuture<Void> write(String path, byte[] data, int off, int len);

  /** Reads the whole file; with {@code verify}, also the CRC32C of what it read. */
  CompletableFuture<ReadResult> read(String path, boolean verify);

  CompletableFuture<Void> stat(String path);

  /** Lists up to one page of {@code dir} after the entry named {@code after}; the entry count. */
  CompletableFuture<Integer> list(String dir, String after);

  CompletableFuture<Void> delete(String path);

  /** Removes every file under {@code dir} (blocking; not measured). */
  void removeAll(String dir);

  /**
   * Deletes every file of a listing, 16 at a time, asking for the first page again until it comes
   * back empty (blocking; for {@link #removeAll} over an HTTP listing of {@code {path}} entries).
   */
  static void deleteListed(Supplier<JsonArray> firstPage,
                           Function<String, CompletableFuture<Void>> delete) {
    for (JsonArray files = firstPage.get(); !files.isEmpty(); files = firstPage.get()) {
      List<CompletableFuture<Void>> deletes = new ArrayList<>();
      for (int i = 0; i < files.size(); i++) {
        deletes.add(delete.apply(files.getJsonObject(i).getString("path")));
        if (deletes.size() >= 16) {
          CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
          deletes.clear();
        }
      }
      CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
    }
  }

  /** Bytes read and, when asked, their CRC32C. */
  record ReadResult(long bytes, long crc32c) {
  }
}
