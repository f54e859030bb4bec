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
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * vgfs as a user runs it: the shipped jar as separate processes (a master, three chunkservers and
 * one gateway per durability level, since a gateway's durability is its {@code --durability}
 * flag), plus this JVM joining the cluster as a Hazelcast lite member for {@link VgfsClient}s,
 * whose durability is a client option. {@link #close()} kills every process by PID.
 */
final class VgfsSystem implements AutoCloseable {

  /**
   * Every process's flags besides its role's: replication 3, 64 MiB chunks (the chunk size is a
   * knob), and deleted files purged at once rather than kept restorable for 24 h, as HDFS's
   * {@code FileSystem.delete} does; otherwise a full run leaves tens of GB in the trash.
   */
  private static final List<String> BASE_FLAGS = List.of("--replication", "3",
      "--trash-retention", "0");

  private final BenchConfig config;
  private final ProcessCluster processes;
  private ProcessCluster.Proc master;
  private final List<ProcessCluster.Proc> chunkservers = new ArrayList<>();
  private final Map<String, ProcessCluster.Proc> gateways = new java.util.LinkedHashMap<>();
  private Cluster.Node node;
  private final Thread hook;
  private final Map<String, List<VgfsClient>> clients = new java.util.HashMap<>();
  private final Map<String, FsTarget> httpTargets = new java.util.HashMap<>();
  /** A plain (not clustered) Vert.x for the HTTP targets' clients. */
  private io.vertx.core.Vertx httpVertx;

  private VgfsSystem(BenchConfig config, ProcessCluster processes) {
    this.config = config;
    this.processes = processes;
    this.hook = new Thread(processes::close, "bench-kill-vgfs");
    // a bench JVM that is interrupted (Ctrl-C) still kills its processes by PID
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts the processes and joins their cluster; everything is stopped again on failure. */
  static VgfsSystem start(BenchConfig config, Path dir) {
    List<String> flags = new ArrayList<>(BASE_FLAGS);
    flags.addAll(List.of("--chunk-size", String.valueOf(config.chunkSize())));
    flags.addAll(config.vgfsFlags());
    VgfsSystem s = new VgfsSystem(config, new ProcessCluster(dir, flags.toArray(String[]::new)));
    try {
      s.launch();
      s.awaitUp();
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /**
   * One process at a time, each once the previous one is ready: a lite member that finds no data
   * member exits, and members joining at the same moment sometimes fail with "Vert.x node id not
   * defined in Hazelcast member attributes" (seen in the smoke runs).
   */
  private void launch() {
    master = processes.master("master", config.masterJvmFlags());
    master.awaitReady(120_000);
    for (int i = 1; i <= 3; i++) {
      ProcessCluster.Proc cs = processes.chunkserver("cs" + i, config.chunkserverJvmFlags());
      chunkservers.add(cs);
      cs.awaitReady(120_000);
    }
    for (String level : config.levels()) {
      Map<String, String> env = new java.util.HashMap<>();
      for (String kv : config.gatewayEnv()) {
        String[] p = kv.split("=", 2);
        env.put(p[0], p.length > 1 ? p[1] : "");
      }
      ProcessCluster.Proc gw = processes.start("gateway-" + level, "gateway",
          config.gatewayJvmFlags(), env, "--http-port", "0", "--durability", level);
      gateways.put(level, gw);
      gw.awaitReady(120_000);
    }
  }

  private void awaitUp() {
    for (ProcessCluster.Proc gw : gateways.values()) {
      String health = "http://127.0.0.1:" + ProcessCluster.httpPort(gw) + "/health";
      TestSupport.poll(60_000, () -> TestSupport.http("GET", health, null).statusCode() == 200,
          gw.name() + " healthy");
    }
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CLUSTER_NAME, processes.clusterName());
    flags.put(Setting.CLUSTER_PORT, String.valueOf(processes.clusterPort()));
    flags.put(Setting.JOIN, processes.join());
    // The same transport as the processes (which inherit this JVM's VGFS_* environment).
    String nativeTransport = System.getenv(Setting.NATIVE_TRANSPORT.env());
    if (nativeTransport != null) {
      flags.put(Setting.NATIVE_TRANSPORT, nativeTransport);
    }
    node = TestSupport.await(Cluster.start(new Settings(flags, Map.of(), null), false), 120);
    BenchLog.info("vgfs up: master pid %d, chunkservers %s, gateways %s; this JVM joined as %s",
        master.pid(), chunkservers.stream().map(ProcessCluster.Proc::pid).toList(),
        gateways.values().stream().map(ProcessCluster.Proc::pid).toList(), node.nodeId());
  }

  /** The HTTP target through the gateway of {@code level}. */
  FsTarget http(String level) {
    return httpTargets.computeIfAbsent(level, l -> {
      int port = ProcessCluster.httpPort(gateways.get(l));
      if (config.httpClient().equals("jdk")) {
        return new VgfsHttpTarget(port, config.listLimit());
      }
      if (httpVertx == null) {
        httpVertx = io.vertx.core.Vertx.vertx();
      }
      return new VertxHttpTarget(httpVertx, port, config.listLimit(),
          Math.max(config.concurrency(), config.memoryClients()) * 2);
    });
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
    return new VgfsClientTarget(list, config.listLimit()).reportStalls();
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
        .put("commit", MachineInfo.gitCommit())
        .put("processes", "master, 3 chunkservers, " + gateways.size()
            + " gateways (one per durability level), separate JVMs from target/vgfs.jar")
        .put("flags", new JsonArray(List.of("--chunk-size", String.valueOf(config.chunkSize()),
            "--replication", "3", "--trash-retention", "0")))
        .put("gatewayJvmFlags", new JsonArray(config.gatewayJvmFlags()))
        .put("gatewayEnv", new JsonArray(config.gatewayEnv()))
        .put("chunkserverJvmFlags", new JsonArray(config.chunkserverJvmFlags()))
        .put("masterJvmFlags", new JsonArray(config.masterJvmFlags()))
        .put("vgfsFlags", new JsonArray(config.vgfsFlags()))
        .put("gateways", gw)
        .put("clientDurability", "VgfsClientOptions.setDurability(SYNC|BUFFERED) per level")
        .put("clients", config.concurrency() + " VgfsClient instances, one event-loop context each")
        .put("httpClient", config.httpClient().equals("jdk") ? "java.net.http.HttpClient, HTTP/1.1"
            : "Vert.x HttpClient, HTTP/1.1, its own non-clustered Vert.x")
        .put("clusterInfo", status);
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
    if (httpVertx != null) {
      try {
        httpVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing anyway
      }
    }
    if (node != null) {
      try {
        node.vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        BenchLog.info("closing the bench JVM's cluster node: %s", e);
      }
    }
    processes.close();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
  }
}
