package io.vgfs.it;

import io.vertx.core.Future;
import io.vgfs.chunkserver.ChunkServerVerticle;
import io.vgfs.client.VgfsClient;
import io.vgfs.launcher.Cluster;
import io.vgfs.launcher.Roles;
import io.vgfs.launcher.Setting;
import io.vgfs.launcher.Settings;
import io.vgfs.master.MasterVerticle;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.vgfs.it.TestSupport.await;

/**
 * A real vgfs cluster inside the test JVM: three clustered Vert.x instances on Hazelcast over
 * loopback (a master node that is a data member, a chunkserver node holding N chunkserver
 * verticles, and a gateway node with the HTTP gateway and the event-bus API), real sockets and
 * real directories. Each cluster has its own name and ports, so clusters never meet.
 */
public final class TestCluster implements AutoCloseable {

  private final Path dir;
  private final Settings settings;
  private Cluster.Node masterNode;
  private Cluster.Node serverNode;
  private Cluster.Node gatewayNode;
  private MasterVerticle master;
  private String masterDeployment;
  private final List<ChunkServerVerticle> servers = new ArrayList<>();
  private final List<String> serverDeployments = new ArrayList<>();
  private int httpPort;
  private VgfsClient client;

  private TestCluster(Path dir, Settings settings) {
    this.dir = dir;
    this.settings = settings;
  }

  /** Starts a cluster; {@code extra} settings override the test defaults. */
  public static TestCluster start(Path dir, int chunkservers, Map<Setting, String> extra) {
    int base = freePortRange(10);
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CLUSTER_NAME, "test-" + UUID.randomUUID());
    flags.put(Setting.CLUSTER_PORT, String.valueOf(base));
    flags.put(Setting.JOIN, "127.0.0.1:" + base + "-" + (base + 9));
    flags.put(Setting.HTTP_PORT, "0");
    flags.put(Setting.GATEWAY_INSTANCES, "1");
    flags.put(Setting.CHUNK_SIZE, "1MiB");
    flags.put(Setting.HEARTBEAT_INTERVAL, "500ms");
    flags.putAll(extra);
    TestCluster c = new TestCluster(dir, new Settings(flags, Map.of(), null));
    try {
      c.masterNode = await(Cluster.start(c.settings, true));
      c.startMaster();
      c.serverNode = await(Cluster.start(c.settings, false));
      for (int i = 0; i < chunkservers; i++) {
        c.addChunkServer();
      }
      c.gatewayNode = await(Cluster.start(c.settings, false));
      c.httpPort = await(Roles.gateway(c.gatewayNode.vertx(), c.settings));
      c.client = VgfsClient.create(c.gatewayNode.vertx());
      c.awaitLive(chunkservers);
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  public static TestCluster start(Path dir, int chunkservers) {
    return start(dir, chunkservers, Map.of());
  }

  /** Deploys a master on the master node (after {@link #stopMaster()}); waits until active. */
  public void startMaster() {
    master = new MasterVerticle(Roles.masterOptions(settings, dir.resolve("master")),
        masterNode.hazelcast());
    masterDeployment = await(masterNode.vertx().deployVerticle(master));
    await(master.whenActive());
  }

  public void stopMaster() {
    await(masterNode.vertx().undeploy(masterDeployment));
  }

  /** Adds a chunkserver with a fresh data directory; returns its index. */
  public int addChunkServer() {
    int i = servers.size();
    return startChunkServer(i, dir.resolve("cs-" + i));
  }

  private int startChunkServer(int i, Path data) {
    ChunkServerVerticle cs = new ChunkServerVerticle(Roles.chunkServerOptions(settings, data, 0));
    String id = await(serverNode.vertx().deployVerticle(cs));
    if (i == servers.size()) {
      servers.add(cs);
      serverDeployments.add(id);
    } else {
      servers.set(i, cs);
      serverDeployments.set(i, id);
    }
    return i;
  }

  /** Stops chunkserver {@code i} (its port closes; its data stays on disk). */
  public void stopChunkServer(int i) {
    await(serverNode.vertx().undeploy(serverDeployments.get(i)));
  }

  /** Starts chunkserver {@code i} again on its old data directory. */
  public void restartChunkServer(int i) {
    startChunkServer(i, dir.resolve("cs-" + i));
  }

  public ChunkServerVerticle chunkServer(int i) {
    return servers.get(i);
  }

  public int chunkServers() {
    return servers.size();
  }

  /** Waits until the master sees {@code n} live chunkservers. */
  public void awaitLive(int n) {
    TestSupport.poll(20_000, () -> await(client.clusterStatus())
        .getInteger("liveChunkservers") >= n, "master sees " + n + " live chunkservers");
  }

  public VgfsClient client() {
    return client;
  }

  public int httpPort() {
    return httpPort;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + httpPort + path;
  }

  public Cluster.Node gatewayNode() {
    return gatewayNode;
  }

  /** The node all chunkservers run on (one Vert.x, one worker pool). */
  public Cluster.Node serverNode() {
    return serverNode;
  }

  public MasterVerticle master() {
    return master;
  }

  public Settings settings() {
    return settings;
  }

  @Override
  public void close() {
    for (Cluster.Node n : new Cluster.Node[] {gatewayNode, serverNode, masterNode}) {
      if (n != null) {
        try {
          n.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          // best effort: the next cluster uses other ports and another name
        }
      }
    }
  }

  /** A base port with {@code n} consecutive free ports after it. */
  static int freePortRange(int n) {
    for (int attempt = 0; attempt < 100; attempt++) {
      // Below Linux's ephemeral range (32768 up): an outgoing connection of any process could
      // otherwise take a port of the range between this check and the member binding it.
      int base = ThreadLocalRandom.current().nextInt(10_000, 32_000 - n);
      List<ServerSocket> held = new ArrayList<>();
      try {
        for (int p = base; p < base + n; p++) {
          held.add(new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress()));
        }
        return base;
      } catch (IOException e) {
        // taken: try another base
      } finally {
        for (ServerSocket s : held) {
          try {
            s.close();
          } catch (IOException ignored) {
            // closing a probe socket
          }
        }
      }
    }
    throw new IllegalStateException("no free port range");
  }

  static <T> List<T> all(List<Future<T>> futures) {
    List<T> out = new ArrayList<>();
    futures.forEach(f -> out.add(await(f)));
    return out;
  }
}
