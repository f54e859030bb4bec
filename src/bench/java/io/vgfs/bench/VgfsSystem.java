package io.vgfs.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.VgfsClient;
import io.vgfs.client.VgfsClientOptions;
import io.vgfs.it.ProcessCluster;
import io.vgfs.it.TestSupport;
import io.vgfs.launcher.Cluster;
import io.vgfs.launcher.Setting;
import io.vgfs.launcher.Settings;
import io.vgfs.protocol.Durability;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * vgfs as a user runs it: the shipped jar as separate processes (a master, three chunkservers and
 * one gateway per durability level, since a gateway's durability is its {@code --durability}
 * flag), plus this JVM joining the cluster as a Hazelcast lite member for {@link VgfsClient}s,
 * whose durability is a client option. {@link #close()} kills every process by PID.
 */
final class VgfsSystem implements AutoCloseable {

  private final BenchConfig config;
  private final ProcessCluster processes;
  private final ProcessCluster.Proc master;
  private final List<ProcessCluster.Proc> chunkservers = new ArrayList<>();
  private final Map<String, ProcessCluster.Proc> gateways = new java.util.LinkedHashMap<>();
  private Cluster.Node node;
  private final Map<String, List<VgfsClient>> clients = new java.util.HashMap<>();

  private VgfsSystem(BenchConfig config, Path dir) {
    this.config = config;
    this.processes = new ProcessCluster(dir, "--chunk-size", String.valueOf(config.chunkSize()),
        "--replication", "3");
    this.master = processes.master("master");
    for (int i = 1; i <= 3; i++) {
      chunkservers.add(processes.chunkserver("cs" + i));
    }
    for (String level : config.levels()) {
      gateways.put(level, processes.gateway("gateway-" + level, config.vgfsJvmFlags(),
          "--durability", level));
    }
  }

  /** Starts the processes and joins their cluster; everything is stopped again on failure. */
  static VgfsSystem start(BenchConfig config, Path dir) {
    VgfsSystem s = null;
    try {
      s = new VgfsSystem(config, dir);
      s.awaitUp();
      return s;
    } catch (RuntimeException e) {
      if (s != null) {
        s.close();
      }
      throw e;
    }
  }

  private void awaitUp() {
    master.awaitReady(120_000);
    chunkservers.forEach(p -> p.awaitReady(120_000));
    gateways.values().forEach(p -> p.awaitReady(120_000));
    for (ProcessCluster.Proc gw : gateways.values()) {
      String health = "http://127.0.0.1:" + ProcessCluster.httpPort(gw) + "/health";
      TestSupport.poll(60_000, () -> TestSupport.http("GET", health, null).statusCode() == 200,
          gw.name() + " healthy");
    }
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CLUSTER_NAME, processes.clusterName());
    flags.put(Setting.CLUSTER_PORT, String.valueOf(processes.clusterPort()));
    flags.put(Setting.JOIN, processes.join());
    node = TestSupport.await(Cluster.start(new Settings(flags, Map.of(), null), false), 120);
    BenchLog.info("vgfs up: master pid %d, chunkservers %s, gateways %s; this JVM joined as %s",
        master.pid(), chunkservers.stream().map(ProcessCluster.Proc::pid).toList(),
        gateways.values().stream().map(ProcessCluster.Proc::pid).toList(), node.nodeId());
  }

  /** The HTTP target through the gateway of {@code level}. */
  FsTarget http(String level) {
    return new VgfsHttpTarget(ProcessCluster.httpPort(gateways.get(level)), config.listLimit());
  }

  /** The client target at {@code level}: one client per concurrent operation. */
  FsTarget client(String level) {
    List<VgfsClient> list = clients.computeIfAbsent(level, l -> {
      List<VgfsClient> out = new ArrayList<>();
      VgfsClientOptions options = new VgfsClientOptions()
          .setDurability(Durability.parse(l)).setMaxIdleConnections(config.concurrency());
      for (int i = 0; i < config.concurrency(); i++) {
        // from a non-Vert.x thread, each client gets its own event-loop context
        out.add(VgfsClient.create(node.vertx(), options));
      }
      return out;
    });
    return new VgfsClientTarget(list, config.listLimit());
  }

  ProcessCluster.Proc gateway(String level) {
    return gateways.get(level);
  }

  ProcessCluster.Proc chunkserver(int i) {
    return chunkservers.get(i);
  }

  /** The flags every process got, the cluster as the master sees it, and the clients' options. */
  JsonObject describe() {
    JsonObject status = null;
    try {
      VgfsClient any = VgfsClient.create(node.vertx());
      status = TestSupport.await(any.clusterInfo(), 30);
      any.close();
    } catch (RuntimeException e) {
      status = new JsonObject().put("error", String.valueOf(e));
    }
    JsonObject gw = new JsonObject();
    gateways.forEach((level, p) -> gw.put(level, "--durability " + level));
    return new JsonObject()
        .put("processes", "master, 3 chunkservers, " + gateways.size()
            + " gateways (one per durability level), separate JVMs from target/vgfs.jar")
        .put("flags", new JsonArray(List.of("--chunk-size", String.valueOf(config.chunkSize()),
            "--replication", "3")))
        .put("jvmFlags", new JsonArray(config.vgfsJvmFlags()))
        .put("gateways", gw)
        .put("clientDurability", "VgfsClientOptions.setDurability(SYNC|BUFFERED) per level")
        .put("clients", config.concurrency() + " VgfsClient instances, one event-loop context each")
        .put("clusterInfo", status);
  }

  static String level(Durability d) {
    return d.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public void close() {
    clients.values().forEach(list -> list.forEach(c -> {
      try {
        c.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing anyway
      }
    }));
    if (node != null) {
      try {
        node.vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        BenchLog.info("closing the bench JVM's cluster node: %s", e);
      }
    }
    processes.close();
  }
}
