package io.vgfs.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.Test;

import java.io.File;

class VgfsVsHdfsBench {
  @Test
  void spike() throws Exception {
    Vertx vertx = Vertx.vertx();
    System.out.println(new JsonObject().put("a", 1).encode());
    Configuration conf = new Configuration();
    conf.setLong("dfs.blocksize", 64L << 20);
    File base = new File("target/bench/hdfs-spike");
    MiniDFSCluster c = new MiniDFSCluster.Builder(conf, base).numDataNodes(3).build();
    try {
      c.waitActive();
      FileSystem fs = c.getFileSystem();
      try (FSDataOutputStream out = fs.create(new Path("/x"), (short) 3)) {
        out.write(new byte[1 << 20]);
      }
      System.out.println("SPIKE hdfs ok " + fs.getFileStatus(new Path("/x")));
    } finally {
      c.shutdown();
      vertx.close();
    }
  }
}
