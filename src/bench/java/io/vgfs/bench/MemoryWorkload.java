package io.vgfs.bench;

import io.vertx.core.json.JsonObject;
import io.vgfs.it.ProcessCluster;

import java.io.IOException;

/**
 * Workload 4 (vgfs only: HDFS's DataNodes share this JVM, so their memory cannot be told apart):
 * peak RSS and heap in use of the gateway and of one chunkserver while {@code memoryClients}
 * HTTP clients each upload, then download, {@code memoryStreamSize} bytes at the same time.
 */
final class MemoryWorkload {

  private final BenchConfig config;
  private final Results results;
  private final byte[] data;

  MemoryWorkload(BenchConfig config, Results results, byte[] data) {
    this.config = config;
    this.results = results;
    this.data = data;
  }

  void run(VgfsSystem vgfs, String level) throws IOException {
    FsTarget http = vgfs.http(level);
    ProcessCluster.Proc gateway = vgfs.gateway(level);
    ProcessCluster.Proc chunkserver = vgfs.chunkserver(0);
    int size = (int) config.memoryStreamSize();
    int clients = config.memoryClients();
    for (int run = 0; run < config.reps(); run++) {
      System.gc();
      OpRunner.Batch up;
      OpRunner.Batch down;
      ProcessMemory gw = new ProcessMemory(gateway.pid());
      ProcessMemory cs = new ProcessMemory(chunkserver.pid());
      try {
        String dir = "memory/" + level + "-" + run;
        up = OpRunner.run(clients, clients, i -> http.write(dir + "/s" + i, data, 0, size));
        down = OpRunner.run(clients, clients, i -> http.read(dir + "/s" + i, false)
            .thenAccept(r -> {
              if (r.bytes() != size) {
                throw new IllegalStateException("read " + r.bytes() + " of " + size);
              }
            }));
        Thread.sleep(500); // one more jstat sample after the last byte
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        gw.close();
        cs.close();
      }
      http.removeAll("memory/" + level + "-" + run);
      long total = (long) size * clients;
      JsonObject detail = new JsonObject().put("clients", clients).put("bytesEach", size)
          .put("uploadMBps", Stats.round(Stats.mbps(total, up.wallNanos())))
          .put("downloadMBps", Stats.round(Stats.mbps(total, down.wallNanos())))
          .put("errors", up.errors() + down.errors())
          .put("rssPeakFrom", gw.peakFromKernel() ? "VmHWM after clear_refs" : "VmRSS every 100 ms")
          .put("gatewayHeapCommittedMiB", Stats.round(gw.peakHeapCommittedMiB()))
          .put("chunkserverHeapCommittedMiB", Stats.round(cs.peakHeapCommittedMiB()));
      if (up.firstError() != null || down.firstError() != null) {
        detail.put("firstError", up.firstError() != null ? up.firstError() : down.firstError());
      }
      BenchLog.info("memory %s run %d: %d x %d MiB up %.0f MB/s, down %.0f MB/s; gateway RSS "
              + "%.0f MiB heap %.0f MiB; chunkserver RSS %.0f MiB heap %.0f MiB%s%s", level,
          run, clients, size >> 20, detail.getDouble("uploadMBps"),
          detail.getDouble("downloadMBps"), gw.peakRssMiB(), gw.peakHeapUsedMiB(),
          cs.peakRssMiB(), cs.peakHeapUsedMiB(), up.errorNote(), down.errorNote());
      results.record("memory-gateway-rss", level, "vgfs-http", "MiB", gw.peakRssMiB(), detail);
      results.record("memory-gateway-heap", level, "vgfs-http", "MiB", gw.peakHeapUsedMiB(), null);
      results.record("memory-chunkserver-rss", level, "vgfs-http", "MiB", cs.peakRssMiB(), null);
      results.record("memory-chunkserver-heap", level, "vgfs-http", "MiB", cs.peakHeapUsedMiB(),
          null);
    }
  }
}
