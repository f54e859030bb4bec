package io.vgfs.bench;

import io.vertx.core.json.JsonObject;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.util.VersionInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * HDFS as a {@link MiniDFSCluster} in this JVM: a NameNode and three DataNodes with real
 * storage directories under {@code target/bench}, replication 3, the vgfs chunk size as block
 * size. {@code syncOnClose} is {@code dfs.datanode.synconclose}: vgfs {@code sync} is compared
 * with it on, vgfs {@code buffered} with HDFS as it ships (off).
 */
final class HdfsSystem implements AutoCloseable {

  /** Settings reported with the results. */
  private static final String[] REPORTED = {"dfs.blocksize", "dfs.replication",
      "dfs.datanode.synconclose", "dfs.datanode.sync.behind.writes", "dfs.bytes-per-checksum",
      "dfs.checksum.type", "dfs.client-write-packet-size", "dfs.ls.limit",
      "dfs.client.read.shortcircuit", "dfs.datanode.fsdataset.factory"};

  private final MiniDFSCluster cluster;
  private final Configuration conf;
  private final HdfsTarget target;

  private HdfsSystem(MiniDFSCluster cluster, Configuration conf, HdfsTarget target) {
    this.cluster = cluster;
    this.conf = conf;
    this.target = target;
  }

  static HdfsSystem start(BenchConfig config, Path dir, boolean syncOnClose) throws IOException {
    deleteTree(dir);
    Configuration conf = new HdfsConfiguration();
    conf.setLong("dfs.blocksize", config.chunkSize());
    conf.setInt("dfs.replication", 3);
    conf.setBoolean("dfs.datanode.synconclose", syncOnClose);
    conf.setInt("dfs.ls.limit", config.listLimit());
    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, dir.toFile()).numDataNodes(3)
        .build();
    try {
      cluster.waitActive();
      HdfsTarget target = new HdfsTarget(cluster.getFileSystem(), 3, config.chunkSize(),
          Math.max(config.concurrency(), config.memoryClients()))
          .replicasDeleted(() -> replicasDeleted(cluster));
      return new HdfsSystem(cluster, conf, target);
    } catch (IOException | RuntimeException e) {
      cluster.shutdown();
      throw e;
    }
  }

  /**
   * Whether every deleted block's replicas are gone: nothing queued at the NameNode for deletion,
   * nothing pending in a DataNode's asynchronous deleter, and the DataNodes hold exactly the
   * replicas of the blocks the NameNode knows (HDFS 3.4 also drops a deleted file's blocks from
   * its block map in the background).
   */
  static boolean replicasDeleted(MiniDFSCluster cluster) {
    org.apache.hadoop.hdfs.server.namenode.FSNamesystem ns = cluster.getNamesystem();
    if (ns.getPendingDeletionBlocks() > 0) {
      return false;
    }
    long replicas = 0;
    for (org.apache.hadoop.hdfs.server.datanode.DataNode dn : cluster.getDataNodes()) {
      var dataset = dn.getFSDataset();
      if (pendingAsyncDeletions(dataset) > 0) {
        return false;
      }
      replicas += dataset.getFinalizedBlocks(ns.getBlockPoolId()).size();
    }
    return replicas == 3L * ns.getBlocksTotal();
  }

  // FsDatasetImpl.getPendingAsyncDeletions(): public, on a class that is not (0 if absent).
  private static long pendingAsyncDeletions(Object dataset) {
    try {
      java.lang.reflect.Method m = dataset.getClass().getMethod("getPendingAsyncDeletions");
      m.setAccessible(true);
      return ((Number) m.invoke(dataset)).longValue();
    } catch (ReflectiveOperationException e) {
      return 0; // the block counts still tell when the replicas are gone
    }
  }

  FsTarget target() {
    return target;
  }

  JsonObject describe() {
    JsonObject settings = new JsonObject();
    for (String key : REPORTED) {
      settings.put(key, conf.get(key, "(default)"));
    }
    return new JsonObject().put("version", VersionInfo.getVersion())
        .put("cluster", "MiniDFSCluster in the bench JVM: 1 NameNode, 3 DataNodes, "
            + "2 storage directories each, client = DistributedFileSystem in the same JVM")
        .put("settings", settings);
  }

  @Override
  public void close() {
    target.close();
    cluster.shutdown(true);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
