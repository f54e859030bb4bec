package io.vgfs.launcher;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.spi.merge.DiscardMergePolicy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the clustered Vert.x instance of a process: Hazelcast with TCP/IP join (multicast is off:
 * it is unavailable on many networks and joins other people's clusters), bound to one interface.
 * Masters are Hazelcast data members and hold the metadata maps; every other role is a lite
 * member, so adding chunkservers or gateways never moves metadata partitions.
 */
public final class Cluster {

  private static final Pattern MEMBER = Pattern.compile("([^:,]+)(?::(\\d+)(?:-(\\d+))?)?");

  private Cluster() {
  }

  /**
   * A started clustered Vert.x and its Hazelcast instance.
   *
   * @param ownsHazelcast whether {@link #close()} must shut Hazelcast down after Vert.x (lite
   *                      members start Hazelcast themselves, see {@link #start})
   */
  public record Node(Vertx vertx, HazelcastInstance hazelcast, HazelcastClusterManager manager,
                     boolean ownsHazelcast) {

    /** Leaves the cluster: closes Vert.x, then Hazelcast. */
    public Future<Void> close() {
      return vertx.close().eventually(() -> {
        if (ownsHazelcast && hazelcast.getLifecycleService().isRunning()) {
          Thread t = new Thread(hazelcast::shutdown, "vgfs-hazelcast-shutdown");
          t.start();
        }
        return Future.succeededFuture();
      });
    }

    public String nodeId() {
      return manager.getNodeId();
    }

    public List<String> members() {
      List<String> out = new ArrayList<>();
      hazelcast.getCluster().getMembers().forEach(m -> out.add(m.getAddress().getHost() + ":"
          + m.getAddress().getPort() + (m.isLiteMember() ? "(lite)" : "")));
      return out;
    }
  }

  /**
   * Starts a clustered Vert.x; {@code dataMember} for masters. A lite member (every other role)
   * first waits until a master is in the cluster: Vert.x keeps its event-bus subscriptions in
   * Hazelcast maps, and with only lite members there is nowhere to keep them. So chunkservers and
   * gateways may be started before the masters and wait for them.
   */
  public static Future<Node> start(Settings settings, boolean dataMember) {
    Config config = hazelcastConfig(settings, dataMember);
    if (dataMember) {
      return start(settings, new HazelcastClusterManager(config), false);
    }
    // What HazelcastClusterManager does when it creates the instance itself.
    config.getMemberAttributeConfig().setAttribute("__vertx.nodeId",
        java.util.UUID.randomUUID().toString());
    java.util.concurrent.CompletableFuture<HazelcastInstance> joined =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          HazelcastInstance hz = com.hazelcast.core.Hazelcast.newHazelcastInstance(config);
          boolean logged = false;
          while (hz.getCluster().getMembers().stream().allMatch(m -> m.isLiteMember())) {
            if (!logged) {
              org.slf4j.LoggerFactory.getLogger(Cluster.class)
                  .info("waiting for a master to join the cluster");
              logged = true;
            }
            try {
              Thread.sleep(200);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              hz.shutdown();
              throw new IllegalStateException("interrupted while waiting for a master");
            }
          }
          return hz;
        });
    return Future.fromCompletionStage(joined)
        .compose(hz -> {
          HazelcastClusterManager manager = new HazelcastClusterManager(hz);
          return withJoinTimeout(hz, start(settings, manager, true))
              .onSuccess(node -> SubscriptionRepublisher.install(hz, manager))
              .recover(t -> Future.fromCompletionStage(
                      java.util.concurrent.CompletableFuture.runAsync(hz::shutdown))
                  .transform(ar -> Future.<Node>failedFuture(t)));
        });
  }

  /** How long a lite member may take to start its clustered Vert.x before it starts over. */
  static final long JOIN_TIMEOUT_SECONDS = 30;

  // Seen on a saturated host: two lite members that joined at the same moment suspected each
  // other, never connected, and every cluster-wide call of the newer one (creating a map proxy
  // asks every member) waited for minutes. A fresh Hazelcast instance (new member, new
  // connections) joins normally, so give up on this one; the caller retries the join.
  private static Future<Node> withJoinTimeout(HazelcastInstance hz, Future<Node> starting) {
    Promise<Node> result = Promise.promise();
    java.util.concurrent.CompletableFuture.delayedExecutor(JOIN_TIMEOUT_SECONDS,
        java.util.concurrent.TimeUnit.SECONDS).execute(() -> {
          if (result.tryFail(new com.hazelcast.core.HazelcastException("joining the cluster did not "
              + "complete within " + JOIN_TIMEOUT_SECONDS + " s"))) {
            hz.shutdown(); // fails the start still under way
          }
        });
    starting.onComplete(ar -> {
      if (ar.succeeded() && !result.tryComplete(ar.result())) {
        ar.result().close(); // completed after the time-out: the caller has moved on
      } else if (ar.failed()) {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  private static Future<Node> start(Settings settings, HazelcastClusterManager manager,
                                    boolean ownsHazelcast) {
    String host = settings.string(Setting.CLUSTER_HOST);
    String publicHost = settings.string(Setting.PUBLIC_HOST);
    EventBusOptions bus = new EventBusOptions().setHost(host).setPort(0);
    if (publicHost != null) {
      bus.setClusterPublicHost(publicHost);
    }
    // Netty's epoll transport, if asked for: buffered large writes gained, durable writes, reads
    // and small files lost (BENCHMARKS.md). Vert.x falls back to NIO where the native library
    // does not load.
    VertxOptions options = new VertxOptions()
        .setPreferNativeTransport(settings.bool(Setting.NATIVE_TRANSPORT))
        .setEventBusOptions(bus)
        .setFileSystemOptions(new FileSystemOptions()
            .setClassPathResolvingEnabled(false)
            .setFileCachingEnabled(false));
    return Vertx.builder().with(options).withClusterManager(manager).buildClustered()
        .map(vertx -> {
          logTransport(vertx, options.getPreferNativeTransport());
          HandshakeWatchdog.watch(manager.getHazelcastInstance());
          return new Node(vertx, manager.getHazelcastInstance(), manager, ownsHazelcast);
        });
  }

  private static void logTransport(Vertx vertx, boolean preferred) {
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Cluster.class);
    if (vertx.isNativeTransportEnabled()) {
      log.info("sockets use the native epoll transport");
    } else if (preferred) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      log.info("sockets use the JDK's NIO transport: the native one is unavailable ({})",
          cause == null ? "unknown cause" : cause.toString());
    }
  }

  static Config hazelcastConfig(Settings settings, boolean dataMember) {
    String file = settings.string(Setting.HAZELCAST_CONFIG);
    Config config;
    if (file != null) {
      try {
        config = Config.loadFromFile(Path.of(file).toFile());
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read Hazelcast config " + file + ": "
            + e.getMessage());
      }
      config.setLiteMember(!dataMember);
      return config;
    }
    config = new Config();
    config.setClusterName(settings.get(Setting.CLUSTER_NAME));
    config.setLiteMember(!dataMember);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // Detect a hung member in seconds, not the default minute (see the README's operations notes).
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "6");
    // A call to a partition whose owner just died is retried until the partition has a new owner;
    // the default pause between retries (500 ms) alone made take-overs after a crash ~1 s slower.
    config.setProperty("hazelcast.invocation.retry.pause.millis", "100");
    // ... and as many more retries, so a call still gives up after about two minutes, as by default.
    config.setProperty("hazelcast.invocation.max.retry.count", "1250");
    // Members cut off by a hiccup rejoin within seconds instead of minutes. Only masters hold
    // data, and a master steps down (and restarts its node) rather than merge its maps.
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "10");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "10");

    NetworkConfig net = config.getNetworkConfig();
    net.setPort(settings.integer(Setting.CLUSTER_PORT)).setPortAutoIncrement(true).setPortCount(100);
    String host = settings.string(Setting.CLUSTER_HOST);
    String publicHost = settings.string(Setting.PUBLIC_HOST);
    if (isIpAddress(host) && !host.equals("0.0.0.0")) {
      net.getInterfaces().setEnabled(true).addInterface(host);
    } else {
      config.setProperty("hazelcast.socket.bind.any", "true");
    }
    if (publicHost != null) {
      net.setPublicAddress(publicHost);
    }
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(joinMembers(settings.get(Setting.JOIN)));

    // What Vert.x itself needs (its default-cluster.xml is replaced by this config).
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    // vgfs metadata: one synchronous backup, stored as bytes. When two partitions of a split
    // cluster merge, the merging side's entries are dropped (its master steps down): with
    // Hazelcast's default (put if absent) a file deleted on the surviving side came back from the
    // other into the maps, and a standby that then loaded them held it for good (found by ChaosIT).
    config.addMapConfig(new MapConfig("vgfs.*").setBackupCount(1).setAsyncBackupCount(0)
        .setInMemoryFormat(InMemoryFormat.BINARY)
        .setMergePolicyConfig(new MergePolicyConfig(DiscardMergePolicy.class.getName(),
            MergePolicyConfig.DEFAULT_BATCH_SIZE)));
    return config;
  }

  /** Expands {@code host:port-port} entries into Hazelcast member strings. */
  static List<String> joinMembers(String join) {
    List<String> out = new ArrayList<>();
    for (String part : join.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      Matcher m = MEMBER.matcher(p);
      if (!m.matches()) {
        throw new IllegalArgumentException("--join: cannot parse '" + p + "'");
      }
      String host = m.group(1);
      if (m.group(2) == null) {
        out.add(host);
      } else if (m.group(3) == null) {
        out.add(host + ":" + m.group(2));
      } else {
        int from = Integer.parseInt(m.group(2));
        int to = Integer.parseInt(m.group(3));
        if (to < from || to - from > 200) {
          throw new IllegalArgumentException("--join: bad port range in '" + p + "'");
        }
        for (int port = from; port <= to; port++) {
          out.add(host + ":" + port);
        }
      }
    }
    return out;
  }

  private static boolean isIpAddress(String host) {
    return host != null && (host.matches("\\d+\\.\\d+\\.\\d+\\.\\d+") || host.contains(":"));
  }
}
